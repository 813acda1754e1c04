"""Schema versions of stored documents and the migrations between them.

Every document carries ``_schema``. When a table's shape changes, its version here goes up
and a migration from the old version is registered; documents are upgraded when read (so old
files keep working at once) and rewritten for good by ``aftersales migrate``.
"""
from __future__ import annotations

from typing import Callable

# table -> current version. A table not listed is at version 1.
VERSIONS: dict[str, int] = {
    "customers": 2,
}

# (table, from_version) -> function(doc) -> doc at from_version + 1
MIGRATIONS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def migration(table: str, from_version: int):
    def register(fn):
        MIGRATIONS[(table, from_version)] = fn
        return fn
    return register


def current(table: str) -> int:
    return VERSIONS.get(table, 1)


def needs_upgrade(table: str, doc: dict) -> bool:
    return doc.get("_schema", 1) < current(table)


def upgrade(table: str, doc: dict) -> dict:
    """Bring ``doc`` to the current version (the caller owns ``doc``; it may be changed)."""
    version = doc.get("_schema", 1)
    while version < current(table):
        step = MIGRATIONS.get((table, version))
        if step is None:
            raise RuntimeError(f"缺少 {table} 从版本 {version} 升级的迁移")
        doc = step(dict(doc))
        version += 1
        doc["_schema"] = version
    return doc


@migration("customers", 1)
def _customers_contacts_list(doc: dict) -> dict:
    """v1 kept one contact as ``contact_name``/``contact_phone``; v2 keeps a list of contacts."""
    name, phone = doc.pop("contact_name", ""), doc.pop("contact_phone", "")
    doc.setdefault("contacts", [{"name": name, "phone": phone}] if (name or phone) else [])
    return doc
