"""One write of the record store: changes staged under the lock, committed together.

``Store.transaction(actor)`` opens one (records/core/store.py holds the commit protocol's
overview); reads inside it see its own changes; ``commit`` writes the shards through synced
temp files and an atomically written journal (the commit point), and rolls a failure after
that point back through a journal of its own.
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from . import schema
from .audit import diff
from .errors import RecordNotFound, StaleRecord
from .files import StorageError, atomic_write, write_temp

NO_DOCS = 1 << 30  # "lowest schema version" of a shard without documents


def utc_stamp() -> str:
    """The current UTC time as the store stamps documents (milliseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def copy_doc(obj):
    """A JSON-clean deep copy, detached from the caller's (or the cache's) objects."""
    return orjson.loads(orjson.dumps(obj))


class ShardStorage(Storage):
    """TinyDB storage for one shard, reading and writing through the open transaction."""

    def __init__(self, path: Path, tx: "Transaction"):
        self.path, self.tx = path, tx

    def read(self):
        return self.tx._working(self.path)

    def write(self, data) -> None:
        self.tx._stage(self.path, data)



class Transaction:
    """Changes staged under the write lock; see Store.transaction."""

    def __init__(self, store, actor: str):  # store: the records.core.store.Store that opened it
        self.store, self.actor = store, actor
        self.ts = utc_stamp()
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
        return schema.upgrade(table, copy_doc(dict(doc))) if doc is not None else None

    def require(self, table: str, record_id: int) -> dict:
        doc = self.get(table, record_id)
        if doc is None:
            raise RecordNotFound(f"{table} #{record_id} 不存在")
        return doc

    def scan(self, table: str) -> Iterator[dict]:
        """Committed records plus this transaction's own changes (read-only), at the current
        schema version, as ``Store.scan`` gives them."""
        current = schema.current(table)
        for path in self.store.shards(table):
            if path in self._work:
                docs, oldest = self._work[path].get(table, {}).values(), None  # None: check each
            else:
                data, oldest = self.store.cache.load(path)
                docs = data.get(table, {}).values()
            if oldest is not None and oldest >= current:
                yield from docs
            else:
                for doc in docs:
                    yield schema.upgrade(table, doc) if schema.needs_upgrade(table, doc) else doc
        for path in self._staged:  # shards created in this transaction: written at the current version
            if path.parent.name == table and not path.exists():
                yield from self._work[path].get(table, {}).values()

    # changes ---------------------------------------------------------------------
    def _next_id(self, table: str) -> int:
        if table not in self._next_ids:
            shards = self.store.shards(table)
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
        new = copy_doc(new)  # JSON-clean, detached from the caller's objects
        self._table(table, record_id).insert(Document(new, doc_id=record_id))
        self._ops.append((table, record_id, {"action": "create", "changes": diff(None, new)}))
        return copy_doc(new)

    def update(self, table: str, record_id: int, changes: dict, expect_rev: int | None = None,
               action: str = "update", note: str = "") -> dict:
        """Set ``changes`` on a record; refuse if its revision is not ``expect_rev``."""
        current = self.require(table, record_id)
        if expect_rev is not None and int(expect_rev) != current["_rev"]:
            raise StaleRecord(table, record_id, int(expect_rev), current["_rev"])
        new = copy_doc({**current, **{k: v for k, v in changes.items() if not k.startswith("_")}})
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
        store.recover()

    # commit ------------------------------------------------------------------------
    def commit(self) -> None:
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
            store.recover()
        except (OSError, StorageError) as exc:
            try:
                self._roll_back(temps, tail.size, txid)
            except (OSError, StorageError) as exc2:
                # Neither way could be finished now: whichever journal stands is completed by
                # the next writer, so the data is consistent either way.
                raise StorageError(f"写入失败，且未能撤回，将在下次写入时完成：{exc2}") from exc
            raise StorageError(f"写入失败，已撤回，数据保持原样：{getattr(exc, 'strerror', None) or exc}") from exc

