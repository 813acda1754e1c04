"""顾客单位: the customer units, with their contact people and road distance (5.1.1.3)."""
from __future__ import annotations

import math

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

from . import phones

TABLE = "customers"
FIELDS = ("name", "address", "distance_km", "contacts", "remarks")


class CustomerError(DomainError):
    pass


def normalise(data: dict) -> dict:
    """Clean and check one customer's fields; raise CustomerError naming the field."""
    name = (data.get("name") or "").strip()
    if not name:
        raise CustomerError("请输入单位名称", "name")
    if len(name) > 100:
        raise CustomerError("单位名称不能超过 100 个字", "name")
    try:
        distance = float(data.get("distance_km"))
    except (TypeError, ValueError):
        raise CustomerError("路程必须是数字（公里）", "distance_km") from None
    if math.isnan(distance) or distance < 0 or distance > 20000:
        raise CustomerError("路程必须在 0–20000 公里之间", "distance_km")
    contacts = []
    for c in data.get("contacts") or []:
        cname, phone = (c.get("name") or "").strip(), (c.get("phone") or "").strip()
        if not cname and not phone:
            continue
        if not cname or not phone:
            raise CustomerError("每位联系人都需要姓名和电话", "contacts")
        try:
            phone = phones.normalise(phone, f"联系人 {cname} 的电话")
        except DomainError as exc:
            raise CustomerError(str(exc), "contacts") from None
        contacts.append({"name": cname, "phone": phone, "title": (c.get("title") or "").strip()})
    return {
        "name": name,
        "address": (data.get("address") or "").strip(),
        "distance_km": distance,
        "contacts": contacts,
        "remarks": (data.get("remarks") or "").strip(),
    }


def _clash(docs, name: str, exclude_id: int | None = None) -> dict | None:
    wanted = name.strip().casefold()
    return next((c for c in docs if c["name"].strip().casefold() == wanted and c["id"] != exclude_id), None)


def create_customer(store: Store, data: dict, actor: str) -> dict:
    with store.transaction(actor) as tx:
        return insert_customer(tx, data)


def insert_customer(tx: Transaction, data: dict) -> dict:
    """Check and insert one customer inside an open transaction (also 技质部 creating the unit of
    a call recorded as 待核实, records.cases.steps.unknown)."""
    clean = normalise(data)
    clash = _clash(tx.scan(TABLE), clean["name"])
    if clash:
        raise CustomerError(f"单位名称已存在：{clash['name']}（编号 {clash['id']}）", "name")
    return tx.insert(TABLE, clean)


def update_customer(store: Store, customer_id: int, data: dict, actor: str, expect_rev: int | None = None) -> dict:
    clean = normalise(data)
    with store.transaction(actor) as tx:
        clash = _clash(tx.scan(TABLE), clean["name"], exclude_id=customer_id)
        if clash:
            raise CustomerError(f"单位名称已存在：{clash['name']}（编号 {clash['id']}）", "name")
        return tx.update(TABLE, customer_id, clean, expect_rev=expect_rev)


def by_name(store: Store, name: str) -> dict | None:
    name = name.strip()
    return store.first(TABLE, lambda c: c["name"] == name)


def search(store: Store, q: str = "", page: int = 1, per_page: int = 50):
    q = q.strip().lower()

    def match(c):
        if not q:
            return True
        hay = " ".join([c["name"], c.get("address", ""), c.get("remarks", "")]
                       + [f"{x['name']} {x['phone']}" for x in c.get("contacts", [])]).lower()
        return q in hay

    return store.page(TABLE, match, key=lambda c: c["name"], page=page, per_page=per_page)
