"""作废 (``cancel``), 合并 (``merge``) and ``restore``: housekeeping, no clause of their own.

技质部 cancels or merges a case before it is decided, 技质部经理 after, never once a technician
has arrived on site (records.cases.flow: ``EARLY_TQ``, ``NOT_ARRIVED``). Each needs a reason.
The case is stored closed with the outcome ``cancelled`` / ``merged`` and ``cancellation`` =
{outcome, by, at, reason, state (the one it had), into ({id, number} of the case merged into)}:
its open deadlines stop (a closed case has none open: no flags, no fine proposals, see
records.cases.deadlines.open_deadlines and records.jobs.overdue); its unruled proposals stay to
be ruled. A merge is linked both ways: ``merged_into`` on the case, ``merged_from`` (a list) and
a ``merged_in`` timeline entry on the case it went into. 技质部经理 may restore a cancelled case
with a reason: back to the state it had; its deadlines run again as they were.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.transaction import Transaction
from records.fines.proposals import pending
from records.users.accounts import person_name

from .. import input as checked
from .. import timeline
from ..flow import OPEN_STATES
from ..vocab import CANCELLED, MERGED, STATES, TABLE, CaseError, is_live

MAX_REASON = 500


def _number(case: dict) -> str:
    return case.get("number") or f"#{case['id']}"


def _close(case: dict, outcome: str, by: str, now: datetime, reason: str, into: dict | None = None) -> str:
    """Close the case as ``outcome``; the words for the timeline about what stays."""
    case["cancellation"] = {"outcome": outcome, "by": by, "at": iso_local(now), "reason": reason,
                            "state": case["state"], "into": into}
    case["state"], case["outcome"] = "closed", outcome
    n = len(pending(case))
    return f"；{n} 条处罚建议待技质部经理处理" if n else ""


def cancel(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """作废 with a reason: closed as cancelled, its open deadlines stop."""
    reason = checked.text(data, "reason", "作废理由", max_len=MAX_REASON)
    state = case["state"]
    rest = _close(case, CANCELLED, user["username"], now, reason)
    timeline.add(case, "cancel", user["username"], now, "cancel",
                 f"作废（原状态：{STATES[state]}）{rest}。理由：{reason}", reason=reason)


def merge(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """合并 into another case (by its number), with a reason, linked both ways."""
    by = user["username"]
    number = checked.text(data, "target", "合并到的案例编号", max_len=40).upper()
    reason = checked.text(data, "reason", "合并理由", max_len=MAX_REASON)
    found = next((c for c in tx.scan(TABLE) if (c.get("number") or "").upper() == number), None)
    if found is None:
        raise CaseError(f"没有编号为 {number} 的案例", "target")
    if found["id"] == case["id"]:
        raise CaseError("不能合并到本案例自身", "target")
    target = tx.require(TABLE, found["id"])
    if not is_live(target):
        raise CaseError(f"案例 {number} 已作废或已合并，不能作为合并目标", "target")
    into = {"id": target["id"], "number": _number(target)}
    state = case["state"]
    rest = _close(case, MERGED, by, now, reason, into=into)
    case["merged_into"] = into
    timeline.add(case, "merge", by, now, "merge", f"合并到 {into['number']}（{target.get('customer_name', '')}；"
                 f"原状态：{STATES[state]}）{rest}。理由：{reason}", other=into, reason=reason)
    me = {"id": case["id"], "number": _number(case)}
    merged_from = list(target.get("merged_from") or []) + [{**me, "at": iso_local(now), "by": by}]
    timeline.add(target, "merged_in", by, now, "merged_in", f"{me['number']}（{case.get('customer_name', '')}，"
                 f"{case.get('caller_name', '')}）已合并到本案例。理由：{reason}", other=me, reason=reason)
    tx.update(TABLE, target["id"], {"merged_from": merged_from, "timeline": target["timeline"]},
              action="merged_in", note=f"{me['number']} 合并到本案例")


def restore(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """技质部经理 restores a cancelled case, with a reason, to the state it had."""
    reason = checked.text(data, "reason", "恢复理由", max_len=MAX_REASON)
    gone = case.get("cancellation") or {}
    state = gone.get("state")
    if state not in OPEN_STATES:
        raise CaseError("无法确定作废前的状态，不能恢复")
    case["state"], case["outcome"], case["cancellation"] = state, None, None
    when = parse_local(gone.get("at"))
    who = person_name(tx, gone.get("by"))
    timeline.add(case, "restore", user["username"], now, "restore", f"恢复到「{STATES[state]}」"
                 f"（{when:%Y-%m-%d %H:%M} 由 {who} 作废：{gone.get('reason', '')}）。理由：{reason}", reason=reason)


HANDLERS = {"cancel": cancel, "merge": merge, "restore": restore}
