"""Intake's hand-over and the consultation's answer (6.1.1, 6.1.3, 6.2.1): recording a call hands it
over (``hand_over_at_recording``), then one handler per transition.

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
from records.fines.visibility import PROPOSED_TEXT
from records.users.accounts import find_by_username

from .. import input as checked
from ..deadlines import meet, set_deadline
from ..flow import log
from ..vocab import CaseError


def hand_over_at_recording(case: dict, cal: WorkCalendar, by: str, now: datetime, taken_by_tq: bool) -> str:
    """Recording the call is its hand-over to 技质部 (6.1.3, GLOSSARY); return the words for the timeline.

    A call taken by someone outside 技质部 has the 6.1.3 deadline counted from the call's own
    time (``received_at``) and met now, at its recording; recorded later than that → one 6.1.4
    proposal for the 接收人 (``received_by``, who stays responsible whoever records it). A call
    taken by a 技质部 member has no 6.1.3 deadline. 技质部 had the call at its recording, or at
    the call's own time when a 技质部 member took it: the 6.2.2 clock starts there. A
    consultation the receiver answered directly closes: 技质部 has recorded it (6.1.1).
    """
    received_at = parse_local(case["received_at"])
    texts = []
    if taken_by_tq:
        tq_at = received_at
        texts.append("技质部人员接听，登记即由技质部处理（无 6.1.3 传递期限）")
    else:
        tq_at = now
        d = dl.handover_deadline(cal, received_at)
        set_deadline(case, "handover", d, case["received_by"])
        meet(case, "handover", now)
        texts.append(f"登记即传递技质部（{policy.HANDOVER.clause}）")
        if now > d.due:
            add_proposal(case, "handover", policy.FINE_HANDOVER_LATE, case["received_by"], now, by=by)
            # who is fined and under which clause: the fine's readers only (GLOSSARY 处罚)
            texts.append(f"登记晚于来电后 {policy.HANDOVER.value} 个工作小时，{PROPOSED_TEXT}")
    case["tq_received_at"] = iso_local(tq_at)
    if case["type"] == "consultation":
        if case.get("direct_answer"):
            case["state"], case["outcome"] = "closed", "answered"
            texts.append("接收人已直接答复，技质部已记录，结案（6.1.1）")
        else:
            case["state"] = "awaiting_reply"
    else:
        case["state"] = "awaiting_decision"
        set_deadline(case, "decision", dl.decision_deadline(cal, tq_at))
    return "；".join(texts)


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


HANDLERS = {"assign_reply": assign_reply, "reply": reply}
