"""The record store: TinyDB documents in sharded JSON files, written in locked transactions.

Layout of a data folder::

    tables/<table>/000000.json   TinyDB files, one per 256 ids ({"<table>": {"<id>": {...}}})
    audit.jsonl                  the hash-chained audit trail (records/core/audit.py)
    journal.json                 present only while a commit is being applied
    .lock                        the cross-process write lock

Why shards: plain TinyDB rereads and rewrites one big file for every change (about 1 s at
20,000 case documents). Here a change rewrites one shard of at most 256 documents, and reads
reuse the parsed shard for as long as the file on disk is the same file (checked with a stat on
every read, so another process's write is seen at once).

A commit (``Store.transaction``): under the lock, every changed shard is written to a synced
temp file; then a journal naming those temp files and the audit lines is written atomically —
that is the commit point; then the temp files are renamed over the shards, the audit lines
appended, and the journal removed. A crash before the journal leaves the old data (the temp
files are swept up later); a crash after it is finished by the next writer or at start.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson

from . import schema
from .audit import AuditTrail, VerifyResult
from .errors import RecordNotFound
from .files import FileLock, fsync_dir, remove_temp_files
from .transaction import NO_DOCS, Transaction, copy_doc

SHARD_SIZE = 256


class ShardCache:
    """Parsed shard files, keyed by path and validated by (inode, size, mtime) on every use.

    Writers give every new version of a file a later mtime than the one it replaces
    (files.write_temp), so the key changes with every write even when the inode is reused.
    Each entry also keeps the lowest ``_schema`` of its documents, so scans hand out a shard's
    documents without a per-document version check when none needs upgrading.
    """

    def __init__(self):
        self._entries: dict[Path, tuple[tuple, dict, int]] = {}
        self._lock = threading.Lock()

    def load(self, path: Path) -> tuple[dict, int]:
        """(parsed data, lowest _schema of its documents) of the shard on disk."""
        try:
            st = os.stat(path)  # a hit costs one stat (no open/close: list pages stat ~80 shards)
        except FileNotFoundError:
            return {}, NO_DOCS
        hit = self._entries.get(path)
        if hit and hit[0] == (st.st_ino, st.st_size, st.st_mtime_ns):
            return hit[1], hit[2]
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            return {}, NO_DOCS
        with fh:
            st = os.fstat(fh.fileno())  # the key of the file actually read
            raw = fh.read()
        data = orjson.loads(raw) if raw else {}
        oldest = min((d.get("_schema", 1) for docs in data.values() for d in docs.values()), default=NO_DOCS)
        with self._lock:
            self._entries[path] = ((st.st_ino, st.st_size, st.st_mtime_ns), data, oldest)
        return data, oldest

    def forget(self, path: Path) -> None:
        with self._lock:
            self._entries.pop(path, None)


class Store:
    def __init__(self, data_dir: os.PathLike | str):
        self.root = Path(data_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self.tables_dir = self.root / "tables"
        self.tables_dir.mkdir(exist_ok=True)
        self.journal_path = self.root / "journal.json"
        self.lock = FileLock(self.root / ".lock")
        self.audit = AuditTrail(self.root / "audit.jsonl")
        self.cache = ShardCache()
        # Values derived from the tables (digests, the working calendar), kept for this Store's
        # life and checked against the shards' signatures on use: a new process starts empty.
        self.derived: dict = {}
        with self.lock.hold():
            self.recover()
            # Only what is written under this lock (shards, the journal): other files of the
            # folder (uploads, caches) are written without it and may be mid-write right now.
            remove_temp_files(self.tables_dir)
            remove_temp_files(self.root, recursive=False)

    # --- reading (no lock: every file is replaced atomically) ---------------------------
    def shard_path(self, table: str, record_id: int) -> Path:
        return self.tables_dir / table / f"{record_id // SHARD_SIZE:06d}.json"

    def shard_names(self, table: str) -> list[str]:
        """The file names of the table's shards, in id order."""
        try:
            return sorted(e.name for e in os.scandir(self.tables_dir / table)
                          if e.name.endswith(".json") and not e.name.startswith("."))
        except FileNotFoundError:
            return []

    def shards(self, table: str) -> list[Path]:
        folder = self.tables_dir / table
        return [folder / n for n in self.shard_names(table)]

    def get(self, table: str, record_id: int) -> dict | None:
        """A private copy of one record, or None."""
        data, _ = self.cache.load(self.shard_path(table, int(record_id)))
        doc = data.get(table, {}).get(str(int(record_id)))
        return schema.upgrade(table, copy_doc(doc)) if doc is not None else None

    def require(self, table: str, record_id: int) -> dict:
        doc = self.get(table, record_id)
        if doc is None:
            raise RecordNotFound(f"{table} #{record_id} 不存在")
        return doc

    def _chunks(self, table: str) -> Iterator[Iterable[dict]]:
        """Per shard, its documents at the current schema version (shared with the cache).

        A shard whose documents are all current is handed out as it is, so a list page over
        20,000 documents costs one C-level filter pass, not a Python-level check per document.
        """
        current = schema.current(table)
        for path in self.shards(table):
            data, oldest = self.cache.load(path)
            docs = data.get(table, {}).values()
            if oldest >= current:
                yield docs
            else:
                yield [schema.upgrade(table, d) if schema.needs_upgrade(table, d) else d for d in docs]

    def scan(self, table: str) -> Iterator[dict]:
        """Every record, read-only and shared with the cache: callers must not mutate them."""
        for docs in self._chunks(table):
            yield from docs

    def docs(self, table: str, ids: Iterable[int]) -> list[dict]:
        """The records of ``ids`` that exist, in that order: read-only and shared with the cache
        (as ``scan`` gives them), so a list reads only the shards of the rows it shows."""
        current = schema.current(table)
        shards: dict[int, tuple[dict, int]] = {}
        out = []
        for record_id in ids:
            record_id = int(record_id)
            n = record_id // SHARD_SIZE
            if n not in shards:
                data, oldest = self.cache.load(self.tables_dir / table / f"{n:06d}.json")
                shards[n] = (data.get(table, {}), oldest)
            docs, oldest = shards[n]
            doc = docs.get(str(record_id))
            if doc is not None:
                out.append(doc if oldest >= current else schema.upgrade(table, copy_doc(doc)))
        return out

    def find(self, table: str, pred: Callable[[dict], bool] | None = None) -> list[dict]:
        return [copy_doc(d) for d in self.scan(table) if pred is None or pred(d)]

    def first(self, table: str, pred: Callable[[dict], bool]) -> dict | None:
        for doc in self.scan(table):
            if pred(doc):
                return copy_doc(doc)
        return None

    def page(self, table: str, pred=None, key=None, reverse=False, page=1, per_page=50):
        """One page of matching records (copies) and the total count."""
        rows = [d for docs in self._chunks(table) for d in (docs if pred is None else filter(pred, docs))]
        rows.sort(key=key or (lambda d: d["id"]), reverse=reverse)
        start = max(page - 1, 0) * per_page
        return [copy_doc(d) for d in rows[start:start + per_page]], len(rows)

    def count(self, table: str) -> int:
        return sum(len(self.cache.load(p)[0].get(table, {})) for p in self.shards(table))

    def history(self, table: str, record_id: int) -> list[dict]:
        doc = self.get(table, record_id)
        return self.audit.read_at(doc.get("_audit", [])) if doc else []

    def verify(self):
        """The audit chain's check, plus one the chain alone cannot make: entries cut off the
        end of the trail (a shorter chain is still a valid chain), found because every record
        keeps the offsets of its own entries."""
        result = self.audit.verify()
        if not result.ok:
            return result
        size = self.audit.path.stat().st_size if self.audit.path.exists() else 0
        for table_dir in sorted(p for p in self.tables_dir.iterdir() if p.is_dir()):
            for doc in self.scan(table_dir.name):
                offsets = doc.get("_audit") or [0]
                if offsets[-1] >= size:
                    return VerifyResult(False, result.entries, result.entries + 1,
                                        f"审计记录末尾被截断：{table_dir.name} #{doc['id']} 的变更记录缺失")
        return result

    # --- writing ------------------------------------------------------------------------
    @contextmanager
    def transaction(self, actor: str):
        """Run changes under the write lock; they commit together when the block ends."""
        with self.lock.hold():
            self.recover()
            tx = Transaction(self, actor)
            yield tx
            tx.commit()

    def insert(self, table: str, doc: dict, actor: str) -> dict:
        with self.transaction(actor) as tx:
            return tx.insert(table, doc)

    def update(self, table: str, record_id: int, changes: dict, actor: str, expect_rev: int | None = None) -> dict:
        with self.transaction(actor) as tx:
            return tx.update(table, record_id, changes, expect_rev=expect_rev)

    def recover(self) -> None:
        """Finish a commit whose journal was written (called with the lock held)."""
        if not self.journal_path.exists():
            return
        journal = orjson.loads(self.journal_path.read_bytes())
        dirs = set()
        for tmp, final in journal["renames"]:
            tmp_p, final_p = self.root / tmp, self.root / final
            if tmp_p.exists():
                os.replace(tmp_p, final_p)
            self.cache.forget(final_p)
            dirs.add(final_p.parent)
        for rel in journal.get("unlink", ()):  # a roll-back removes shards the commit created
            path = self.root / rel
            if path.exists():
                os.unlink(path)
            self.cache.forget(path)
            dirs.add(path.parent)
        self.audit.append(journal["audit"].encode(), journal["audit_at"])
        for d in dirs:
            fsync_dir(d)
        os.unlink(self.journal_path)
        fsync_dir(self.root)
