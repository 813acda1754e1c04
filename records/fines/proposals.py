"""处罚 (penalty) proposals of a case: 6.1.4, 6.1.5, 6.2.6, 6.2.8 and 6.2.9.

Storage: the proposals live on the case document itself, in ``case["fines"]`` (a list), so a
proposal is written in the same transaction as the step that caused it and the case page shows
it without another lookup. Each proposal::

    {key, clause, basis, person, amount (int | None), range ([lo, hi] | None), day (ISO | None),
     status: "proposed" | "referred" | "confirmed" | "waived" | "gm_ruled",
     proposed_at, proposed_by,
     final_amount, decided_by, decided_at, reason,          # the tq_manager's ruling
     gm_by, gm_at, gm_reason,                               # the GM's ruling (6.2.8 特殊情况)
     referred_by, referred_at, referral_reason,             # a tq_manager's referral to the GM
     statements: [{by, at, text}]}                          # the person's 申辩/说明 before the ruling

``key`` is unique within a case: the same proposal is never made twice, whoever calls first
(a workflow step or the scheduled script). Keys: ``"handover"`` (6.1.4), ``"return_unapproved"``
(6.2.6), ``"confirm_late"`` (6.2.8: one per case, 50 元 × the working days late, with
``late_days``, ``days``, ``per_day`` and ``running`` while the confirmation is not made; the
per-day ``"confirm_late:<n>"`` of before stay only where they were ruled, records.cases.migrations),
and the proposals a
tq_manager makes by hand (``add_manual``): ``"record_unclear:<n>"`` (6.1.5, 50 元 per item of
unclear record, with the count ``items``) and ``"falsified_form:<n>"`` (6.2.9, 50—500 元), each
with the facts (``facts``) that justify it.

A fine is only a proposal: the system computes clause, person and amount; a tq_manager confirms
or waives it with a reason; the GM may rule otherwise (records/fines/rulings.py). Pure rules over
a case document: no store, no cases import, no Flask.
"""
from __future__ import annotations

from datetime import date, datetime

from records import policy
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, parse_local, to_local
from records.core.errors import DomainError


class FineError(DomainError):
    pass


def amount_text(rule: policy.Rule) -> str:
    """A fine Rule's amount in words: "50 元", or a range left to the manager, "50—500 元"."""
    value = rule.value
    if isinstance(value, tuple):
        return f"{value[0]}—{value[1]} 元"
    return f"{value} 元"


def fine_amount_text(fine: dict, *, note: bool = False, unit: bool = True, final: bool = False) -> str:
    """A fine's proposed amount in words: "50 元", or the range left to the manager "50—500 元"
    (``note``: "（由技质部经理确定）" after it), "" when it has neither. ``unit``: without " 元";
    ``final``: the final amount once the fine has one."""
    def number(value) -> str:
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)

    suffix = " 元" if unit else ""
    if final and fine.get("final_amount") is not None:
        return number(fine["final_amount"]) + suffix
    if fine.get("amount") is not None:
        return number(fine["amount"]) + suffix
    lo, hi = fine.get("range") or (None, None)
    if lo is None:
        return ""
    return f"{number(lo)}—{number(hi)}{suffix}" + ("（由技质部经理确定）" if note else "")


def per_day_text(fine: dict) -> str:
    """A 6.2.8 proposal's amount worked out: "50 元 × 3 个工作日" ("" for a fine not counted in days);
    the per-day amount the proposal stored, else the regulation's (6.2.8)."""
    if not fine.get("days"):
        return ""
    per_day = fine.get("per_day") or policy.FINE_CONFIRM_LATE_PER_DAY.value
    return f"{per_day} 元 × {fine['days']} 个工作日"


def find(case: dict, key: str) -> dict | None:
    return next((f for f in case.get("fines") or [] if f["key"] == key), None)


def add_proposal(case: dict, key: str, rule: policy.Rule, person: str | None, now: datetime,
                 by: str = "system", day: date | None = None, basis: str | None = None) -> dict | None:
    """Add a proposal to ``case`` in memory unless one with ``key`` exists; return it or None.

    ``rule.value`` is an amount (int) or a range (lo, hi) left to the manager.
    """
    if find(case, key) is not None:
        return None
    value = rule.value
    is_range = isinstance(value, tuple)
    fine = {
        "key": key,
        "clause": rule.clause,
        "basis": basis or rule.basis.format(n=value if not is_range else ""),
        "person": person,
        "amount": None if is_range else int(value),
        "range": list(value) if is_range else None,
        "day": day.isoformat() if day else None,
        "status": "proposed",
        "proposed_at": iso_local(now),
        "proposed_by": by,
        "final_amount": None,
        "decided_by": None, "decided_at": None, "reason": "",
        "gm_by": None, "gm_at": None, "gm_reason": "",
    }
    case.setdefault("fines", []).append(fine)
    return fine


# --- Proposals made by hand: 6.1.5 and 6.2.9 ----------------------------------------------------

MANUAL = {
    "record_unclear": policy.FINE_RECORD_UNCLEAR,   # 6.1.5: 50 元 per item
    "falsified_form": policy.FINE_FALSIFIED_FORM,   # 6.2.9: 50—500 元, set when confirmed
}
MANUAL_LABELS = {
    "record_unclear": f"{policy.FINE_RECORD_UNCLEAR.clause} 信息记录不清、不完整、不准确，导致额外增加售后服务费用",
    "falsified_form": f"{policy.FINE_FALSIFIED_FORM.clause} 弄虚作假填报《技术服务单》",
}
MAX_ITEMS = 100


def manual_kinds(case: dict) -> dict[str, str]:
    """The proposals a tq_manager may make by hand on ``case``, {kind: label}: 6.1.5 always;
    6.2.9 once a 技术服务单 was issued at the dispatch (6.2.5), as it is about a filled form."""
    issued = bool(((case.get("dispatch") or {}).get("form_no") or "").strip())
    return {k: v for k, v in MANUAL_LABELS.items() if issued or k != "falsified_form"}


def add_manual(case: dict, kind: str, person: str, facts: str, now: datetime, by: str, items=1) -> dict:
    """A tq_manager's own proposal (in memory): 6.1.5 (``items`` × 50 元) or 6.2.9 (50—500 元).

    ``facts`` (required) says what was unclear or false and what it cost; ``person`` is the
    username of the person responsible (the caller checks that the user exists). A new key is
    used each time: the same case may have several such proposals.
    """
    rule_ = MANUAL.get(kind)
    if rule_ is None:
        raise FineError("请选择处罚条款（6.1.5 或 6.2.9）", "kind")
    if not person:
        raise FineError("请选择责任人", "person")
    facts = (facts or "").strip()
    if not facts:
        raise FineError("请写明事实（哪条信息不清或哪项填报不实，造成了什么后果）", "facts")
    if len(facts) > 1000:
        raise FineError("事实说明不能超过 1000 个字", "facts")
    if isinstance(rule_.value, tuple):
        basis = f"{rule_.basis}：{facts}"
        n_items = None
    else:
        try:
            n_items = int(items)
        except (TypeError, ValueError):
            raise FineError("条数必须是正整数", "items") from None
        if not 1 <= n_items <= MAX_ITEMS:
            raise FineError(f"条数应在 1—{MAX_ITEMS} 之间", "items")
        per = int(rule_.value)
        rule_ = policy.Rule(rule_.clause, per * n_items, rule_.basis)
        basis = f"{policy.FINE_RECORD_UNCLEAR.basis.format(n=per)}，共 {n_items} 条：{facts}"
    n = 1 + sum(1 for f in case.get("fines") or [] if f["key"].startswith(kind + ":"))
    fine = add_proposal(case, f"{kind}:{n}", rule_, person, now, by=by, basis=basis)
    fine.update(manual=True, items=n_items, facts=facts)
    return fine


# --- 6.2.8: one proposal per case, 50 元 × the working days late -------------------------------

CONFIRM_LATE = "confirm_late"  # the key of a case's one 6.2.8 proposal
OLD_PER_DAY = CONFIRM_LATE + ":"  # the keys of the per-day proposals of before (records.cases.migrations)


def late_days(cal: WorkCalendar, due: datetime, until: datetime) -> list[date]:
    """The working days late of a deadline ``due`` met (or still open) at ``until`` (GLOSSARY 6.2.8).

    A working day counts once it has begun after the due time: confirmed on the 6th working day
    = 1 day; confirmed after 17:30 on the 5th but before the next working day begins = none.
    A day begins at the start of its first working period, as in force on that day (issue 15).
    """
    due, until = to_local(due), to_local(until)
    out: list[date] = []
    d = due.date()
    if not cal.is_workday(d) or cal.working_periods(d)[0][0] < due:
        d = cal.next_workday(d)
    while cal.working_periods(d)[0][0] < until:
        out.append(d)
        d = cal.next_workday(d)
    return out


def is_running(fine: dict) -> bool:
    """Whether ``fine`` is a 6.2.8 proposal whose count still runs (the confirmation not made yet):
    it cannot be ruled until then (records/fines/rulings.py)."""
    return bool(fine.get("running"))


def _confirm_late_basis(rule: policy.Rule, days: list[str], running: bool) -> str:
    head = f"{rule.basis.format(n=rule.value)}：延迟 {len(days)} 个工作日（{'、'.join(days)}）"
    return head + ("，计数至确认完成为止" if running else "")


def confirm_late_proposal(case: dict, cal: WorkCalendar, deadline: Deadline, until: datetime,
                          person: str | None, now: datetime, by: str = "system", final: bool = False) -> dict | None:
    """Make or bring up to date the case's one 6.2.8 proposal (in memory): 50 元 × the working
    days late at ``until`` (``late_days``), the days already covered by a ruled per-day proposal
    of before left out. ``final``: the confirmation is made, the count stops (the proposal may
    be ruled from then on). Return the proposal when it is new or changed, else None. A proposal
    already ruled or referred is never changed."""
    rule = policy.FINE_CONFIRM_LATE_PER_DAY
    covered = {f.get("day") for f in case.get("fines") or [] if f["key"].startswith(OLD_PER_DAY)}
    days = [d.isoformat() for d in late_days(cal, deadline.due, until) if d.isoformat() not in covered]
    fine = find(case, CONFIRM_LATE)
    if fine is None:
        if not days:
            return None
        fine = add_proposal(case, CONFIRM_LATE, rule, person, now, by=by)
    elif fine["status"] != "proposed" or not is_running(fine):
        return None
    before = (fine.get("late_days"), fine.get("running"), fine.get("amount"))
    days = sorted(set(days) | set(fine.get("late_days") or []))
    fine.update(late_days=days, days=len(days), per_day=int(rule.value), amount=int(rule.value) * len(days),
                running=not final, basis=_confirm_late_basis(rule, days, not final), counted_at=iso_local(until))
    if (fine["late_days"], fine["running"], fine["amount"]) == before:
        return None
    return fine


def confirm_late_now(case: dict, cal: WorkCalendar, now: datetime) -> dict | None:
    """A copy of the case's running 6.2.8 proposal with its count as of ``now`` (the case page
    shows the running count between two scheduled runs); None without one that runs."""
    fine = find(case, CONFIRM_LATE)
    entry = (case.get("deadlines") or {}).get("confirm")
    if fine is None or not is_running(fine) or not entry:
        return None
    rule = policy.FINE_CONFIRM_LATE_PER_DAY
    days = sorted(set(fine.get("late_days") or []) | {d.isoformat() for d in late_days(cal, parse_local(entry["due"]), now)})
    covered = {f.get("day") for f in case.get("fines") or [] if f["key"].startswith(OLD_PER_DAY)}
    days = [d for d in days if d not in covered]
    return {**fine, "late_days": days, "days": len(days), "amount": int(rule.value) * len(days),
            "basis": _confirm_late_basis(rule, days, True)}


WAITING = ("proposed", "referred")  # a proposal not ruled yet: the tq_manager's, or the GM's once referred


def pending(case: dict) -> list[dict]:
    """The proposals of ``case`` still waiting for a ruling (6.1.4 … 6.2.9), referred ones included."""
    return [f for f in case.get("fines") or [] if f["status"] in WAITING]


def rulable(case: dict) -> list[dict]:
    """The proposals a tq_manager may confirm or waive now: proposed, not referred to the GM, and
    (6.2.8) not still counting."""
    return [f for f in case.get("fines") or [] if f["status"] == "proposed" and not is_running(f)]


def referred(case: dict) -> list[dict]:
    """The proposals referred to the GM (6.2.8 特殊情况) and waiting for his ruling."""
    return [f for f in case.get("fines") or [] if f["status"] == "referred"]


def propose_missed(case: dict, key: str, deadline: Deadline, cal: WorkCalendar, now: datetime,
                   person: str | None, by: str = "system") -> list[dict]:
    """Add to ``case`` (in memory) the proposals its missed deadline ``key`` calls for, against
    ``person`` (the caller knows who answers for the deadline); return the new ones: 6.1.4 for
    a late hand-over (its person is the receiver), 6.2.8 per working day late (the 技质部 owner);
    nothing for the other deadlines. The scheduled check's one way to propose (records.jobs.overdue).

    Returns the proposals new or changed: the 6.2.8 one is made once its first working day late
    has begun and its count grows with each further day (``confirm_late_proposal``)."""
    if key == "handover":
        fine = add_proposal(case, "handover", policy.FINE_HANDOVER_LATE, person, now, by=by)
        return [fine] if fine else []
    if key == "confirm":
        fine = confirm_late_proposal(case, cal, deadline, now, person, now, by=by)
        return [fine] if fine else []
    return []
