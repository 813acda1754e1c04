"""One section of a section-9 report (9.2): the shape every area hands to the quarterly report.

The quarterly report to the GM (9.2) is put together from sections that other modules compute:
the statistics of 9.3, the preventive actions, the external failure cost of 9.4, the fines'
totals, the follow-up calls of 8.1/8.2. Each gives its figures as ``Section``s, so the report's
PDF (WeasyPrint), its Excel workbook (core/xlsx.py) and its page print the same numbers, and a
chart (server-side SVG) always has its numbers in the table beside it.

A provider is a plain function ``(store, period, cal) -> list[Section]``; the report keeps the
list of providers in its order (records/reports/quarterly.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, Union

from records.calendar.periods import Period
from records.calendar.workdays import WorkCalendar
from records.core.store import Store

Cell = Union[str, int, float, Decimal, None]


@dataclass(frozen=True)
class Section:
    key: str  # stable identifier, also the workbook's sheet name source, e.g. "cases_by_type"
    title: str  # what the reader sees, e.g. 「案例类型与处理结果」
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart_svg: str = ""  # optional server-side SVG, shown above its table (same in page and PDF)
    note: str = ""  # one line under the table: what is counted and by which clause
    clause: str = ""  # the regulation's clause the section answers (e.g. "9.3")
    totals: tuple[Cell, ...] = field(default_factory=tuple)  # optional last row, printed bold


Provider = Callable[[Store, Period, WorkCalendar], list[Section]]
