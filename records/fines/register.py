"""The penalty register (处罚台账, GLOSSARY ``penalty_register``): every fine proposal and ruling
across cases (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), per person and month.

Pure over what the caller passes in: the case documents (``case["fines"]``,
records/fines/proposals.py; the store-reading part is records.cases.penalties, a layer above),
the issued months (records/fines/months.py) and the people (``people``: display name and
department, read from the users here).

Months: a line belongs to the month in which its amount became final (its last ruling,
``ledger.ruled_on``), or the first month after it not yet issued. An issued month is frozen:
its rows are the lines as they were at issue time (``frozen``); a later ruling on one of its
lines is a correction line (``kind == "correction"``) in the next open month, for the difference
between the amount issued and the new final amount. A proposal not yet ruled (or referred to
the GM) belongs to no month.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from records.core.store import Store
from records.core.transaction import Transaction
from records.users.accounts import TABLE as USERS
from records.users.accounts import display_name
from records.users.departments import TABLE as DEPARTMENTS

from .ledger import final_amount, ruled_on
from .proposals import fine_amount_text
from .rulings import STATUSES

KINDS = {"line": "处罚", "correction": "更正"}


@dataclass(frozen=True)
class Person:
    name: str
    department: str


def people(source: Store | Transaction) -> dict[str, Person]:
    """username → display name and department name ("" without one), for the register's columns."""
    depts = {d["id"]: d["name"] for d in source.scan(DEPARTMENTS) if not d.get("removed")}
    return {u["username"]: Person(display_name(u), depts.get(u.get("department_id"), ""))
            for u in source.scan(USERS)}


def month_of(iso: str) -> str:
    """"2026-11" of an ISO time ("" for "")."""
    return iso[:7] if iso else ""


def next_month(month: str) -> str:
    year, m = int(month[:4]), int(month[5:7])
    return f"{year + m // 12:04d}-{m % 12 + 1:02d}"


def first_open(month: str, issued: Mapping[str, dict]) -> str:
    """``month`` or the first month after it that is not issued."""
    while month in issued:
        month = next_month(month)
    return month


def line_of(case: dict, fine: dict, who: Mapping[str, Person]) -> dict:
    """One fine of a case as a register row (no month yet): its facts, amounts and rulings."""
    status = fine.get("status") or "proposed"
    person = who.get(fine.get("person") or "")
    final = final_amount(fine)
    return {
        "case_id": case["id"], "case_number": case.get("number") or f"#{case['id']}", "key": fine["key"],
        "clause": fine.get("clause") or "", "basis": fine.get("basis") or "",
        "person": fine.get("person") or "", "person_name": person.name if person else (fine.get("person") or ""),
        "department": person.department if person else "",
        "proposed": fine_amount_text(fine, unit=False), "proposed_at": fine.get("proposed_at") or "",
        "confirmed": fine.get("final_amount") if status == "confirmed" else None,
        "waived": (fine.get("amount") if fine.get("amount") is not None else 0) if status == "waived" else None,
        "gm_amount": fine.get("final_amount") if status == "gm_ruled" else None,
        "status": status, "status_label": STATUSES.get(status, status),
        "decided_by": fine.get("decided_by") or "", "decided_at": fine.get("decided_at") or "",
        "reason": fine.get("reason") or "",
        "gm_by": fine.get("gm_by") or "", "gm_at": fine.get("gm_at") or "", "gm_reason": fine.get("gm_reason") or "",
        "ruled_on": ruled_on(fine) if final is not None else "",
        "final": final, "kind": "line", "amount": None, "month": "", "frozen": False,
    }


def build(cases: Iterable[dict], issued: Mapping[str, dict], who: Mapping[str, Person]) -> list[dict]:
    """Every register row: the frozen rows of the issued months (as issued), the open months'
    lines and corrections, the proposals waiting for a ruling (month "")."""
    frozen: dict[tuple[int, str], list[dict]] = {}
    rows: list[dict] = []
    for month in sorted(issued):
        for row in issued[month].get("lines") or []:
            row = {**row, "month": month, "frozen": True}
            frozen.setdefault((row["case_id"], row["key"]), []).append(row)
            rows.append(row)
    for case in cases:
        for fine in case.get("fines") or []:
            line = line_of(case, fine, who)
            before = frozen.get((case["id"], fine["key"]), [])
            if line["final"] is None:
                if not before:
                    rows.append(line)  # waiting for a ruling (or referred to the GM): no month
                continue
            paid = sum(r["amount"] or 0 for r in before)
            if not before:
                rows.append({**line, "amount": line["final"], "month": first_open(month_of(line["ruled_on"]), issued)})
            elif line["final"] != paid:
                start = max(month_of(line["ruled_on"]), before[-1]["month"])
                rows.append({**line, "kind": "correction", "amount": line["final"] - paid,
                             "month": first_open(start, issued)})
    return rows


def select(rows: Iterable[dict], *, person: str = "", persons: Iterable[str] | None = None, month: str = "",
           clause: str = "", status: str = "") -> list[dict]:
    """The rows matching the filters: one person (username), the people of a department
    (``persons``), a month ("2026-11") or a year ("2026"), a clause, a status (a fine status, or
    "correction" for the correction lines)."""
    wanted = set(persons) if persons is not None else None
    out = []
    for r in rows:
        if person and r["person"] != person:
            continue
        if wanted is not None and r["person"] not in wanted:
            continue
        if month and not (r["month"] == month or (len(month) == 4 and r["month"][:4] == month)):
            continue
        if clause and r["clause"] != clause:
            continue
        if status and not (r["kind"] == status if status == "correction" else r["status"] == status):
            continue
        out.append(r)
    return out


@dataclass
class Total:
    count: int = 0
    amount: int = 0


def totals(rows: Iterable[dict]) -> dict[str, dict]:
    """Totals of the rows that belong to a month: per person per month and per person per year,
    ``{"months": {(person, "2026-11"): Total}, "years": {(person, "2026"): Total}}`` (a
    correction counts as a line, with its difference)."""
    months: dict[tuple[str, str], Total] = {}
    years: dict[tuple[str, str], Total] = {}
    for r in rows:
        if not r["month"]:
            continue
        for table, period in ((months, r["month"]), (years, r["month"][:4])):
            t = table.setdefault((r["person"], period), Total())
            t.count += 1
            t.amount += r["amount"] or 0
    return {"months": dict(sorted(months.items())), "years": dict(sorted(years.items()))}


def month_lines(rows: Iterable[dict], month: str) -> list[dict]:
    """The lines of ``month`` (issued or not), by person, case and fine."""
    return sorted((r for r in rows if r["month"] == month), key=lambda r: (r["person"], r["case_number"], r["key"]))


def month_summary(rows: list[dict], issued: dict[str, dict], this_month: str) -> list[dict]:
    """Every month with lines, issued, or current, newest first: its line count, total, corrections,
    whether it is issued (frozen) and whether 财务部 may issue it now (not yet, and begun)."""
    listed = sorted({r["month"] for r in rows if r["month"]} | set(issued) | {this_month}, reverse=True)
    out = []
    for m in listed:
        lines = month_lines(rows, m)
        out.append({"month": m, "issued": issued.get(m), "count": len(lines),
                    "total": sum(r["amount"] or 0 for r in lines),
                    "corrections": sum(1 for r in lines if r["kind"] == "correction"),
                    "may_issue": m not in issued and m <= this_month})
    return out
