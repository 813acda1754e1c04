"""The warranty of a supplier's parts (3.1 「在保修期内」): months per supplier and part.

Kept in the supplier's document as ``warranties``: ``[{"part_code", "part_name", "months"}]``. A
rule names a part by its code (text: the parts catalogue's code) or by its name/description, or
neither: then it is the supplier's default for its other parts. ``months_for`` picks the rule of
a part: its code first, then its name, then the default.

Counted as the GLOSSARY says: from our product's delivery date, or from the part's receipt into
stock when it was issued from stock as a spare (``start_of``; the caller passes the dates in).
The last day in warranty is the day before the same date ``months`` later (as the product's own
warranty, records.catalog.products.warranty). Plain Python.
"""
from __future__ import annotations

from datetime import date, timedelta

from records.calendar.periods import add_months
from records.core.errors import DomainError

MAX_RULES = 30
MAX_MONTHS = 240
DELIVERY, STOCK = "delivery", "stock"
BASES = {DELIVERY: "自本公司产品交付日起", STOCK: "自备件入库日起（作为备件从库存发出）"}


class WarrantyError(DomainError):
    pass


def within_warranty(months: int, delivered_on: date, failed_on: date) -> tuple[bool, date]:
    """3.1: whether a part that started its warranty on ``delivered_on`` and failed on
    ``failed_on`` is within its ``months`` of warranty, and the last day in warranty."""
    until = add_months(delivered_on, int(months)) - timedelta(days=1)
    return delivered_on <= failed_on <= until, until


def start_of(basis: str, delivered_on: date | None, received_on: date | None) -> date | None:
    """The day the part's warranty starts (GLOSSARY): our product's delivery date, or the part's
    receipt into stock when it was issued from stock as a spare (``basis`` STOCK)."""
    return received_on if basis == STOCK else delivered_on


def _month_count(value, index: int) -> int:
    try:
        months = int(str(value).strip())
    except (TypeError, ValueError):
        raise WarrantyError(f"第 {index} 行：保修期请输入整月数", "warranties") from None
    if not 1 <= months <= MAX_MONTHS:
        raise WarrantyError(f"第 {index} 行：保修期必须在 1–{MAX_MONTHS} 个月之间", "warranties")
    return months


def normalise_rules(rows) -> list[dict]:
    """The warranty rules of a supplier, checked: blank rows dropped, one rule per part, at
    most one default rule (no part named)."""
    out, seen = [], set()
    for index, row in enumerate(rows or [], 1):
        code = (row.get("part_code") or "").strip()
        name = (row.get("part_name") or "").strip()
        months = row.get("months")
        if not code and not name and months in (None, ""):
            continue
        if len(code) > 60 or len(name) > 100:
            raise WarrantyError(f"第 {index} 行：零部件代号不能超过 60 个字，名称不能超过 100 个字", "warranties")
        key = (code.casefold(), "" if code else name.casefold())
        if key in seen:
            raise WarrantyError(f"第 {index} 行：同一零部件的保修期重复", "warranties")
        seen.add(key)
        out.append({"part_code": code, "part_name": name, "months": _month_count(months, index)})
    if len(out) > MAX_RULES:
        raise WarrantyError(f"保修期最多 {MAX_RULES} 行", "warranties")
    return out


def rule_for(supplier: dict, part_code: str = "", part_text: str = "") -> dict | None:
    """The supplier's warranty rule of a part: by its code, else its name, else the default."""
    rules = supplier.get("warranties") or []
    code, text = (part_code or "").strip().casefold(), (part_text or "").strip().casefold()
    if code:
        found = next((r for r in rules if r["part_code"] and r["part_code"].casefold() == code), None)
        if found:
            return found
    if text:
        found = next((r for r in rules if not r["part_code"] and r["part_name"]
                      and r["part_name"].casefold() == text), None)
        if found:
            return found
    return next((r for r in rules if not r["part_code"] and not r["part_name"]), None)


def months_for(supplier: dict, part_code: str = "", part_text: str = "") -> int | None:
    rule = rule_for(supplier, part_code, part_text)
    return rule["months"] if rule else None


def assess(supplier: dict, part_code: str, part_text: str, basis: str, start: date | None,
           failed_on: date | None) -> dict:
    """The warranty of a failed part, in words and dates (3.1): {months, basis, start, until,
    within}; raises WarrantyError (field named) when something needed is missing."""
    if basis not in BASES:
        raise WarrantyError("请选择保修期的起算依据", "warranty_basis")
    if start is None:
        raise WarrantyError("请填写保修期起算日（产品交付日或备件入库日）", "warranty_start")
    if failed_on is None:
        raise WarrantyError("请填写故障日期", "failed_on")
    if failed_on < start:
        raise WarrantyError("故障日期不能早于保修期起算日", "failed_on")
    months = months_for(supplier, part_code, part_text)
    if months is None:
        raise WarrantyError(f"供应商 {supplier.get('name', '')} 未设定该零部件的保修期：请先在供应商页面填写", "part_code")
    within, until = within_warranty(months, start, failed_on)
    return {"months": months, "basis": basis, "start": start.isoformat(), "until": until.isoformat(),
            "failed_on": failed_on.isoformat(), "within": within}
