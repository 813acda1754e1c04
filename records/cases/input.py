"""The typed input of a case's intake and actions, checked: text, times, money, quantities and
the rows of a table (parts, expenses, materials). A refusal is a CaseError naming the field.

The steps import it as a module (``from records.cases import input as checked``):
``checked.text(data, "answer", "答复内容")`` reads as what it does."""
from __future__ import annotations

import math
from datetime import datetime

from records.calendar.workdays import to_local

from .vocab import CaseError


def yes_no(data: dict, field: str, message: str) -> bool:
    """A required either/or answer (a checkbox's True/False or a radio's "yes"/"no")."""
    value = data.get(field)
    if value not in (True, False, "yes", "no"):
        raise CaseError(message, field)
    return value in (True, "yes")


def text(data: dict, field: str, label: str, required: bool = True, max_len: int = 4000) -> str:
    raw = data.get(field)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        raise CaseError(f"请填写{label}", field)
    if len(value) > max_len:
        raise CaseError(f"{label}不能超过 {max_len} 个字", field)
    return value


def when(data: dict, field: str, label: str, now: datetime, *, not_before: datetime | None = None,
          before_label: str = "", allow_future: bool = False, default_now: bool = False) -> datetime:
    value = data.get(field)
    if value in (None, ""):
        if default_now:
            return now
        raise CaseError(f"请填写{label}", field)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CaseError(f"{label}格式不正确", field) from None
    if not isinstance(value, datetime):
        raise CaseError(f"{label}格式不正确", field)
    value = to_local(value).replace(microsecond=0)
    if not allow_future and value > now:
        raise CaseError(f"{label}不能晚于当前时间", field)
    # Times are typed to the minute: compare with the earlier step's time to the minute.
    if not_before is not None and value < not_before.replace(second=0):
        raise CaseError(f"{label}不能早于{before_label}（{not_before:%Y-%m-%d %H:%M}）", field)
    if value.year < 2000:
        raise CaseError(f"{label}不合理", field)
    return value


def money(value, field: str, label: str, required: bool = True) -> float | None:
    if value in (None, ""):
        if required:
            raise CaseError(f"请填写{label}", field)
        return None
    try:
        amount = round(float(value), 2)
    except (TypeError, ValueError):
        raise CaseError(f"{label}必须是数字（元）", field) from None
    if math.isnan(amount) or amount < 0 or amount > 100_000_000:
        raise CaseError(f"{label}必须是不小于 0 的金额", field)
    return amount


def lines(data: dict, field: str) -> list[dict]:
    return [row for row in (data.get(field) or []) if any(str(v or "").strip() for v in row.values())]


def quantity(value, label: str, field: str) -> int:
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise CaseError(f"{label}的数量必须是正整数", field) from None
    if qty <= 0 or qty > 99_999:
        raise CaseError(f"{label}的数量必须是正整数", field)
    return qty


def row_text(row: dict, key: str, label: str, field: str, max_len: int = 100) -> str:
    """A text cell of a table row (parts, expenses, materials); a refusal names the table."""
    try:
        return text(row, key, label, max_len=max_len)
    except CaseError as exc:
        raise CaseError(str(exc), field) from None
