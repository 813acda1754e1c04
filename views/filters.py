"""Template filters: times shown in the company's time zone, roles in Chinese."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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


def init_app(app) -> None:
    app.jinja_env.filters["dt"] = local_dt
    app.jinja_env.filters["role_name"] = role_name
