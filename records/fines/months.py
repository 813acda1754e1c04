"""Penalty months issued to payroll (处罚台账, 6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9): 财务部 issues a
month — the confirmed amounts per person, with the clause and case of each line — and the
month is frozen from then on.

Table ``penalty_months``, one document per issued month (audited like every record)::

    {"month": "2026-11", "issued_at", "issued_by", "total": int,
     "lines": [register rows as they were at issue time (records/fines/register.py): case, fine
               key, clause, person, department, amounts, rulings, "kind" (line | correction),
               "amount" (what this month pays for the line)]}

A later ruling on an issued line is not written here: the register computes its correction
line in the next open month, and issuing that month freezes the correction too.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from records.calendar.workdays import iso_local, to_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

TABLE = "penalty_months"
ISSUERS = ("finance",)  # 财务部 pays the fines out with the payroll
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
# The register row fields kept in an issued month (the frozen line).
KEPT = ("case_id", "case_number", "key", "clause", "basis", "person", "person_name", "department", "proposed",
        "proposed_at", "confirmed", "waived", "gm_amount", "status", "status_label", "decided_by", "decided_at",
        "reason", "gm_by", "gm_at", "gm_reason", "ruled_on", "final", "kind", "amount")


class MonthError(DomainError):
    pass


def issued(source: Store | Transaction) -> dict[str, dict]:
    """month → its issued document, for every issued month."""
    return {d["month"]: d for d in source.scan(TABLE)}


def check_month(month: str) -> str:
    month = (month or "").strip()
    if not MONTH_RE.match(month):
        raise MonthError("月份格式应为 2026-11", "month")
    return month


def may_issue(user: dict) -> bool:
    return bool(set(user.get("roles") or ()) & set(ISSUERS))


def issue(store: Store, month: str, user: dict, now: datetime,
          lines: Callable[[Transaction], list[dict]]) -> dict:
    """财务部 issues ``month`` (not a month still to come, not one issued already): its lines,
    computed inside the write lock by ``lines(tx)`` (the register rows of the month), are frozen
    into a new ``penalty_months`` document. Returns it."""
    month = check_month(month)
    if not may_issue(user):
        raise MonthError("只有财务部可以发放处罚月份")
    if month > to_local(now).strftime("%Y-%m"):
        raise MonthError(f"{month} 尚未开始，不能发放", "month")
    with store.transaction(user["username"]) as tx:
        if month in issued(tx):
            raise MonthError(f"{month} 已发放，不能再次发放（以后的裁定作为更正计入下一个未发放的月份）", "month")
        kept = [{k: row.get(k) for k in KEPT} for row in lines(tx) if row.get("month") == month and not row.get("frozen")]
        doc = {"month": month, "issued_at": iso_local(now), "issued_by": user["username"],
               "total": sum(r["amount"] or 0 for r in kept), "lines": kept}
        return tx.insert(TABLE, doc)
