"""Named settings stored in the record store: one document per key in table ``parameters``::

    {"key": "some.key", "value": 12, "note": "why it was changed"}

Generic plumbing, no domain words: what the keys mean, their defaults and limits are decided
one layer up (``records.policy``). Every change is one audited transaction, so the audit trail
holds each value's before and after, who set it and when (``history``).
"""
from __future__ import annotations

from typing import Iterable

from .store import Store
from .transaction import Transaction

TABLE = "parameters"


def stored(source: Store | Transaction, key: str) -> dict | None:
    """The stored document of ``key`` (from a Store or an open Transaction), read-only, or None."""
    for doc in source.scan(TABLE):
        if doc.get("key") == key:
            return doc
    return None


def get(source: Store | Transaction, key: str, default=None):
    """The stored value of ``key``, or ``default`` when none is stored."""
    doc = stored(source, key)
    return default if doc is None else doc.get("value")


def all_values(source: Store | Transaction) -> dict:
    """Every stored key → value."""
    return {d["key"]: d.get("value") for d in source.scan(TABLE)}


def set_tx(tx: Transaction, key: str, value, note: str = "") -> dict:
    """Store ``value`` for ``key`` inside ``tx`` (the audit entry holds the before and after); the
    same value again writes nothing."""
    doc = stored(tx, key)
    if doc is None:
        return tx.insert(TABLE, {"key": key, "value": value, "note": note})
    if doc.get("value") == value:
        return doc  # unchanged: nothing to record
    return tx.update(TABLE, doc["id"], {"value": value, "note": note}, note=note)


def set_value(store: Store, key: str, value, actor: str, note: str = "") -> dict:
    """Store ``value`` for ``key`` in a transaction of its own, audited under ``actor``."""
    with store.transaction(actor) as tx:
        return set_tx(tx, key, value, note)


def history(store: Store, key: str) -> list[dict]:
    """The changes of ``key``, oldest first: ``{"at", "by", "before", "after", "note"}``."""
    doc = stored(store, key)
    if doc is None:
        return []
    return list(_changes(store.history(TABLE, doc["id"])))


def _changes(entries: Iterable[dict]) -> Iterable[dict]:
    for e in entries:
        change = (e.get("changes") or {}).get("value")
        if change is None:
            continue
        before, after = change
        yield {"at": e.get("ts"), "by": e.get("actor"), "before": before, "after": after,
               "note": e.get("note") or ((e.get("changes") or {}).get("note") or [None, ""])[1] or ""}
