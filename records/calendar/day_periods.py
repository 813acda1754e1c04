"""The working periods of each day: the default of ``records.policy`` and the company's dated
settings (issue 15: 作息时间, e.g. a 夏季作息 from 06-01 and back from 10-01).

``PeriodSchedule(base, settings)``: ``base`` holds from the beginning; each setting
``(effective_from, periods)`` holds from its date on until the next one. ``on(day)`` gives the
``DayPeriods`` in force on that day (the latest setting whose date ≤ day), cached per day: the
calendar's arithmetic asks for it on every day it crosses. Times of day are counted in
microseconds since midnight. Bad periods raise ``ValueError`` with a Chinese message.
Plain Python.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time


def us_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@dataclass(frozen=True)
class DayPeriods:
    """One day's working periods: ``periods`` as times, ``spans`` in microseconds since midnight."""

    periods: tuple[tuple[time, time], ...]
    spans: tuple[tuple[int, int], ...]
    total: int  # working microseconds of a whole working day
    first_start: int
    last_end: int

    @classmethod
    def of(cls, periods: Iterable[tuple[time, time]]) -> DayPeriods:
        """Checked: at least one period, each start < end, in order and not overlapping."""
        periods = tuple(tuple(p) for p in periods)  # type: ignore[misc]
        if not periods:
            raise ValueError("至少需要一个工作时段")
        spans = []
        previous_end = -1
        for period in periods:
            if len(period) != 2 or not all(isinstance(t, time) for t in period):
                raise ValueError(f"工作时段必须是 (开始时间, 结束时间)，收到的是 {period!r}")
            start, end = (us_of_day(t) for t in period)
            if not start < end:
                raise ValueError(f"工作时段的开始必须早于结束：{period[0]}–{period[1]}")
            if start < previous_end:
                raise ValueError("工作时段必须按时间先后排列且不重叠")
            spans.append((start, end))
            previous_end = end
        return cls(periods, tuple(spans), sum(e - s for s, e in spans),  # type: ignore[arg-type]
                   spans[0][0], spans[-1][1])


def format_periods(periods: Iterable[tuple[time, time]]) -> str:
    """``08:30–12:00、13:30–17:30``."""
    return "、".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in periods)


class PeriodSchedule:
    """The working periods in force on each day: ``base`` from the beginning, then each dated setting."""

    def __init__(self, base: Iterable[tuple[time, time]],
                 settings: Iterable[tuple[date, Iterable[tuple[time, time]]]] = ()) -> None:
        self.base = DayPeriods.of(base)
        ordered: dict[date, DayPeriods] = {}
        for day, periods in settings:
            if not isinstance(day, date):
                raise ValueError(f"作息时间的生效日期必须是日期，收到的是 {day!r}")
            ordered[day] = DayPeriods.of(periods)  # the same date twice: the later one holds
        self.settings: tuple[tuple[date, DayPeriods], ...] = tuple(sorted(ordered.items()))
        self._dates = [d for d, _ in self.settings]
        self._choices = [self.base] + [p for _, p in self.settings]
        self._cache: dict[date, DayPeriods] = {}

    def on(self, day: date) -> DayPeriods:
        """The periods in force on ``day``: those of the latest setting whose date ≤ ``day``."""
        if not self._dates:
            return self.base
        hit = self._cache.get(day)
        if hit is None:
            hit = self._cache[day] = self._choices[bisect_right(self._dates, day)]
        return hit
