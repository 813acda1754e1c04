"""The regulation's deadlines, each with its clause and the basis text shown to users.

Numbers and basis templates come from `records.policy` Rules; working-time arithmetic from
`records.calendar.workdays`. A Deadline is plain data: store it in a JSON document with ``to_dict()``
and read it back with ``Deadline.from_dict()``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from records import policy
from records.calendar.workdays import WorkCalendar, parse_local, to_local


@dataclass(frozen=True)
class Deadline:
    clause: str  # e.g. "6.1.3"
    basis: str  # e.g. "收到后 4 个工作小时内传递到技质部"
    start: datetime  # aware, policy.TIMEZONE
    due: datetime  # aware, policy.TIMEZONE; work done at ``due`` exactly is on time

    def to_dict(self) -> dict:
        return {
            "clause": self.clause,
            "basis": self.basis,
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Deadline:
        try:
            if not isinstance(data["start"], str) or not isinstance(data["due"], str):
                raise TypeError("start and due are ISO strings")
            return cls(
                clause=str(data["clause"]),
                basis=str(data["basis"]),
                start=parse_local(data["start"]),
                due=parse_local(data["due"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"期限数据不完整或格式错误：{data!r}") from exc

    def is_overdue(self, now: datetime) -> bool:
        """True once ``now`` is past ``due`` (naive ``now`` is read as local time)."""
        return to_local(now) > self.due

    def working_hours_left(self, cal: WorkCalendar, now: datetime) -> float:
        """Working hours from ``now`` to ``due``; negative (hours late) once overdue."""
        if to_local(now) <= self.due:
            return cal.working_hours_between(now, self.due)
        return -cal.working_hours_between(self.due, now)

    def clock_hours_left(self, now: datetime) -> float:
        """Clock hours from ``now`` to ``due`` (negative once overdue); for 5.1.1.3."""
        return (self.due - to_local(now)).total_seconds() / 3600


def _working_hours_deadline(cal: WorkCalendar, rule: policy.Rule, start: datetime) -> Deadline:
    return Deadline(
        rule.clause,
        rule.basis.format(n=rule.value),
        cal.localize(start),
        cal.add_working_hours(start, rule.value),  # type: ignore[arg-type]
    )


def _working_days_deadline(cal: WorkCalendar, rule: policy.Rule, start: datetime) -> Deadline:
    return Deadline(
        rule.clause,
        rule.basis.format(n=rule.value),
        cal.localize(start),
        cal.add_working_days(start, rule.value),  # type: ignore[arg-type]
    )


def handover_deadline(cal: WorkCalendar, received_at: datetime) -> Deadline:
    """6.1.3: the receiver forwards to 技质部 within 4 working hours of receiving."""
    return _working_hours_deadline(cal, policy.HANDOVER, received_at)


def consult_reply_deadline(cal: WorkCalendar, received_at: datetime) -> Deadline:
    """6.2.1: a consultation is answered within 8 working hours (the customer's wait)."""
    return _working_hours_deadline(cal, policy.CONSULT_REPLY, received_at)


def decision_deadline(cal: WorkCalendar, tq_received_at: datetime) -> Deadline:
    """6.2.2: 技质部 decides the solution within 8 working hours of receiving the request."""
    return _working_hours_deadline(cal, policy.DECISION, tq_received_at)


def report_deadline(cal: WorkCalendar, returned_at: datetime) -> Deadline:
    """6.2.7: written report by the end of the 3rd working day after the return."""
    return _working_days_deadline(cal, policy.REPORT, returned_at)


def confirm_deadline(cal: WorkCalendar, reported_at: datetime) -> Deadline:
    """6.2.8: confirmation and cost audit by the end of the 5th working day after the report."""
    return _working_days_deadline(cal, policy.CONFIRM, reported_at)


def _format_km(distance_km: float) -> str:
    return str(int(distance_km)) if float(distance_km).is_integer() else f"{distance_km}"


def dispatch_basis(distance_km: float, since: str = "request") -> str:
    """5.1.1.3's basis in words, naming where the clock starts (``policy.DISPATCH_STARTS``)."""
    if since not in policy.DISPATCH_STARTS:
        raise ValueError(f"未知的 5.1.1.3 起算点：{since!r}")
    hours = policy.dispatch_hours(distance_km)  # validates distance_km (ValueError)
    return policy.DISPATCH.basis.format(km=_format_km(distance_km), n=hours, since=policy.DISPATCH_STARTS[since])


def dispatch_deadline(start: datetime, distance_km: float, since: str = "request") -> Deadline:
    """5.1.1.3: arrive on site within 24/48/72 clock hours (not working hours).

    ``start`` is when the request was received (in warranty, ``since="request"``) or when the
    customer confirmed the fee (``"confirmation"``, 5.2.5, 6.2.4) / the VP approved
    (``"approval"``, 6.2.4) for a paid service; the caller chooses, the basis says which.
    """
    basis = dispatch_basis(distance_km, since)
    hours = policy.dispatch_hours(distance_km)
    local = to_local(start)
    # Add in UTC so that the result is elapsed clock time whatever the zone's rules.
    due = to_local(local.astimezone(timezone.utc) + timedelta(hours=hours))
    return Deadline(policy.DISPATCH.clause, basis, local, due)
