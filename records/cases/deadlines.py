"""A case's deadlines: set and met by the workflow, read at read time (whether one is overdue
is decided when it is read, never stored), who answers for each, the overdue list over all
open cases, and their recomputation when the working calendar is corrected.

Each entry of a case's ``deadlines`` is ``Deadline.to_dict()`` (computed by ``records.calendar.time_limits``
with the calendar passed in) plus ``done_at`` and ``responsible``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable

from records import policy
from records.calendar import time_limits as dl
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, parse_local, to_local
from records.core.store import Store
from records.core.transaction import Transaction

from .flow import technicians
from .vocab import DEADLINE_LABELS, STATES, TABLE

# Recomputed from their stored start when the working calendar changes (arrival is clock time).
_WORKING_TIME_DEADLINES: dict[str, Callable[[WorkCalendar, datetime], Deadline]] = {
    "handover": dl.handover_deadline,
    "consult_reply": dl.consult_reply_deadline,
    "decision": dl.decision_deadline,
    "report": dl.report_deadline,
    "confirm": dl.confirm_deadline,
}


def recomputed(key: str, entry: dict, cal: WorkCalendar, start: datetime) -> Deadline | None:
    """Deadline ``key`` (stored as ``entry``) computed afresh from another ``start``: a corrected
    call time (records.cases.steps.corrections); None for a key not counted from a start."""
    fn = _WORKING_TIME_DEADLINES.get(key)
    if fn is not None:
        return fn(cal, start)
    if key == "arrival":  # 5.1.1.3: clock hours by the distance kept on the entry, from the same kind of start
        return dl.dispatch_deadline(start, float(entry.get("distance_km") or 0), entry.get("since") or "request")
    return None


# --- 5.1.1.3: where the arrival clock starts, and the provisional one before the decision ----------


def arrival_since(case: dict) -> str:
    """Where the case's 5.1.1.3 arrival clock starts (a key of ``policy.DISPATCH_STARTS``): the VP's
    approval after a refusal (6.2.4), the customer's confirmation of the fee (5.2.5, 6.2.4), else
    the request (in warranty, free on-site service: 5.1.1.3)."""
    if (case.get("vp_approval") or {}).get("approved"):
        return "approval"
    if (case.get("customer_response") or {}).get("accepted"):
        return "confirmation"
    return "request"


PROVISIONAL = "arrival_provisional"  # the key of the provisional arrival's row (never stored)


def provisional_arrival(case: dict, distance_km: float | None) -> Deadline | None:
    """The 5.1.1.3 arrival time an in-warranty fault would have if 技质部 decides on free on-site
    service: from the request, by the customer's distance. Shown from intake until the decision
    (after it the case has a real deadline, or none: phone guidance, paid service); read-time
    only, never stored, so never flagged, counted or fined. None when it does not apply."""
    if case.get("type") != "service_request" or case.get("state") == "closed" or case.get("decision"):
        return None
    if "arrival" in (case.get("deadlines") or {}) or not (case.get("warranty") or {}).get("in_warranty"):
        return None
    return dl.dispatch_deadline(parse_local(case["received_at"]), float(distance_km or 0), "request")


def provisional_row(case: dict, distance_km: float | None) -> dict | None:
    """``provisional_arrival`` as a row of the case page's deadline table (status "provisional",
    its basis 「如需现场服务，5.1.1.3 到达时限 …」), or None."""
    d = provisional_arrival(case, distance_km)
    if d is None:
        return None
    basis = f"如需现场服务，{d.clause} 到达时限 {to_local(d.due):%Y-%m-%d %H:%M}（{d.basis}）"
    return {"key": PROVISIONAL, "label": "到达现场（暂定）", **d.to_dict(), "basis": basis, "done_at": None,
            "responsible": None, "status": "provisional", "left": ""}


# --- Set and met by the workflow -------------------------------------------------------------


def set_deadline(case: dict, key: str, d: Deadline, responsible: str | None = None, **extra) -> None:
    """Store deadline ``key`` on the case (its clause, basis, start and due; who answers for it)."""
    case.setdefault("deadlines", {})[key] = {**d.to_dict(), "done_at": None, "responsible": responsible, **extra}


def meet(case: dict, key: str, at: datetime) -> None:
    """Mark deadline ``key`` met at ``at`` (once: the first time counts)."""
    entry = (case.get("deadlines") or {}).get(key)
    if entry is not None and not entry.get("done_at"):
        entry["done_at"] = iso_local(at)


def responsible(case: dict, key: str) -> str | None:
    """The username answerable for a deadline (None: 技质部 as a whole)."""
    techs = technicians(case)
    if key == "handover":
        return case.get("received_by")
    if key == "consult_reply":
        return case.get("reply_assignee") or case.get("tq_owner")
    if key == "arrival":
        return techs[0] if techs else case.get("tq_owner")
    if key == "report":
        return techs[0] if techs else None
    return case.get("tq_owner")  # decision, confirm


# --- 6.2.5: 待出发 / 已出发, from the departure time --------------------------------------------

DEPARTURE_LABELS = {"waiting": "待出发", "departed": "已出发"}


def departure_label(case: dict, now: datetime) -> str:
    """「待出发」 until the dispatch's (planned) departure time has come, then 「已出发」 (6.2.5): a
    label computed from the departure time, not a state; "" for a case not on its way."""
    if case.get("state") != "on_route":
        return ""
    departed = (case.get("dispatch") or {}).get("departed_at")
    waiting = bool(departed) and parse_local(departed) > to_local(now)
    return DEPARTURE_LABELS["waiting" if waiting else "departed"]


def state_label(case: dict, now: datetime) -> str:
    """The case's state in words as the pages show it: ``STATES``, but a dispatched case says
    whether its technicians have left yet (``departure_label``)."""
    return departure_label(case, now) or STATES.get(case.get("state"), case.get("state") or "")


# --- Deadlines at read time ----------------------------------------------------------------


def open_deadlines(case: dict) -> list[tuple[str, Deadline]]:
    """(key, Deadline) of every deadline not yet met, earliest due first."""
    if case.get("state") == "closed":
        return []
    out = [(k, Deadline.from_dict(v)) for k, v in (case.get("deadlines") or {}).items() if not v.get("done_at")]
    return sorted(out, key=lambda kv: kv[1].due)


# Working hours in a full working day (to say "about n working days").
_DAY_HOURS = sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds
                 for a, b in policy.WORK_PERIODS) / 3600


def _status_and_left(entry: dict, cal: WorkCalendar, now: datetime) -> tuple[str, str]:
    """``deadline_status`` and ``time_left`` of one entry, the hours left counted once."""
    d = Deadline.from_dict(entry)
    if entry.get("done_at"):
        return ("met" if parse_local(entry["done_at"]) <= d.due else "met_late"), ""
    clock = d.clause == policy.DISPATCH.clause  # 5.1.1.3 counts clock hours; the rest working hours
    hours = d.clock_hours_left(now) if clock else d.working_hours_left(cal, now)
    if d.is_overdue(now):
        status = "overdue"
    else:
        status = "soon" if hours <= policy.WARN_WITHIN_WORKING_HOURS else "open"
    amount = abs(hours)
    text = (f"{amount:.0f}" if amount >= 10 else f"{amount:.1f}".rstrip("0").rstrip(".")) + (" 小时" if clock else " 工作小时")
    if not clock and amount >= _DAY_HOURS:
        text += f"（约 {amount / _DAY_HOURS:.0f} 个工作日）"
    elif clock and amount >= 24:
        text += f"（约 {amount / 24:.1f} 天）".replace(".0 天", " 天")
    return status, (f"剩余 {text}" if hours >= 0 else f"已超 {text}")


def deadline_status(entry: dict, cal: WorkCalendar, now: datetime) -> str:
    """"met" | "met_late" | "overdue" | "soon" (within WARN_WITHIN_WORKING_HOURS) | "open"."""
    return _status_and_left(entry, cal, now)[0]


def time_left(entry: dict, cal: WorkCalendar, now: datetime) -> str:
    """How long until an open deadline is due, or how late it is, in words ("" once met).

    5.1.1.3 counts clock hours; every other deadline working hours (GLOSSARY).
    """
    return _status_and_left(entry, cal, now)[1]


_DEADLINE_ORDER = {key: i for i, key in enumerate(DEADLINE_LABELS)}


def deadline_row(case: dict, key: str, cal: WorkCalendar, now: datetime) -> dict:
    """One deadline of the case with its label, status, time left and who answers for it."""
    entry = case["deadlines"][key]
    if key == "arrival" and "since" not in entry:  # stored before the basis named its start
        entry = {**entry, "basis": dl.dispatch_basis(float(entry.get("distance_km") or 0), arrival_since(case))}
    if case.get("state") == "closed" and not entry.get("done_at"):
        status, left = "closed", ""  # never due: the case closed without this step
    else:
        status, left = _status_and_left(entry, cal, now)
    return {"key": key, "label": DEADLINE_LABELS.get(key, key), **entry, "status": status,
            "left": left, "responsible": entry.get("responsible") or responsible(case, key)}


def deadline_rows(case: dict, cal: WorkCalendar, now: datetime) -> list[dict]:
    """Every deadline of the case in the order of the flow, with its status and time left."""
    rows = [deadline_row(case, key, cal, now) for key in case.get("deadlines") or {}]
    return sorted(rows, key=lambda r: (_DEADLINE_ORDER.get(r["key"], 99), r["start"]))


def next_deadline_row(case: dict, cal: WorkCalendar, now: datetime) -> dict | None:
    """The case's most urgent open deadline as a row (``deadline_row``), or None."""
    open_ = open_deadlines(case)
    return deadline_row(case, open_[0][0], cal, now) if open_ else None


def next_deadline_status(case: dict, cal: WorkCalendar, now: datetime, memo: dict | None = None) -> str:
    """The status of ``next_deadline_row`` without building the row ("" without an open
    deadline). ``memo`` (one per request) counts the working hours once per due time and
    clause: a long 我的待办 has many rows that share them."""
    open_ = open_deadlines(case)
    if not open_:
        return ""
    entry = case["deadlines"][open_[0][0]]
    key = (entry["due"], entry["clause"])
    if memo is None:
        return deadline_status(entry, cal, now)
    if key not in memo:
        memo[key] = deadline_status(entry, cal, now)
    return memo[key]


@dataclass(frozen=True)
class OverdueItem:
    case: dict
    key: str
    deadline: Deadline
    responsible: str | None  # username; None: 技质部 as a whole


def overdue_in(docs: Iterable[dict], now: datetime) -> list[OverdueItem]:
    """Every open deadline already past due in ``docs`` (the overdue run passes the open cases it keeps
    a digest of), earliest due first."""
    now = to_local(now)
    out = []
    for case in docs:
        for key, d in open_deadlines(case):  # none for a closed case
            if d.is_overdue(now):
                out.append(OverdueItem(case, key, d, case["deadlines"][key].get("responsible") or responsible(case, key)))
    return sorted(out, key=lambda i: i.deadline.due)


def is_overdue(case: dict, now: datetime) -> bool:
    return any(d.is_overdue(now) for _, d in open_deadlines(case))


def most_urgent_due(case: dict) -> datetime | None:
    open_ = open_deadlines(case)
    return open_[0][1].due if open_ else None


# --- Recomputed when the working calendar is corrected ----------------------------------------


def plan_recompute(source, cal: WorkCalendar) -> list[tuple[int, dict[str, str]]]:
    """[(case id, {deadline key: new due ISO})] of every open working-time deadline of an open
    case whose due time differs under ``cal`` (recomputed from its stored start).

    ``source`` is a Store or an open Transaction (anything with ``scan``); nothing is changed.
    """
    out = []
    for case in source.scan(TABLE):
        if case.get("state") == "closed":
            continue
        new = {}
        for key, entry in (case.get("deadlines") or {}).items():
            fn = _WORKING_TIME_DEADLINES.get(key)
            if fn is None or entry.get("done_at"):
                continue
            d = fn(cal, datetime.fromisoformat(entry["start"]))
            if d.due.isoformat() != entry["due"]:
                new[key] = d.due.isoformat()
        if new:
            out.append((case["id"], new))
    return out


def recompute_open_deadlines_tx(tx: Transaction, cal: WorkCalendar) -> int:
    """Recompute every open working-time deadline of open cases inside ``tx``; how many changed.

    ``records.cases.calendar_change`` calls this in the transaction of the calendar correction itself,
    so that a correction and the deadlines that follow from it commit together or not at all.
    """
    changed = 0
    for case_id, new in plan_recompute(tx, cal):
        case = tx.require(TABLE, case_id)
        deadlines = dict(case["deadlines"])
        for key, due in new.items():
            deadlines[key] = {**deadlines[key], "due": due}
            changed += 1
        tx.update(TABLE, case_id, {"deadlines": deadlines}, action="deadlines_recomputed",
                  note="工作日历已更正，重新计算未完成的期限")
    return changed


def recompute_open_deadlines(store: Store, cal: WorkCalendar, actor: str) -> int:
    """Recompute every open working-time deadline of open cases from its stored start, in one
    transaction (``aftersales recompute-deadlines``: a repair). Returns how many changed."""
    with store.transaction(actor) as tx:
        return recompute_open_deadlines_tx(tx, cal)
