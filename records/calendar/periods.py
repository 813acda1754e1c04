"""Calendar periods: months added to a date, quarters and years (8.1, 8.2; section 9's reports).

Periods are aligned on the calendar year: 8.1's quarter (``policy.FOLLOW_UP``), 8.2's year
(``policy.ANNUAL_VISIT``). Plain Python.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date


def add_months(d: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Period:
    label: str  # "2026Q1" (quarters), "2026" (years), else "2026-01" (first month)
    start: date
    end: date  # inclusive; the due date


def period_of(months: int, d: date, clause: str = "") -> Period:
    """The period of ``months`` months (dividing a year) that contains ``d``."""
    if months <= 0 or 12 % months:
        raise ValueError(f"{clause} 的周期 {months} 个月不能整除一年")
    first_month = (d.month - 1) // months * months + 1
    start = date(d.year, first_month, 1)
    end = date.fromordinal(add_months(start, months).toordinal() - 1)
    if months == 12:
        label = f"{d.year}"
    elif months == 3:
        label = f"{d.year}Q{(first_month - 1) // 3 + 1}"
    else:
        label = f"{d.year}-{first_month:02d}"
    return Period(label, start, end)


def quarter_label(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def parse_quarter(label: str) -> tuple[date, date] | None:
    """``"2026Q2"`` → (2026-04-01, 2026-06-30); ``"2026"`` → the whole year; else None."""
    label = (label or "").strip().upper()
    try:
        if "Q" in label:
            year, q = label.split("Q")
            y, q = int(year), int(q)
            if not 1 <= q <= 4:
                return None
            start = date(y, 3 * q - 2, 1)
            return start, date.fromordinal(add_months(start, 3).toordinal() - 1)
        y = int(label)
        return date(y, 1, 1), date(y, 12, 31)
    except ValueError:
        return None
