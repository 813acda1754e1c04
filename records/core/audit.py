"""The append-only, hash-chained audit trail (one JSON line per change).

Each entry carries the hash of the one before it, so editing, removing or reordering any
line breaks the chain from that line on; ``verify`` names the first entry where it breaks.
Records keep the byte offsets of their own entries, so a record's history is read with a few
seeks instead of a scan of the whole trail.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import orjson

from .files import StorageError

GENESIS = "0" * 64


def canonical(obj) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def entry_hash(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def diff(before: dict | None, after: dict | None) -> dict:
    """Field-level changes {field: [before, after]}, ignoring storage bookkeeping fields."""
    before, after = before or {}, after or {}
    out = {}
    for key in sorted(set(before) | set(after)):
        if key.startswith("_"):
            continue
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [old, new]
    return out


def link_problem(entry: dict, prev: dict | None, *, selection: bool = False) -> str:
    """'' when ``entry`` holds after ``prev`` (the entry read before it; None: the first), else why.

    The whole trail (``verify``): the first entry links to GENESIS, each next one to the one
    before and follows it in sequence. A ``selection`` of it (a yearly archive's entries): the
    entries run in sequence, and one that directly follows the previous links to it. Every
    entry hashes to its own ``hash`` (its ``prev`` is part of what is hashed).
    """
    prev_seq, prev_hash = (prev["seq"], prev["hash"]) if prev is not None else (0, GENESIS)
    seq = entry.get("seq")
    if selection:
        if prev is not None and seq <= prev_seq:
            return "序号未按顺序排列——记录被调换或重复"
        linked = prev is not None and seq == prev_seq + 1
    else:
        linked = True
    if linked and entry.get("prev") != prev_hash:
        return "与上一条记录的哈希链接不符（记录被删除、插入或调换）"
    if not selection and seq != prev_seq + 1:
        return "序号不连续"
    if entry_hash(entry) != entry.get("hash"):
        return "内容与哈希不符（记录被修改）"
    return ""


@dataclass
class Tail:
    size: int
    seq: int
    hash: str


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_line: int | None = None
    reason: str = ""


class AuditTrail:
    def __init__(self, path: Path):
        self.path = path

    def tail(self, upto: int | None = None) -> Tail:
        """Size, last sequence number and last hash (read from the end of the file; ``upto``: as
        the trail was at that size, e.g. a snapshot's)."""
        try:
            size = os.path.getsize(self.path) if upto is None else upto
        except FileNotFoundError:
            return Tail(0, 0, GENESIS)
        if size == 0:
            return Tail(0, 0, GENESIS)
        with open(self.path, "rb") as fh:
            block = 4096
            pos = size
            buf = b""
            while pos > 0:
                step = min(block, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                stripped = buf.rstrip(b"\n")
                nl = stripped.rfind(b"\n")
                if nl >= 0 or pos == 0:
                    last = orjson.loads(stripped[nl + 1:])
                    return Tail(size, last["seq"], last["hash"])
                block *= 2
        return Tail(0, 0, GENESIS)

    def build(self, tail: Tail, items: list[dict]) -> tuple[bytes, list[int]]:
        """Chain ``items`` after ``tail``: the bytes to append and each entry's offset."""
        prev, seq, offset = tail.hash, tail.seq, tail.size
        chunks, offsets = [], []
        for item in items:
            seq += 1
            entry = {**item, "seq": seq, "prev": prev}
            entry["hash"] = prev = entry_hash(entry)
            line = canonical(entry) + b"\n"
            offsets.append(offset)
            offset += len(line)
            chunks.append(line)
        return b"".join(chunks), offsets

    def append(self, data: bytes, at: int) -> None:
        """Write ``data`` at offset ``at`` and sync.

        Only a commit (or its replay after a crash) calls this; ``at`` is the size the trail
        had under the write lock, so a replay after a torn append rewrites the same bytes
        rather than duplicating them.
        """
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o640)
            try:
                if os.fstat(fd).st_size != at:
                    os.ftruncate(fd, at)
                os.lseek(fd, at, os.SEEK_SET)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise StorageError(f"写入审计记录失败：{exc.strerror or exc}") from exc

    def read_at(self, offsets: list[int]) -> list[dict]:
        out = []
        if not offsets:
            return out
        with open(self.path, "rb") as fh:
            for off in offsets:
                fh.seek(off)
                out.append(orjson.loads(fh.readline()))
        return out

    def __iter__(self):
        if not self.path.exists():
            return
        with open(self.path, "rb") as fh:
            for line in fh:
                yield orjson.loads(line)

    def verify(self, on_entry: Callable[[int, dict], None] | None = None, upto: int | None = None) -> VerifyResult:
        """Walk the chain; report the first line whose hash or link does not hold.

        ``on_entry(offset, entry)`` is called for each entry that holds, in order (the record
        check of records/core/replay.py rebuilds the records in the same pass); ``upto``: stop
        at this byte offset (the trail's size when the records were read).
        """
        prev, count, offset = None, 0, 0
        if not self.path.exists():
            return VerifyResult(True, 0)
        with open(self.path, "rb") as fh:
            for lineno, line in enumerate(fh, start=1):
                if upto is not None and offset >= upto:
                    break
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    return VerifyResult(False, count, lineno, "该行不是有效的 JSON")
                if not isinstance(entry, dict):
                    return VerifyResult(False, count, lineno, "该行不是一条审计记录")
                problem = link_problem(entry, prev)
                if problem:
                    return VerifyResult(False, count, lineno, problem)
                prev = entry
                count += 1
                if on_entry is not None:
                    on_entry(offset, entry)
                offset += len(line)
        return VerifyResult(True, count)
