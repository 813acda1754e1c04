"""China's statutory days off and make-up working days (调休上班), one year at a time.

What the `holidays` package knows of China (GLOSSARY 工作日), read once per year and cached; the
working calendar (``workdays.WorkCalendar``) puts the company's corrections on top. Plain Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

MAKEUP_WORKDAY_NAME = "调休上班"


@dataclass(frozen=True)
class YearData:
    days_off: dict[date, str]  # statutory days off (incl. substituted days off), Chinese names
    makeup_workdays: frozenset[date]  # weekend days that are working days (调休上班)
    published: bool  # the library knows the State Council's schedule for this year


NO_DATA = YearData({}, frozenset(), False)


@lru_cache(maxsize=None)
def china_year(year: int) -> YearData:
    """What the `holidays` package knows of China for one year (cached: ~80 ms per year)."""
    # Imported lazily, and the country module alone (not the package's whole registry):
    # only calendars that use the library pay for it.
    from holidays.countries.china import China

    if not 1 <= year <= 9999:
        return NO_DATA
    cn = China(years=year, language="zh_CN")
    days_off = {d: name for d, name in cn.items() if d.year == year}
    makeup = frozenset(d for d in getattr(cn, "weekend_workdays", ()) if d.year == year)
    # Substituted days off (休息日（由 … 调休）) are 4- or 5-tuples in the State Council data.
    specials = getattr(cn, "special_public_holidays", {}).get(year, ())
    if specials and not isinstance(specials[0], tuple):
        specials = (specials,)
    substituted = any(len(item) >= 4 for item in specials)
    return YearData(days_off, makeup, bool(makeup) or substituted)
