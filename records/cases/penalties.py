"""The penalty register's side in the case store (处罚台账; the register itself is
records/fines/register.py, pure over the cases given to it): the cases that hold fine
proposals, and the bulk ruling — several proposals confirmed or waived at once with one reason
(6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), each through the case's own ``rule_fine`` step (its checks,
timeline entry and notices), all in ONE transaction.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from records.calendar.workdays import WorkCalendar, now_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction
from records.fines import months, register
from records.fines.proposals import find
from records.fines.rulings import STATUSES

from .vocab import TABLE
from .workflow import perform_tx


def cases_with_fines(source: Store | Transaction) -> Iterator[dict]:
    """Every case holding at least one fine proposal (read-only documents, shared with the cache)."""
    return (c for c in source.scan(TABLE) if c.get("fines"))


def register_rows(source: Store | Transaction) -> list[dict]:
    """Every row of the penalty register (records.fines.register.build) over the stored cases,
    the issued months and the users."""
    return register.build(cases_with_fines(source), months.issued(source), register.people(source))


def issue_month(store: Store, month: str, user: dict, now: datetime | None = None) -> dict:
    """财务部 issues ``month`` to payroll (records.fines.months.issue): its register lines, as
    computed under the write lock, are frozen."""
    return months.issue(store, month, user, now_local(now), lambda tx: register_rows(tx))


@dataclass(frozen=True)
class BulkOutcome:
    """One proposal of a bulk ruling: ruled (``ok``) or refused, with the words to show."""

    case_id: int
    key: str
    number: str
    ok: bool
    message: str


def rule_many(store: Store, cal: WorkCalendar, items: Iterable[tuple[int, str]], user: dict, decision: str,
              reason: str, now: datetime | None = None) -> list[BulkOutcome]:
    """6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9: a tq_manager confirms or waives (``decision``) the
    proposals ``items`` ((case id, fine key), …) with one ``reason``, in one transaction.

    Each goes through the case's ``rule_fine`` step (records.fines.rulings.rule and its checks:
    a proposal already ruled, referred to the GM, a 50—500 元 amount to set one by one, …): a
    proposal the step refuses is skipped with its reason, the others are ruled together.
    Returns one outcome per item, in order. An empty reason refuses the whole ruling.
    """
    if not (reason or "").strip():
        raise DomainError("请填写理由", "reason")
    if decision not in ("confirmed", "waived"):
        raise DomainError("请选择确认或免除", "decision")
    now = now_local(now)
    out: list[BulkOutcome] = []
    with store.transaction(user["username"]) as tx:
        for case_id, key in items:
            case = tx.get(TABLE, case_id)
            number = (case or {}).get("number") or f"#{case_id}"
            fine = find(case, key) if case is not None else None
            if fine is None:
                out.append(BulkOutcome(case_id, key, number, False, "没有这条处罚建议"))
                continue
            if fine["status"] != "proposed":  # ruled already, or referred to the GM: not for a bulk ruling
                label = STATUSES.get(fine["status"], fine["status"])
                out.append(BulkOutcome(case_id, key, number, False, f"这条处罚建议当前为「{label}」，不能再批量处理"))
                continue
            try:
                perform_tx(tx, cal, case_id, "rule_fine", user,
                           {"key": key, "decision": decision, "amount": None, "reason": reason}, now=now)
            except DomainError as exc:
                out.append(BulkOutcome(case_id, key, number, False, str(exc)))
            else:
                out.append(BulkOutcome(case_id, key, number, True, "已处理"))
    return out
