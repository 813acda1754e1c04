"""Intake's hand-over and the consultation's answer (6.1.1, 6.1.3, 6.2.1): one handler per transition.

Each handler takes the open transaction, checks ``data``, changes ``case`` in place (state,
deadlines, fines, timeline) and raises CaseError (with the field) to refuse; no Flask here.
"""
from __future__ import annotations

from datetime import datetime

from records import policy
from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.transaction import Transaction
from records.fines.proposals import add_proposal
from records.users.accounts import find_by_username
from records.users.roles import is_tq

from .. import input as checked
from ..deadlines import meet, set_deadline
from ..flow import log
from ..vocab import CaseError


def handover_into(case: dict, cal: WorkCalendar, by: str, at: datetime, now: datetime, automatic=False) -> None:
    """Hand the case over to 技质部 at ``at`` (6.1.3); also a 技质部 user's own intake. A consultation the
    receiver answered directly closes: 技质部 has recorded it (6.1.1)."""
    case["tq_received_at"] = iso_local(at)
    case["handed_over_by"] = case["received_by"] if automatic else by
    meet(case, "handover", at)
    if case["type"] == "consultation":
        if case.get("direct_answer"):
            case["state"] = "closed"
            case["outcome"] = "answered"
        else:
            case["state"] = "awaiting_reply"
    else:
        case["state"] = "awaiting_decision"
        set_deadline(case, "decision", dl.decision_deadline(cal, at))
    text = "技质部接收人登记，即时传递" if automatic else "已传递技质部"
    if case["state"] == "closed":
        text += "；接收人已直接答复，技质部已记录，结案"
    log(case, by, now, "handover", text)


def handover(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.1.3: the receiver passes the call to 技质部 (or 技质部 records its receipt); late → 6.1.4 proposal."""
    by = user["username"]
    if is_tq(user) and not case.get("tq_owner"):
        case["tq_owner"] = by
    entry = case["deadlines"]["handover"]
    late = now > parse_local(entry["due"])
    handover_into(case, cal, by, now, now)
    if late:
        add_proposal(case, "handover", policy.FINE_HANDOVER_LATE, case["received_by"], now, by=by)
        case["timeline"][-1]["text"] += (f"（超过 {policy.HANDOVER.value} 个工作小时，"
                                         f"已提出 {policy.FINE_HANDOVER_LATE.clause} 处罚建议）")


def assign_reply(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.1: 技质部 has someone of another department answer the consultation."""
    name = checked.text(data, "assignee", "答复人", max_len=40)
    other = find_by_username(tx, name)
    if other is None or not other.get("active", True):
        raise CaseError(f"没有可用的用户 {name}", "assignee")
    case["reply_assignee"] = other["username"]
    case["deadlines"]["consult_reply"]["responsible"] = other["username"]
    log(case, user["username"], now, "assign_reply", f"安排 {other.get('display_name') or name} 答复")


def reply(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.1: the answer to a consultation is recorded; the case closes."""
    text = checked.text(data, "answer", "答复内容")
    by = user["username"]
    case["reply"] = {"text": text, "by": by, "at": iso_local(now), "recorded_by": by}
    meet(case, "consult_reply", now)
    case["state"], case["outcome"] = "closed", "answered"
    log(case, by, now, "reply", f"已答复：{text}")


HANDLERS = {"handover": handover, "assign_reply": assign_reply, "reply": reply}
