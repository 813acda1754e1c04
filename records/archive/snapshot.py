"""A consistent, read-only snapshot of some tables of a live store, for the yearly archive (10).

As records/core/backup.py takes its snapshot: under the store's write lock no commit is
half-applied, so the shard files of the tables read there, and the audit trail's size seen there,
belong to one commit. Only bytes are read under the lock (writers wait a few milliseconds);
they are parsed after it. The audit trail is append-only: its entries up to that size are read
afterwards, by the offsets each record keeps (``_audit``), and the chain head is the last entry
before that size. Archived files (``<data>/files/<sha256>``) are written before any record names
them and never rewritten, so they are read after the lock too. Nothing in the data folder is
written (a commit interrupted by a crash is finished first, as every reader of the store does).
"""
from __future__ import annotations

import os
from pathlib import Path

import orjson

from records.core import schema
from records.core.audit import AuditTrail
from records.core.files import TEMP_PREFIX
from records.core.store import Store
from records.core.transaction import copy_doc


class Snapshot:
    """The records of ``tables`` as they were at one commit, with the audit trail's size then.

    Reads like a Store (``scan``, ``get``, ``tables``): documents upgraded to their table's
    current schema version, as the app reads them. ``root`` is the live data folder (for
    the archived files, which are never rewritten).
    """

    def __init__(self, root: Path, docs: dict[str, dict[int, dict]], audit_path: Path, audit_size: int):
        self.root = root
        self._docs = docs
        self.audit_path = audit_path
        self.audit_size = audit_size

    @property
    def tables(self) -> list[str]:
        return sorted(self._docs)

    def scan(self, table: str):
        return iter(self._docs.get(table, {}).values())

    def get(self, table: str, record_id: int) -> dict | None:
        doc = self._docs.get(table, {}).get(int(record_id))
        return copy_doc(doc) if doc is not None else None

    def entries(self, offsets: list[int]) -> list[dict]:
        """The audit entries at ``offsets`` (those a record keeps), as they were at the snapshot."""
        return AuditTrail(self.audit_path).read_at(sorted(o for o in set(offsets) if o < self.audit_size))

    def head(self) -> dict:
        """The chain head at the snapshot: the last entry's sequence number and hash."""
        tail = AuditTrail(self.audit_path).tail(upto=self.audit_size)
        return {"seq": tail.seq, "hash": tail.hash, "audit_bytes": self.audit_size}


def existing_tables(store: Store) -> list[str]:
    """The tables the store holds (a folder under ``tables/``)."""
    try:
        return sorted(e.name for e in os.scandir(store.tables_dir) if e.is_dir() and not e.name.startswith("."))
    except FileNotFoundError:
        return []


def take(store: Store, tables: list[str]) -> Snapshot:
    """Read ``tables`` (those that exist) at one commit, under the store's write lock."""
    raw: dict[str, list[bytes]] = {}
    with store.lock.hold():
        store.recover()  # finish a commit a crash interrupted (the store's own rule), nothing more
        audit_size = store.audit.path.stat().st_size if store.audit.path.exists() else 0
        for table in tables:
            folder = store.tables_dir / table
            if not folder.is_dir():
                continue
            names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith((".", TEMP_PREFIX)))
            raw[table] = [(folder / n).read_bytes() for n in names]
    docs: dict[str, dict[int, dict]] = {}
    for table, shards in raw.items():
        out = docs[table] = {}
        for data in shards:
            for key, doc in (orjson.loads(data) if data else {}).get(table, {}).items():
                out[int(key)] = schema.upgrade(table, doc) if schema.needs_upgrade(table, doc) else doc
    return Snapshot(store.root, docs, store.audit.path, audit_size)
