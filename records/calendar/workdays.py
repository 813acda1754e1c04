"""The company working calendar: working days, working hours and their arithmetic.

GLOSSARY (工作小时 / 工作日): Monday to Friday, 08:30–12:00 and 13:30–17:30, Asia/Shanghai;
China's statutory days off are off and the make-up working days (调休上班) are on; the company
may correct any day, and set other working periods from a date on (``day_periods``: the periods
of each day are those in force on it). The holiday data is ``holiday_data``'s. All numbers come
from `records.policy`. Plain Python: no Flask, no TinyDB.

Conventions (the deadlines of 6.1.3, 6.2.1, 6.2.2, 6.2.7 and 6.2.8 rely on them):

* Naive datetimes are wall-clock time in ``policy.TIMEZONE``; aware ones are converted.
  Every datetime returned is aware, in ``policy.TIMEZONE``.
* A working period is closed for results: a sum that ends exactly on the end of a period is
  that end (Mon 08:30 + 3.5 h = Mon 12:00, not 13:30).
* ``add_working_hours`` from a time outside working time (before 08:30, lunch, after 17:30,
  a day off) counts from the start of the next working period. Adding 0 hours gives the first
  working instant at or after the start (Mon 12:00 + 0 h = Mon 12:00; Mon 12:10 + 0 h = 13:30).
* ``add_working_days(start, n)``: the end of the last period of the n-th working day after the
  day of ``start`` (the time of day of ``start`` does not matter). n = 0 means the end of the
  start's own day if it is a working day, else the end of the next working day.
* Bad input (negative/NaN/infinite hours, negative days, end before start, non-datetimes)
  raises ``ValueError`` with a Chinese message.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from records import policy

from .day_periods import PeriodSchedule, us_of_day
from .holiday_data import MAKEUP_WORKDAY_NAME, NO_DATA, china_year

_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_ONE_DAY = timedelta(days=1)
# A calendar with no working day for ten years is a configuration error, not a long holiday.
_MAX_DAYS_WITHOUT_WORK = 3660


@dataclass(frozen=True)
class Correction:
    """A company correction of one day: it overrides the library and the weekday rule."""

    is_workday: bool
    reason: str


# --- Input checks ----------------------------------------------------------------------------


def _hours_to_us(hours: object) -> int:
    if isinstance(hours, bool) or not isinstance(hours, numbers.Real):
        raise ValueError(f"工作小时数必须是数字，收到的是 {hours!r}")
    value = float(hours)
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"工作小时数必须是有限的数，收到的是 {hours!r}")
    if value < 0:
        raise ValueError(f"工作小时数不能为负数，收到的是 {hours!r}")
    return round(value * _US_PER_HOUR)


def _check_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, numbers.Integral):
        raise ValueError(f"工作日数必须是整数，收到的是 {days!r}")
    if days < 0:
        raise ValueError(f"工作日数不能为负数，收到的是 {days!r}")
    return int(days)


def today_local(tz: str | ZoneInfo = policy.TIMEZONE) -> date:
    """Today's date in the company's time zone (the server's own zone may differ)."""
    return datetime.now(ZoneInfo(tz) if isinstance(tz, str) else tz).date()


def to_local(dt: datetime, tz: str | ZoneInfo = policy.TIMEZONE) -> datetime:
    """An aware datetime in ``tz``; a naive one is read as wall-clock time there."""
    if not isinstance(dt, datetime):
        raise ValueError(f"需要日期时间（datetime），收到的是 {dt!r}")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    if dt.tzinfo is zone:  # already local: the common case on list pages (thousands a request)
        return dt
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=zone)
    return dt.astimezone(zone)


def now_local(now: datetime | None = None) -> datetime:
    """``now`` (naive = local wall-clock time) or the current time, aware, whole seconds."""
    return to_local(now or datetime.now(ZoneInfo(policy.TIMEZONE))).replace(microsecond=0)


def iso_local(dt: datetime) -> str:
    """A time as the records keep it: local (``policy.TIMEZONE``), whole seconds, ISO 8601."""
    return to_local(dt).replace(microsecond=0).isoformat()


@lru_cache(maxsize=65536)
def parse_local(value: str | None) -> datetime | None:
    """A stored ISO time read back as an aware local datetime (None stays None). Cached: stored
    times repeat on every list page, and a datetime is immutable, so one parse serves them all."""
    return to_local(datetime.fromisoformat(value)) if value else None


def _as_date(key: object) -> date:
    if isinstance(key, datetime):
        return key.date()
    if isinstance(key, date):
        return key
    if isinstance(key, str):
        try:
            return date.fromisoformat(key)
        except ValueError:
            pass
    raise ValueError(f"校正日期必须是日期或 ISO 字符串（YYYY-MM-DD），收到的是 {key!r}")


def _as_correction(value: object) -> Correction:
    if isinstance(value, Correction):
        return value
    if isinstance(value, Mapping):
        value = (value.get("is_workday"), value.get("reason", ""))
    try:
        is_workday, reason = value  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(f"校正必须是 (是否工作日, 原因)，收到的是 {value!r}") from None
    if not isinstance(is_workday, bool):
        raise ValueError(f"校正的“是否工作日”必须是 True/False，收到的是 {is_workday!r}")
    return Correction(is_workday, str(reason or ""))


# --- The calendar ----------------------------------------------------------------------------


class WorkCalendar:
    """Working days and working hours of the company (GLOSSARY: 工作小时 / 工作日).

    ``periods``: the working periods of a working day from the beginning, e.g. ``policy.WORK_PERIODS``.
    ``corrections``: mapping date (or ISO string) -> ``(is_workday, reason)``; a correction
    overrides the public-holiday library and the weekday rule.
    ``schedule``: the company's dated settings ``(effective_from, periods)`` (issue 15 作息时间):
    the periods of a day are those of the latest setting whose date ≤ that day (``periods_on``),
    and all the arithmetic uses the periods of each day it crosses.
    ``public_holidays``: use the `holidays` package's China calendar (off only in tests).
    """

    def __init__(
        self,
        periods: Iterable[tuple[time, time]] = policy.WORK_PERIODS,
        corrections: Mapping[object, object] | None = None,
        *,
        tz: str = policy.TIMEZONE,
        weekdays: Iterable[int] = policy.WORK_WEEKDAYS,
        public_holidays: bool = True,
        schedule: Iterable[tuple[date, Iterable[tuple[time, time]]]] = (),
    ) -> None:
        self.tz = ZoneInfo(tz)
        self._schedule = PeriodSchedule(periods, schedule)
        self.periods: tuple[tuple[time, time], ...] = self._schedule.base.periods  # those from the beginning
        self.schedule: tuple[tuple[date, tuple[tuple[time, time], ...]], ...] = tuple(
            (d, p.periods) for d, p in self._schedule.settings)
        self.weekdays = frozenset(weekdays)
        if not self.weekdays <= set(range(7)):
            raise ValueError(f"工作星期必须在 0（周一）到 6（周日）之间，收到的是 {sorted(self.weekdays)}")
        self.public_holidays = public_holidays
        self.corrections: dict[date, Correction] = {
            _as_date(k): _as_correction(v) for k, v in (corrections or {}).items()
        }
        self._workday_cache: dict[date, bool] = {}

    @classmethod
    def default(cls, corrections: Mapping[object, object] | None = None, schedule=()) -> WorkCalendar:
        """Policy periods and time zone, China's public holidays, optional corrections and the
        company's dated settings of the working periods."""
        return cls(policy.WORK_PERIODS, corrections, schedule=schedule)

    def with_corrections(self, corrections: Mapping[object, object]) -> WorkCalendar:
        """The same calendar with another set of company corrections."""
        return WorkCalendar(
            self.periods,
            corrections,
            tz=self.tz.key,
            weekdays=self.weekdays,
            public_holidays=self.public_holidays,
            schedule=self.schedule,
        )

    def periods_on(self, d: date) -> tuple[tuple[time, time], ...]:
        """The working periods in force on ``d`` (whether or not it is a working day)."""
        return self._schedule.on(d).periods

    # --- Days -----------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        """Correction first, then 调休上班, then statutory days off, then Mon–Fri."""
        if isinstance(d, datetime):
            d = self.localize(d).date()
        cached = self._workday_cache.get(d)
        if cached is None:
            cached = self._workday_cache[d] = self._decide_workday(d)
        return cached

    def _decide_workday(self, d: date) -> bool:
        correction = self.corrections.get(d)
        if correction is not None:
            return correction.is_workday
        if self.public_holidays:
            data = china_year(d.year)
            if d in data.makeup_workdays:
                return True
            if d in data.days_off:
                return False
        return d.weekday() in self.weekdays

    def has_published_schedule(self, year: int) -> bool:
        """True when the library knows the State Council's schedule (调休) for ``year``.

        False means the library only has the base holidays (its "observed" days are guesses)
        and the company should check, and correct, the year by hand.
        """
        return self.public_holidays and china_year(year).published

    def year_overview(self, year: int) -> dict:
        """Plain, JSON-ready data for a year-at-a-glance page (dates as ISO strings)."""
        data = china_year(year) if self.public_holidays else NO_DATA

        def corrected(d: date) -> bool:
            return d in self.corrections

        first, last = date(year, 1, 1), date(year, 12, 31)
        return {
            "year": year,
            "published": self.has_published_schedule(year),
            "days_off": [
                {"date": d.isoformat(), "weekday": d.weekday(), "name": name,
                 "corrected": corrected(d)}
                for d, name in sorted(data.days_off.items())
            ],
            "makeup_workdays": [
                {"date": d.isoformat(), "weekday": d.weekday(), "name": MAKEUP_WORKDAY_NAME,
                 "corrected": corrected(d)}
                for d in sorted(data.makeup_workdays)
            ],
            "corrections": [
                {"date": d.isoformat(), "weekday": d.weekday(), "is_workday": c.is_workday,
                 "reason": c.reason}
                for d, c in sorted(self.corrections.items())
                if d.year == year
            ],
            "workday_count": sum(
                self.is_workday(first + timedelta(days=i)) for i in range((last - first).days + 1)
            ),
        }

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        for _ in range(_MAX_DAYS_WITHOUT_WORK):
            d += _ONE_DAY
            if self.is_workday(d):
                return d
        raise ValueError(f"{_MAX_DAYS_WITHOUT_WORK} 天内没有工作日，请检查工作日历设置")

    def working_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``d`` as aware datetimes (empty on a day off)."""
        if not self.is_workday(d):
            return []
        return [(self._at(d, s), self._at(d, e)) for s, e in self._schedule.on(d).spans]

    # --- Hours ----------------------------------------------------------------------------

    def localize(self, dt: datetime) -> datetime:
        """``dt`` as an aware datetime in the calendar's time zone."""
        return to_local(dt, self.tz)

    def _split(self, dt: datetime) -> tuple[date, int]:
        """(local date, microseconds since local midnight) of ``dt``."""
        local = self.localize(dt)
        return local.date(), us_of_day(local.time())

    def _at(self, d: date, us: int) -> datetime:
        return datetime.combine(d, time(), self.tz) + timedelta(microseconds=us)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` plus ``hours`` working hours (6.1.3, 6.2.1, 6.2.2); see module doc."""
        remaining = _hours_to_us(hours)
        d, t = self._split(start)
        on = self._schedule.on
        idle_days = 0
        try:
            while True:
                if self.is_workday(d):
                    idle_days = 0
                    day = on(d)
                    # Skip whole working days at once when they are used up entirely.
                    if t == 0 and remaining > day.total:
                        remaining -= day.total
                    else:
                        for ps, pe in day.spans:
                            if t > pe:  # period already over (its end itself still counts)
                                continue
                            cur = ps if t < ps else t
                            if remaining <= pe - cur:
                                return self._at(d, cur + remaining)
                            remaining -= pe - cur
                else:
                    idle_days += 1
                    if idle_days > _MAX_DAYS_WITHOUT_WORK:
                        raise ValueError(
                            f"{_MAX_DAYS_WITHOUT_WORK} 天内没有工作日，请检查工作日历设置"
                        )
                d += _ONE_DAY
                t = 0
        except OverflowError:
            raise ValueError(f"工作小时数过大，超出日历范围：{hours!r}") from None

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the last period of the ``days``-th working day after ``start``'s day.

        6.2.7 (3 days) and 6.2.8 (5 days). ``days == 0``: end of the start's day if it is a
        working day, else end of the next working day.
        """
        n = _check_days(days)
        d = self.localize(start).date()
        if n == 0 and not self.is_workday(d):
            n = 1
        for _ in range(n):
            d = self.next_workday(d)
        return self._at(d, self._schedule.on(d).last_end)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end`` (``end`` must not be before ``start``)."""
        if self.localize(end) < self.localize(start):
            raise ValueError(f"结束时间 {end} 早于开始时间 {start}")
        sd, st = self._split(start)
        ed, et = self._split(end)
        if sd == ed:
            return self._worked(sd, st, et) / _US_PER_HOUR
        total = self._worked(sd, st, _US_PER_DAY) + self._worked(ed, 0, et)
        d, on = sd + _ONE_DAY, self._schedule.on
        while d < ed:
            if self.is_workday(d):
                total += on(d).total
            d += _ONE_DAY
        return total / _US_PER_HOUR

    def _worked(self, d: date, t0: int, t1: int) -> int:
        """Working microseconds of day ``d`` between ``t0`` and ``t1`` (since midnight)."""
        if not self.is_workday(d):
            return 0
        total = 0
        for ps, pe in self._schedule.on(d).spans:
            lo, hi = max(ps, t0), min(pe, t1)
            if hi > lo:
                total += hi - lo
        return total

    def is_working_time(self, dt: datetime) -> bool:
        """True inside a working period (start included, end excluded) of a working day."""
        d, t = self._split(dt)
        return self.is_workday(d) and any(ps <= t < pe for ps, pe in self._schedule.on(d).spans)
