"""Steps the regulation gives no time limit (电话指导中, 编制费用报价, 待财务定价, 待顾客确认费用,
待分管副总批准): company time limits in working hours, so that no case waits for ever.

Company parameters, not regulation numbers: ``policy.IDLE_STEP_HOURS`` (company practice) read
through ``step_hours`` alone, the one place a settings table may later override them. Nothing is
stored on the case: the step the case waits in now (``current_step``) starts at the latest
timeline entry that put it there (``IdleStep.starts``; a restore counts too), and its limit is
that start plus the step's working hours. The case page shows it beside the deadlines with its
basis 「公司规定：…」 (``idle_rows``); the overdue run (records/jobs/overdue.py) flags it once per
wait (``plan_flags``: table ``overdue_flags``, key ``<case>:idle:<step>:<start>``) and tells the
people who take the step and the 技质部 managers. It is never fined. Plain Python: no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from records import policy
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, parse_local, to_local
from records.core.store import Store
from records.notifications.inbox import Notice
from records.users.accounts import users_with_role

from .deadlines import deadline_status, time_left
from .flow import NEEDS_PRICES, ROLE_LABELS, tq_owner
from .vocab import TABLE as CASES

CLAUSE = "公司规定"  # in the clause column: no clause of the regulation sets these limits


@dataclass(frozen=True)
class IdleStep:
    key: str  # in policy.IDLE_STEP_HOURS
    label: str  # the step as the case page names it
    todo: str  # what ends the wait
    starts: tuple[str, ...]  # timeline actions whose latest entry starts the wait
    who: str  # "@tq_owner" (the case's 技质部 owner) or a role


STEPS = {s.key: s for s in (
    IdleStep("guidance", "电话指导中", "记录电话指导结果", ("decide",), "@tq_owner"),
    IdleStep("quote", "编制费用报价", "编制报价并通知顾客", ("decide", "guidance_result", "price"), "@tq_owner"),
    IdleStep("price", "待财务定价", "填写备件价格", ("quote",), "finance"),
    IdleStep("customer", "待顾客确认费用", "记录顾客确认或拒绝", ("send_quote",), "@tq_owner"),
    IdleStep("vp", "待分管副总批准", "完成审批", ("customer_response",), "vp"),
)}
STATES = frozenset({"awaiting_guidance_result", "quoting", "awaiting_customer", "awaiting_vp"})


def step_hours(store: Store | None = None) -> dict[str, float]:
    """The working hours of each step: the company parameters ``idle_<step>_hours`` as set on the
    page 公司参数 (``store`` given), else their defaults (``policy.IDLE_STEP_HOURS``)."""
    if store is None:
        return {k: float(v) for k, v in policy.IDLE_STEP_HOURS.items()}
    return {k: float(policy.parameter(store, f"idle_{k}_hours")) for k in policy.IDLE_STEP_HOURS}


def current_step(case: dict) -> IdleStep | None:
    """The step without a regulation clock the case waits in now, or None."""
    state = case.get("state")
    if state == "awaiting_guidance_result":
        return STEPS["guidance"]
    if state == "quoting":
        return STEPS["price"] if NEEDS_PRICES.ok(case) else STEPS["quote"]
    if state == "awaiting_customer":
        return STEPS["customer"]
    if state == "awaiting_vp":
        return STEPS["vp"]
    return None


def started(case: dict, step: IdleStep) -> datetime | None:
    """When the wait began: the latest timeline entry of the step's ``starts`` (or a restore)."""
    times = [t["at"] for t in case.get("timeline") or [] if t.get("action") in step.starts + ("restore",)]
    return parse_local(max(times)) if times else None


def basis(step: IdleStep, hours: float) -> str:
    return f"{CLAUSE}：「{step.label}」应在 {hours:g} 个工作小时内{step.todo}（公司参数，不处罚）"


def limit(case: dict, cal: WorkCalendar, hours: dict[str, float]) -> tuple[IdleStep, Deadline] | None:
    """The case's current step and its company time limit, or None (no such step, no start)."""
    step = current_step(case)
    start = started(case, step) if step else None
    if step is None or start is None or step.key not in hours:
        return None
    n = hours[step.key]
    return step, Deadline(CLAUSE, basis(step, n), start, cal.add_working_hours(start, n))


def responsible(case: dict, step: IdleStep) -> str | None:
    return tq_owner(case) if step.who == "@tq_owner" else None


def idle_rows(case: dict, cal: WorkCalendar, now: datetime, hours: dict[str, float]) -> list[dict]:
    """The current step's limit as a row of the case page's deadlines (``deadlines.deadline_row``'s
    keys, plus ``idle`` and ``role``: who takes it when no one person does); [] without one."""
    found = limit(case, cal, hours)
    if found is None:
        return []
    step, d = found
    entry = {**d.to_dict(), "done_at": None}
    return [{"key": f"idle:{step.key}", "label": step.label, **entry, "status": deadline_status(entry, cal, now),
             "left": time_left(entry, cal, now), "responsible": responsible(case, step), "idle": True,
             "role": ROLE_LABELS.get(step.who, "技质部")}]


def flag_key(case_id: int, step: IdleStep, start: datetime) -> str:
    return f"{case_id}:idle:{step.key}:{start.isoformat()}"


def plan_flags(store: Store, cases, cal: WorkCalendar, now: datetime, flagged: set[str], managers: list[str],
               link: Callable[[int], str]) -> tuple[list[dict], list[Notice]]:
    """The flags (``overdue_flags`` documents) and notices of every wait past its company limit
    not flagged yet: once per wait, to whoever takes the step and every 技质部 manager."""
    now = to_local(now)
    hours = step_hours(store)
    flags, notices = [], []
    for case in cases:
        found = limit(case, cal, hours)
        if found is None or not found[1].is_overdue(now):
            continue
        step, d = found
        key = flag_key(case["id"], step, d.start)
        if key in flagged:
            continue
        who = responsible(case, step)
        people = [who] if who else ([u["username"] for u in users_with_role(store, step.who)]
                                    if not step.who.startswith("@") else [])
        people += [m for m in managers if m not in people]
        flags.append({"key": key, "case_id": case["id"], "case_number": case.get("number"),
                      "deadline": f"idle:{step.key}", "clause": CLAUSE, "due": d.due.isoformat(),
                      "responsible": who, "flagged_at": iso_local(now), "idle": True})
        title = f"{case.get('number') or '#' + str(case['id'])} {case.get('customer_name', '')}".strip()
        body = (f"案例 {title} 在「{step.label}」已超过公司规定的时限（{d.basis}）。\n"
                f"时限：{d.due:%Y-%m-%d %H:%M}（起算 {d.start:%Y-%m-%d %H:%M}）。请尽快{step.todo}。")
        for r in people:
            notices.append(Notice(r, "overdue", f"【超时】{title}：{step.label}（{CLAUSE}）", body,
                                  key=f"idle:{key}:{r}", link=link(case["id"]), ref={"table": CASES, "id": case["id"]}))
    return flags, notices
