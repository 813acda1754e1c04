"""The record store: TinyDB documents in sharded JSON files, written in locked transactions.

Layout of a data folder::

    tables/<table>/000000.json   TinyDB files, one per 256 ids ({"<table>": {"<id>": {...}}})
    audit.jsonl                  the hash-chained audit trail (records/audit.py)
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
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from . import schema
from .audit import AuditTrail, VerifyResult, diff
from .files import FileLock, StorageError, atomic_write, fsync_dir, remove_temp_files, write_temp

SHARD_SIZE = 256
NO_DOCS = 1 << 30  # "lowest schema version" of a shard without documents


class RecordNotFound(LookupError):
    pass


class StaleRecord(RuntimeError):
    """The record changed since the user loaded it (optimistic concurrency)."""

    def __init__(self, table: str, record_id: int, expected: int, actual: int):
        super().__init__(f"{table} #{record_id} 已被他人修改（版本 {expected} → {actual}）")
        self.table, self.record_id, self.expected, self.actual = table, record_id, expected, actual


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _copy(obj):
    return orjson.loads(orjson.dumps(obj))


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


class ShardStorage(Storage):
    """TinyDB storage for one shard, reading and writing through the open transaction."""

    def __init__(self, path: Path, tx: "Transaction"):
        self.path, self.tx = path, tx

    def read(self):
        return self.tx._working(self.path)

    def write(self, data) -> None:
        self.tx._stage(self.path, data)


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
        with self.lock.hold():
            self._recover()
            # Only what is written under this lock (shards, the journal): other files of the
            # folder (uploads, caches) are written without it and may be mid-write right now.
            remove_temp_files(self.tables_dir)
            remove_temp_files(self.root, recursive=False)

    # --- reading (no lock: every file is replaced atomically) ---------------------------
    def shard_path(self, table: str, record_id: int) -> Path:
        return self.tables_dir / table / f"{record_id // SHARD_SIZE:06d}.json"

    def _shards(self, table: str) -> list[Path]:
        folder = self.tables_dir / table
        try:
            names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".json") and not e.name.startswith("."))
        except FileNotFoundError:
            return []
        return [folder / n for n in names]

    def get(self, table: str, record_id: int) -> dict | None:
        """A private copy of one record, or None."""
        data, _ = self.cache.load(self.shard_path(table, int(record_id)))
        doc = data.get(table, {}).get(str(int(record_id)))
        return schema.upgrade(table, _copy(doc)) if doc is not None else None

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
        for path in self._shards(table):
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

    def find(self, table: str, pred: Callable[[dict], bool] | None = None) -> list[dict]:
        return [_copy(d) for d in self.scan(table) if pred is None or pred(d)]

    def first(self, table: str, pred: Callable[[dict], bool]) -> dict | None:
        for doc in self.scan(table):
            if pred(doc):
                return _copy(doc)
        return None

    def page(self, table: str, pred=None, key=None, reverse=False, page=1, per_page=50):
        """One page of matching records (copies) and the total count."""
        rows = [d for docs in self._chunks(table) for d in (docs if pred is None else filter(pred, docs))]
        rows.sort(key=key or (lambda d: d["id"]), reverse=reverse)
        start = max(page - 1, 0) * per_page
        return [_copy(d) for d in rows[start:start + per_page]], len(rows)

    def count(self, table: str) -> int:
        return sum(len(self.cache.load(p)[0].get(table, {})) for p in self._shards(table))

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
            self._recover()
            tx = Transaction(self, actor)
            yield tx
            tx._commit()

    def insert(self, table: str, doc: dict, actor: str) -> dict:
        with self.transaction(actor) as tx:
            return tx.insert(table, doc)

    def update(self, table: str, record_id: int, changes: dict, actor: str, expect_rev: int | None = None) -> dict:
        with self.transaction(actor) as tx:
            return tx.update(table, record_id, changes, expect_rev=expect_rev)

    def _recover(self) -> None:
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


class Transaction:
    """Changes staged under the write lock; see Store.transaction."""

    def __init__(self, store: Store, actor: str):
        self.store, self.actor = store, actor
        self.ts = _now()
        self._work: dict[Path, dict] = {}  # private, mutable copies of the shards touched
        self._staged: set[Path] = set()
        self._ops: list[tuple[str, int, dict]] = []  # (table, id, audit item)
        self._next_ids: dict[str, int] = {}
        self._old_raw: dict[Path, bytes] = {}  # the shards as they were (b"": did not exist)

    # TinyDB hooks ---------------------------------------------------------------
    def _working(self, path: Path) -> dict:
        if path not in self._work:
            # Parse the file itself, once: going through the cache parsed a shard twice when
            # the cache had none (always so for the shard the last commit replaced), which
            # was a third of a write's CPU time with 256 case documents in a shard.
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                raw = b""
            self._old_raw[path] = raw  # to roll back with (see _roll_back)
            self._work[path] = orjson.loads(raw) if raw else {}
        return self._work[path]

    def _stage(self, path: Path, data: dict) -> None:
        self._work[path] = data
        self._staged.add(path)

    def _table(self, table: str, record_id: int):
        path = self.store.shard_path(table, record_id)
        return TinyDB(path, storage=ShardStorage, tx=self).table(table, cache_size=0)

    # reading inside the transaction sees its own changes -------------------------
    def get(self, table: str, record_id: int) -> dict | None:
        doc = self._table(table, record_id).get(doc_id=int(record_id))
        return schema.upgrade(table, _copy(dict(doc))) if doc is not None else None

    def require(self, table: str, record_id: int) -> dict:
        doc = self.get(table, record_id)
        if doc is None:
            raise RecordNotFound(f"{table} #{record_id} 不存在")
        return doc

    def scan(self, table: str) -> Iterator[dict]:
        """Committed records plus this transaction's own changes (read-only)."""
        for path in self.store._shards(table):
            data = self._work[path] if path in self._work else self.store.cache.load(path)[0]
            yield from data.get(table, {}).values()
        for path in self._staged:  # shards created in this transaction
            if path.parent.name == table and not path.exists():
                yield from self._work[path].get(table, {}).values()

    # changes ---------------------------------------------------------------------
    def _next_id(self, table: str) -> int:
        if table not in self._next_ids:
            shards = self.store._shards(table)
            last = 0
            if shards:
                docs = self._working(shards[-1]).get(table, {})
                last = max((int(k) for k in docs), default=0)
            self._next_ids[table] = last + 1
        nid = self._next_ids[table]
        self._next_ids[table] += 1
        return nid

    def insert(self, table: str, doc: dict) -> dict:
        record_id = self._next_id(table)
        new = {k: v for k, v in doc.items() if not k.startswith("_")}
        new.update(id=record_id, _rev=1, _schema=schema.current(table), _created=self.ts,
                   _updated=self.ts, _by=self.actor, _audit=[])
        new = _copy(new)  # JSON-clean, detached from the caller's objects
        self._table(table, record_id).insert(Document(new, doc_id=record_id))
        self._ops.append((table, record_id, {"action": "create", "changes": diff(None, new)}))
        return _copy(new)

    def update(self, table: str, record_id: int, changes: dict, expect_rev: int | None = None,
               action: str = "update", note: str = "") -> dict:
        """Set ``changes`` on a record; refuse if its revision is not ``expect_rev``."""
        current = self.require(table, record_id)
        if expect_rev is not None and int(expect_rev) != current["_rev"]:
            raise StaleRecord(table, record_id, int(expect_rev), current["_rev"])
        new = _copy({**current, **{k: v for k, v in changes.items() if not k.startswith("_")}})
        changed = diff(current, new)
        if not changed and not note:
            return current
        new.update(_rev=current["_rev"] + 1, _updated=self.ts, _by=self.actor, _schema=schema.current(table))

        def replace(doc):
            doc.clear()
            doc.update(new)

        self._table(table, record_id).update(replace, doc_ids=[int(record_id)])
        item = {"action": action, "changes": changed}
        if note:
            item["note"] = note
        self._ops.append((table, record_id, item))
        return new

    def touch(self, table: str, record_id: int, fields: dict) -> None:
        """Set bookkeeping fields (names start with '_'): no revision, no audit entry."""
        assert all(k.startswith("_") for k in fields), "touch() only sets bookkeeping fields"
        self._table(table, record_id).update(lambda doc: doc.update(fields), doc_ids=[int(record_id)])

    def event(self, table: str, record_id: int, action: str, note: str = "", data: dict | None = None) -> None:
        """Audit something that happened to a record without changing it (e.g. a login)."""
        item = {"action": action, "changes": {}, "note": note}
        if data:
            item["data"] = data
        self._ops.append((table, record_id, item))
        path = self.store.shard_path(table, record_id)  # the record keeps the entry's offset
        self._stage(path, self._working(path))

    def _roll_back(self, temps: list, audit_at: int, txid: str) -> None:
        """Undo a commit that failed after its commit point, by the commit mechanism itself.

        The old shard contents go to synced temp files; a journal that puts them back (and
        cuts the audit trail to its old length) then replaces the commit's journal atomically,
        and is applied. A crash anywhere in here leaves one complete journal: the commit's or
        the roll-back's, which the next writer finishes.
        """
        store = self.store
        renames, unlinks = [], []
        for _, path in temps:
            old = self._old_raw.get(path, b"")
            if old:
                renames.append([str(write_temp(path, old, tag=f"rb-{txid}").relative_to(store.root)),
                                str(path.relative_to(store.root))])
            else:
                unlinks.append(str(path.relative_to(store.root)))
        atomic_write(store.journal_path, orjson.dumps(
            {"renames": renames, "unlink": unlinks, "audit_at": audit_at, "audit": ""}))
        for tmp, _ in temps:  # the commit's own temp files, if not renamed yet
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        store._recover()

    # commit ------------------------------------------------------------------------
    def _commit(self) -> None:
        if not self._staged:
            return
        store = self.store
        tail = store.audit.tail()
        items = [{"ts": self.ts, "actor": self.actor, "table": t, "id": i, **item} for t, i, item in self._ops]
        audit_bytes, offsets = store.audit.build(tail, items)
        for (table, record_id, _), offset in zip(self._ops, offsets):
            doc = self._work[store.shard_path(table, record_id)][table][str(record_id)]
            doc.setdefault("_audit", []).append(offset)

        txid = uuid.uuid4().hex[:12]
        temps: list[tuple[Path, Path]] = []  # (temp file, shard it replaces)
        try:
            for path in sorted(self._staged):
                temps.append((write_temp(path, orjson.dumps(self._work[path]), tag=txid), path))
            journal = {
                "renames": [[str(t.relative_to(store.root)), str(p.relative_to(store.root))] for t, p in temps],
                "audit_at": tail.size,
                "audit": audit_bytes.decode(),
            }
            atomic_write(store.journal_path, orjson.dumps(journal))
        except BaseException:
            # Not committed. If only the folder's fsync after the journal's rename failed, the
            # journal is already in place: withdraw it, or the next writer would replay it
            # (appending its audit lines) after the temp files below are gone.
            try:
                os.unlink(store.journal_path)
            except FileNotFoundError:
                pass
            except OSError as exc:  # the journal stands: keep its temp files, the next writer finishes it
                raise StorageError(f"提交未能撤回，将在下次写入时完成：{exc}") from exc
            for tmp, _ in temps:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            raise
        # Past the commit point. Apply it; if that fails, the write is reported as failed, so
        # roll it back: the old data stays as it was.
        try:
            store._recover()
        except (OSError, StorageError) as exc:
            try:
                self._roll_back(temps, tail.size, txid)
            except (OSError, StorageError) as exc2:
                # Neither way could be finished now: whichever journal stands is completed by
                # the next writer, so the data is consistent either way.
                raise StorageError(f"写入失败，且未能撤回，将在下次写入时完成：{exc2}") from exc
            raise StorageError(f"写入失败，已撤回，数据保持原样：{getattr(exc, 'strerror', None) or exc}") from exc
