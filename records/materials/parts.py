"""备件及服务材料目录 (3.1 技质部「及时采购售后服务所需材料」; 5.2.4 「具体价格由公司财务部门提供」).

One document per part in table ``parts``::

    {"code": "PWR-24V", "name": "电源模块", "spec": "24V 10A", "unit": "件", "source": "bought_in",
     "supplier_id": 3 | None, "cost": 820.0 | None, "cost_basis": "receipt" | "set" | "",
     "sale_price": 1200.0 | None, "priced_by": "finance", "priced_at": "2026-11-27T10:00",
     "min_stock": 2, "retired": False}

``code`` is the key people type (unique, case-insensitive, never changed once stock moved under
it); a part is never deleted, it is retired (records keep naming it). The cost comes from the
last accepted receipt (records.materials.stock.receipt_tx) or is set by 技质部; the sale price is
set by 财务部 only (5.2.4), and a quote line picked from the catalogue starts from it.
"""
from __future__ import annotations

import re
from datetime import datetime

from records.calendar.workdays import iso_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

from . import suppliers

TABLE = "parts"

SOURCES = {"own": "自制", "bought_in": "外购", "outsourced": "外协"}
# Who keeps the catalogue (技质部, 3.1) and who prices the parts (财务部, 5.2.4).
EDITORS = ("tq_engineer", "tq_manager")
PRICERS = ("finance",)
MENU_ROLES = (*EDITORS, *PRICERS, "technician")  # the menu 「物料」 (a technician: his own kit)
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
MAX_MONEY = 100_000_000


class PartError(DomainError):
    pass


def money(value, field: str, label: str, required: bool = False) -> float | None:
    """An amount in 元 (two decimals, not negative), or None when blank and not ``required``."""
    if value is None or str(value).strip() == "":
        if required:
            raise PartError(f"请填写{label}", field)
        return None
    try:
        amount = round(float(str(value).strip().replace(",", "").lstrip("¥￥")), 2)
    except ValueError:
        raise PartError(f"{label}必须是数字（元）", field) from None
    if amount != amount or amount < 0 or amount > MAX_MONEY:
        raise PartError(f"{label}必须是不小于 0 的金额", field)
    return amount


def clean_code(code) -> str:
    return str(code or "").strip().upper()


def normalise(source: Store | Transaction, data: dict) -> dict:
    """Check one part's catalogue fields; raise PartError naming the field."""
    code = clean_code(data.get("code"))
    if not code:
        raise PartError("请输入物料编码", "code")
    if not CODE_RE.match(code):
        raise PartError("物料编码只能由字母、数字和 . _ / - 组成，最多 40 个字符", "code")
    name = (data.get("name") or "").strip()
    if not name:
        raise PartError("请输入物料名称", "name")
    if len(name) > 100:
        raise PartError("物料名称不能超过 100 个字", "name")
    spec = (data.get("spec") or "").strip()
    if len(spec) > 100:
        raise PartError("型号规格不能超过 100 个字", "spec")
    unit = (data.get("unit") or "").strip() or "件"
    if len(unit) > 10:
        raise PartError("单位不能超过 10 个字", "unit")
    src = data.get("source") or ""
    if src not in SOURCES:
        raise PartError("请选择来源（自制、外购或外协）", "source")
    supplier_id = int(data.get("supplier_id") or 0) or None
    if supplier_id and suppliers.get(source, supplier_id) is None:
        raise PartError("请从供应商列表中选择", "supplier_id")
    if src == "own":
        supplier_id = None
    try:
        min_stock = int(str(data.get("min_stock") if data.get("min_stock") is not None else 0).strip() or 0)
    except ValueError:
        raise PartError("最低库存必须是整数", "min_stock") from None
    if min_stock < 0 or min_stock > 99_999:
        raise PartError("最低库存必须在 0—99999 之间", "min_stock")
    return {"code": code, "name": name, "spec": spec, "unit": unit, "source": src, "supplier_id": supplier_id,
            "min_stock": min_stock}


def _clash(source, code: str, exclude_id: int | None = None) -> dict | None:
    return next((p for p in source.scan(TABLE) if p["code"] == code and p["id"] != exclude_id), None)


def insert_tx(tx: Transaction, data: dict) -> dict:
    """3.1: a new part or service material in the catalogue (技质部), optionally with its cost."""
    clean = normalise(tx, data)
    clash = _clash(tx, clean["code"])
    if clash:
        raise PartError(f"物料编码已存在：{clash['code']} {clash['name']}", "code")
    cost = money(data.get("cost"), "cost", "成本")
    return tx.insert(TABLE, {**clean, "cost": cost, "cost_basis": "set" if cost is not None else "",
                             "sale_price": None, "priced_by": None, "priced_at": None, "retired": False})


def update_tx(tx: Transaction, part_id: int, data: dict, expect_rev: int | None = None) -> dict:
    """3.1: correct a part's catalogue fields (技质部); a code under which stock moved stays."""
    current = tx.require(TABLE, part_id)
    clean = normalise(tx, {**current, **data})
    if clean["code"] != current["code"]:
        if _clash(tx, clean["code"], exclude_id=part_id):
            raise PartError(f"物料编码已存在：{clean['code']}", "code")
        if any(m.get("part_code") == current["code"] for m in tx.scan("stock_moves")):
            raise PartError("该物料已有出入库记录，编码不能再修改", "code")
    changes = dict(clean)
    if "cost" in data:
        cost = money(data.get("cost"), "cost", "成本")
        if cost != current.get("cost"):
            changes.update(cost=cost, cost_basis="set" if cost is not None else "")
    return tx.update(TABLE, part_id, changes, expect_rev=expect_rev)


def set_sale_price_tx(tx: Transaction, part_id: int, price, by: str, now: datetime,
                      expect_rev: int | None = None) -> dict:
    """5.2.4: 财务部 sets the part's sale price (具体价格由公司财务部门提供)."""
    tx.require(TABLE, part_id)
    amount = money(price, "sale_price", "销售价格", required=True)
    return tx.update(TABLE, part_id, {"sale_price": amount, "priced_by": by,
                                      "priced_at": iso_local(now)},
                     expect_rev=expect_rev, note=f"财务部定价 {amount:.2f} 元（5.2.4）")


def set_cost_from_receipt_tx(tx: Transaction, code: str, unit_cost: float) -> None:
    """The cost of a part is the unit cost of its last accepted receipt (3.1)."""
    part = get_by_code(tx, code)
    if part and unit_cost is not None and (part.get("cost") != unit_cost or part.get("cost_basis") != "receipt"):
        tx.update(TABLE, part["id"], {"cost": unit_cost, "cost_basis": "receipt"})


def retire_tx(tx: Transaction, part_id: int, retired: bool = True) -> dict:
    """Retire (or restore) a part: never deleted, no longer offered for new records."""
    tx.require(TABLE, part_id)
    return tx.update(TABLE, part_id, {"retired": bool(retired)}, note="停用物料" if retired else "恢复物料")


def get(source: Store | Transaction, part_id: int | None) -> dict | None:
    return source.get(TABLE, part_id) if part_id else None


def get_by_code(source: Store | Transaction, code: str | None) -> dict | None:
    """The part whose code is ``code`` (as people type it: spaces and case do not matter), or None."""
    wanted = clean_code(code)
    if not wanted:
        return None
    doc = next((p for p in source.scan(TABLE) if p["code"] == wanted), None)
    return dict(doc) if doc else None


def all_parts(source: Store | Transaction, include_retired: bool = False) -> list[dict]:
    rows = [p for p in source.scan(TABLE) if include_retired or not p.get("retired")]
    return sorted(rows, key=lambda p: p["code"])


def search(source: Store | Transaction, q: str = "", src: str = "", include_retired: bool = False) -> list[dict]:
    """The catalogue filtered by a text (code, name, spec) and a source."""
    q = (q or "").strip().casefold()
    return [p for p in all_parts(source, include_retired)
            if (not src or p["source"] == src)
            and (not q or q in p["code"].casefold() or q in p["name"].casefold() or q in p.get("spec", "").casefold())]


def label(part: dict) -> str:
    """A part in one line: 「PWR-24V 电源模块（24V 10A）」."""
    spec = f"（{part['spec']}）" if part.get("spec") else ""
    return f"{part['code']} {part['name']}{spec}" + ("（停用）" if part.get("retired") else "")


def choices(source: Store | Transaction, keep: str | None = None) -> list[tuple[str, str]]:
    """(code, label) for a select: the parts in use, plus ``keep`` (a record's current code)."""
    rows = [(p["code"], label(p)) for p in all_parts(source)]
    if keep and keep not in {c for c, _ in rows}:
        doc = get_by_code(source, keep)
        if doc:
            rows.append((doc["code"], label(doc)))
    return rows


def units(source: Store | Transaction) -> dict[str, str]:
    """code → unit, for every part (retired included)."""
    return {p["code"]: p.get("unit") or "件" for p in source.scan(TABLE)}
