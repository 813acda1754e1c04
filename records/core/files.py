"""Durable file primitives: the cross-process lock, the atomic replace, and content-addressed
blobs (a file kept under its SHA-256, written once, never rewritten: ``put_blob`` / ``read_blob``).

Everything that writes the data folder goes through these, so that web workers and cron
scripts never see a half-written file and never interleave their writes.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

TEMP_PREFIX = ".tmp-"


class StorageError(RuntimeError):
    """A write could not be made durable; the old data is left as it was."""


def fsync_dir(path: Path) -> None:
    """Make a rename or unlink inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(final: Path, data: bytes, tag: str = "") -> Path:
    """Write ``data`` to a synced temp file beside ``final`` (not yet renamed).

    The temp file takes the mode of the file it will replace, so a rename keeps the data
    file's permissions as the administrator set them.
    """
    if not final.parent.is_dir():  # a new table's folder: its entry must be durable too
        final.parent.mkdir(parents=True, exist_ok=True)
        fsync_dir(final.parent.parent)
    tmp = final.with_name(f"{TEMP_PREFIX}{final.name}.{os.getpid()}.{tag or threading.get_ident()}")
    try:
        st = os.stat(final)
        mode, old_mtime = st.st_mode & 0o7777, st.st_mtime_ns
    except FileNotFoundError:
        mode, old_mtime = 0o640, 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            # Readers keep parsed files while (inode, size, mtime) stay the same. The kernel
            # reuses a freed inode at once and file times are coarse (a clock tick), so two
            # quick writes could leave an equal key: make each version's mtime strictly later
            # than the one it replaces (writes are serialised by the lock).
            mtime = max(time.time_ns(), old_mtime + 1000)
            os.utime(fd, ns=(mtime, mtime))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)  # umask may have narrowed it
    except OSError as exc:
        _unlink_quietly(tmp)
        raise StorageError(f"写入 {final.name} 失败：{exc.strerror or exc}") from exc
    return tmp


def atomic_write(final: Path, data: bytes) -> None:
    """Replace ``final`` with ``data``: temp file, fsync, rename, fsync of the folder.

    A crash at any instant leaves either the old or the new file. A failure raises
    StorageError and leaves the old file untouched.
    """
    tmp = write_temp(final, data)
    try:
        os.replace(tmp, final)
        fsync_dir(final.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise StorageError(f"替换 {final.name} 失败：{exc.strerror or exc}") from exc


def _blob_path(folder: Path, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("bad sha256")
    return folder / sha256


def put_blob(folder: Path, data: bytes) -> str:
    """Keep ``data`` as ``folder/<sha256>`` (atomically, once: an existing blob is never
    rewritten) and return its SHA-256. A stored blob whose bytes do not match raises StorageError."""
    digest = hashlib.sha256(data).hexdigest()
    path = _blob_path(folder, digest)
    if not path.exists():
        atomic_write(path, data)
    elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        raise StorageError(f"存储中的文件 {digest[:16]}… 内容与其 SHA-256 不符，请联系管理员")
    return digest


def read_blob(folder: Path, sha256: str) -> bytes:
    """The exact bytes kept under ``sha256``; StorageError if they no longer match it."""
    data = _blob_path(folder, sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise StorageError(f"文件 {sha256[:16]}… 校验失败（SHA-256 不符），文件可能已被改动，请联系管理员")
    return data


def remove_temp_files(root: Path, recursive: bool = True) -> list[Path]:
    """Delete temp files a crashed writer left behind (call with the lock their writers hold)."""
    removed = []
    for tmp in (root.rglob if recursive else root.glob)(f"{TEMP_PREFIX}*"):
        if tmp.is_file():
            _unlink_quietly(tmp)
            removed.append(tmp)
    return removed


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


class FileLock:
    """An exclusive lock across processes (flock on a lock file).

    Each acquisition opens its own file description, so threads of one web worker exclude
    each other as well as other processes. The kernel drops the lock when a holder dies,
    even by SIGKILL.
    """

    def __init__(self, path: Path):
        self.path = path

    @contextmanager
    def hold(self, blocking: bool = True):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
            try:
                fcntl.flock(fd, flags)
            except BlockingIOError:
                raise LockBusy(str(self.path)) from None
            yield
        finally:
            os.close(fd)  # closing releases the flock


class LockBusy(RuntimeError):
    """Another process holds the lock (non-blocking acquisition)."""
