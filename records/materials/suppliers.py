"""供应商: the makers of bought-in and outsourced parts and their contacts (3.1 「通知外购件生产厂家」).

One document per supplier in table ``suppliers``, with the warranty of its parts (``warranties``,
records.materials.warranty: months per part, 3.1). A supplier is never deleted (parts, claims and
letters keep naming it); it is marked inactive instead.
"""
from __future__ import annotations

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

from .warranty import normalise_rules

TABLE = "suppliers"


class SupplierError(DomainError):
    pass


def normalise(data: dict) -> dict:
    """Clean and check one supplier's fields; raise SupplierError naming the field."""
    name = (data.get("name") or "").strip()
    if not name:
        raise SupplierError("请输入供应商名称", "name")
    if len(name) > 100:
        raise SupplierError("供应商名称不能超过 100 个字", "name")
    contacts = []
    for c in data.get("contacts") or []:
        cname, phone, email = ((c.get(k) or "").strip() for k in ("name", "phone", "email"))
        if cname or phone or email:
            contacts.append({"name": cname, "phone": phone, "email": email})
    return {"name": name, "address": (data.get("address") or "").strip(), "contacts": contacts,
            "remarks": (data.get("remarks") or "").strip(), "active": bool(data.get("active", True)),
            "warranties": normalise_rules(data.get("warranties"))}


def _clash(docs, name: str, exclude_id: int | None = None) -> dict | None:
    wanted = name.strip().casefold()
    return next((s for s in docs if s["name"].strip().casefold() == wanted and s["id"] != exclude_id), None)


def insert_tx(tx: Transaction, data: dict) -> dict:
    clean = normalise(data)
    clash = _clash(tx.scan(TABLE), clean["name"])
    if clash:
        raise SupplierError(f"供应商已存在：{clash['name']}（编号 {clash['id']}）", "name")
    return tx.insert(TABLE, clean)


def update_tx(tx: Transaction, supplier_id: int, data: dict, expect_rev: int | None = None) -> dict:
    current = tx.require(TABLE, supplier_id)
    clean = normalise({**current, **data})
    clash = _clash(tx.scan(TABLE), clean["name"], exclude_id=supplier_id)
    if clash:
        raise SupplierError(f"供应商已存在：{clash['name']}（编号 {clash['id']}）", "name")
    return tx.update(TABLE, supplier_id, clean, expect_rev=expect_rev)


def get(source: Store | Transaction, supplier_id: int | None) -> dict | None:
    return source.get(TABLE, supplier_id) if supplier_id else None


def all_suppliers(source: Store | Transaction, include_inactive: bool = False) -> list[dict]:
    rows = [s for s in source.scan(TABLE) if include_inactive or s.get("active", True)]
    return sorted(rows, key=lambda s: s["name"])


def choices(source: Store | Transaction, keep: int | None = None) -> list[tuple[int, str]]:
    """(id, name) for a select: the active suppliers, plus ``keep`` (the record's current one)."""
    rows = [(s["id"], s["name"]) for s in all_suppliers(source)]
    if keep and keep not in {i for i, _ in rows}:
        doc = get(source, keep)
        if doc:
            rows.append((keep, doc["name"] + "（停用）"))
    return rows
