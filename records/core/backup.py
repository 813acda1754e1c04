"""Consistent snapshots of a data folder, their chain heads, and the schema migration run.

A snapshot is an independent copy: each data file is cloned (a reflink, ``FICLONE``, where
the file system shares blocks copy-on-write: btrfs, XFS) or copied (``copy_file_range``, else
read and write), never hard-linked, so a file damaged in place in the live folder leaves every
snapshot as it was. It takes about the data folder's size on disk (less with reflinks).
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson

from . import schema
from .audit import AuditTrail
from .files import TEMP_PREFIX, fsync_dir
from .store import Store

SNAPSHOT_RE = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # the names make_backup gives
SKIP_DIRS = {"cache"}  # derived data (records/core/digest.py), rebuilt from the shards
META = "BACKUP.json"   # in each snapshot: where from, when, the chain head
HEAD_SUFFIX = ".head"  # beside each snapshot: ``<dest>/<snapshot>.head``, the chain head alone
FICLONE = 0x40049409   # linux/fs.h: _IOW(0x94, 9, int)


def _not_data(rel: Path) -> bool:
    """Lock files (the store's, the mail outbox's, the cron runs'), the in-flight journal,
    temp files and derived data: nothing a restore needs."""
    return (rel.name.endswith(".lock") or rel.name == "journal.json" or rel.name.startswith(TEMP_PREFIX)
            or rel.parts[0] in SKIP_DIRS)


def copy_file(src: Path, dst: Path, length: int | None = None) -> None:
    """Make ``dst`` an independent copy of ``src`` (its first ``length`` bytes; all when None).

    A whole file is first cloned (FICLONE: shared blocks, copied on write); otherwise, or where
    the file system cannot, ``copy_file_range`` copies in the kernel (reflinking by itself on
    file systems that can), and a plain read/write loop is the last resort. Not synced: the
    caller syncs (``sync_files``), so that copying under the lock is not slowed by fsyncs.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        st = os.fstat(fin.fileno())
        size = st.st_size if length is None else length
        os.fchmod(fout.fileno(), st.st_mode & 0o777)
        if length is None:
            try:
                fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
                return
            except OSError:
                pass
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(fin.fileno(), fout.fileno(), size - done, done, done)
                if n == 0:
                    break
                done += n
        except OSError:
            pass  # e.g. EXDEV on old kernels, EINVAL on some file systems: copy the rest by hand
        while done < size:
            os.lseek(fin.fileno(), done, os.SEEK_SET)
            chunk = fin.read(min(size - done, 1 << 20))
            if not chunk:
                break
            os.lseek(fout.fileno(), done, os.SEEK_SET)
            view = memoryview(chunk)
            while view:
                view = view[os.write(fout.fileno(), view):]
            done += len(chunk)
        os.ftruncate(fout.fileno(), done)


def sync_files(paths, root: Path) -> None:
    """fsync the files, then every folder from theirs up to ``root``."""
    dirs = {root}
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        parent = path.parent
        while parent != root and root in parent.parents:
            dirs.add(parent)
            parent = parent.parent
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        fsync_dir(d)


def head_path(snapshot: Path) -> Path:
    return snapshot.with_name(snapshot.name + HEAD_SUFFIX)


def read_head(path: Path) -> dict:
    """A chain head file (``<snapshot>.head``, or the copy an admin kept from the mail)."""
    head = orjson.loads(path.read_bytes())
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("hash"), str):
        raise ValueError(f"{path} 不是链头文件（应含 seq 与 hash）")
    return head


def make_backup(store: Store, dest: Path, keep: int, stats: dict | None = None) -> tuple[Path, list[Path]]:
    """Snapshot the data folder into ``dest/<timestamp>``; keep the newest ``keep``.

    Under the write lock no commit is half-applied, so the set of files copied is consistent;
    the audit trail is appended in place, so its bytes up to the size seen under the lock are
    copied (after the lock is released). The chain head of the copy (entries, last hash,
    size, time) goes into the snapshot's ``BACKUP.json`` and beside it, ``<timestamp>.head``.
    ``stats``, if given, receives ``lock_s``: how long writers were held up.
    """
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    work = dest / f"{TEMP_PREFIX}{stamp}"
    final = dest / stamp
    copied = []
    audit_size = 0
    try:
        with store.lock.hold():
            locked_at = time.perf_counter()
            store.recover()
            for path in sorted(store.root.rglob("*")):
                rel = path.relative_to(store.root)
                if path.is_dir() or _not_data(rel) or path == store.audit.path:
                    continue
                copy_file(path, work / rel)
                copied.append(work / rel)
            if store.audit.path.exists():
                audit_size = store.audit.path.stat().st_size
        if stats is not None:
            stats["lock_s"] = time.perf_counter() - locked_at
        work.mkdir(parents=True, exist_ok=True)
        audit_copy = work / store.audit.path.name
        if audit_size:
            copy_file(store.audit.path, audit_copy, length=audit_size)
            copied.append(audit_copy)
        tail = AuditTrail(audit_copy).tail()
        head = {"seq": tail.seq, "hash": tail.hash, "audit_bytes": tail.size,
                "taken": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "source": str(store.root.resolve()), "snapshot": stamp}
        (work / META).write_bytes(orjson.dumps({"source": head["source"], "taken": stamp, "audit_bytes": audit_size,
                                                "head": head}))
        copied.append(work / META)
        sync_files(copied, work)
        head_tmp = dest / f"{TEMP_PREFIX}{stamp}{HEAD_SUFFIX}"
        head_tmp.write_bytes(orjson.dumps(head, option=orjson.OPT_INDENT_2) + b"\n")
        sync_files([head_tmp], dest)
        os.replace(work, final)
        os.replace(head_tmp, head_path(final))
        fsync_dir(dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    # Only folders named like our snapshots: anything else in ``dest`` is not ours to delete.
    snaps = sorted(p for p in dest.iterdir() if p.is_dir() and SNAPSHOT_RE.match(p.name))
    removed = snaps[:-keep] if len(snaps) > keep else []
    for old in removed:
        shutil.rmtree(old)
        head_path(old).unlink(missing_ok=True)
    return final, removed


def migrate_all(store: Store) -> dict[str, int]:
    """Rewrite every document below its table's current schema version (audited)."""
    counts: dict[str, int] = {}
    for table_dir in sorted(p for p in store.tables_dir.iterdir() if p.is_dir()):
        table = table_dir.name
        old = list(_stored_ids_below(store, table))  # scan() upgrades on the fly: look at the files
        if not old:
            continue
        with store.transaction("migrate") as tx:
            for record_id in old:
                doc = tx.require(table, record_id)  # upgraded on read
                tx.update(table, record_id, doc, action="migrate",
                          note=f"升级到数据版本 {schema.current(table)}")
        counts[table] = len(old)
    return counts


def _stored_ids_below(store: Store, table: str):
    for path in store.shards(table):
        data, _ = store.cache.load(path)
        for doc in data.get(table, {}).values():
            if doc.get("_schema", 1) < schema.current(table):
                yield doc["id"]
