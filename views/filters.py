"""Template filters: times shown in the company's time zone, roles in Chinese, a case's state in words."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from records.calendar.workdays import now_local
from records.cases.deadlines import state_label
from records.fines.proposals import fine_amount_text, per_day_text
from records.policy import TIMEZONE
from records.users.roles import ROLES

_TZ = ZoneInfo(TIMEZONE)


def local_dt(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_TZ)
        return value.astimezone(_TZ).strftime(fmt)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def role_name(role: str) -> str:
    return ROLES.get(role, role)


def case_state(case: dict) -> str:
    """The case's state as the pages show it now (「待出发」 / 「已出发」 from the departure time, 6.2.5)."""
    return state_label(case, now_local())


def init_app(app) -> None:
    app.jinja_env.filters["dt"] = local_dt
    app.jinja_env.filters["role_name"] = role_name
    app.jinja_env.filters["case_state"] = case_state
    app.jinja_env.filters["fine_amount"] = fine_amount_text
    app.jinja_env.filters["fine_per_day"] = per_day_text
