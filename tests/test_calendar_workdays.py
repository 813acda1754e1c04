"""The working calendar (records.calendar.workdays) and the regulation's time limits (records.calendar.time_limits).

Expected values are computed by hand. 2026 facts used below (holidays 0.109, which matches the
State Council notice 国办发明电〔2025〕7号):
  元旦 1/1–1/3 off, Sun 1/4 works;  春节 2/15–2/23 off, Sat 2/14 and Sat 2/28 work;
  清明 4/4–4/6 off;  劳动节 5/1–5/5 off, Sat 5/9 works;  端午 6/19–6/21 off;  中秋 9/25–9/27 off;
  国庆 10/1–10/7 off, Sun 9/20 and Sat 10/10 work.
  2027: only base holidays (no published 调休); Fri 2027-01-01 is off.
A working day is 08:30–12:00 + 13:30–17:30 = 7.5 working hours.
"""
from __future__ import annotations

import ast
import json
import math
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records import policy
from records.calendar import time_limits
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def dt(y, m, d, hh=0, mm=0, ss=0):
    """Naive local time (read as Asia/Shanghai by the calendar)."""
    return datetime(y, m, d, hh, mm, ss)


def sh(y, m, d, hh=0, mm=0, ss=0):
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


# Company corrections: a shutdown on Wed 2026-03-04 and a make-up working Sat 2026-03-07.
CORRECTIONS = {
    date(2026, 3, 4): (False, "全厂停电检修"),
    date(2026, 3, 7): (True, "补班"),
}


@pytest.fixture(scope="module")
def corrected():
    return WorkCalendar.default(CORRECTIONS)


# --- is_workday -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 3, 2), True),  # ordinary Monday
        (date(2026, 3, 6), True),  # ordinary Friday
        (date(2026, 3, 7), False),  # ordinary Saturday
        (date(2026, 3, 8), False),  # ordinary Sunday
        (date(2026, 1, 1), False),  # 元旦
        (date(2026, 1, 2), False),  # 元旦 substituted day off
        (date(2026, 1, 3), False),  # Saturday inside 元旦
        (date(2026, 1, 4), True),  # Sunday make-up day
        (date(2026, 2, 13), True),  # Friday before 春节
        (date(2026, 2, 14), True),  # Saturday make-up day
        (date(2026, 2, 15), False),
        (date(2026, 2, 16), False),  # 除夕
        (date(2026, 2, 17), False),  # 春节
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), False),  # Monday, substituted day off
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday make-up day
        (date(2026, 3, 1), False),
        (date(2026, 4, 6), False),  # 清明 observed
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),  # Saturday make-up day
        (date(2026, 6, 19), False),  # 端午
        (date(2026, 9, 20), True),  # Sunday make-up day
        (date(2026, 9, 25), False),  # 中秋
        (date(2026, 10, 1), False),  # 国庆
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday make-up day
        (date(2026, 10, 11), False),
        (date(2027, 1, 1), False),  # 2027 base holiday
        (date(2027, 1, 4), True),
    ],
)
def test_is_workday(cal, day, expected):
    assert cal.is_workday(day) is expected


def test_is_workday_of_an_aware_datetime_uses_local_date(cal):
    # 2026-10-07 20:00 UTC is 2026-10-08 04:00 in Shanghai: a working day.
    assert cal.is_workday(datetime(2026, 10, 7, 20, 0, tzinfo=UTC)) is True


@pytest.mark.parametrize(
    "day, expected",
    [
        (date(2026, 3, 4), False),  # shutdown overrides the weekday rule
        (date(2026, 3, 7), True),  # added make-up Saturday
        (date(2026, 3, 5), True),  # untouched
    ],
)
def test_corrections(corrected, day, expected):
    assert corrected.is_workday(day) is expected


def test_correction_overrides_the_library():
    cal = WorkCalendar.default({"2026-10-07": (True, "提前上班"), date(2026, 2, 14): (False, "放假")})
    assert cal.is_workday(date(2026, 10, 7)) is True
    assert cal.is_workday(date(2026, 2, 14)) is False


@pytest.mark.parametrize("bad", [{"2026-13-01": (True, "x")}, {date(2026, 1, 1): "yes"},
                                 {date(2026, 1, 1): ("yes", "x")}])
def test_bad_corrections(bad):
    with pytest.raises(ValueError):
        WorkCalendar.default(bad)


@pytest.mark.parametrize("year, expected", [(2024, True), (2025, True), (2026, True),
                                            (2027, False), (2035, False)])
def test_has_published_schedule(cal, year, expected):
    assert cal.has_published_schedule(year) is expected


def test_year_overview_2026(corrected):
    ov = corrected.year_overview(2026)
    json.dumps(ov)  # plain data
    assert ov["published"] is True
    assert [x["date"] for x in ov["makeup_workdays"]] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    weekday_days_off = [x["date"] for x in ov["days_off"] if x["weekday"] < 5]
    assert weekday_days_off == [
        "2026-01-01", "2026-01-02",
        "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-23",
        "2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05", "2026-06-19", "2026-09-25",
        "2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
    assert ov["corrections"] == [
        {"date": "2026-03-04", "weekday": 2, "is_workday": False, "reason": "全厂停电检修"},
        {"date": "2026-03-07", "weekday": 5, "is_workday": True, "reason": "补班"},
    ]
    # 261 weekdays - 19 weekday days off + 6 make-up days - 1 shutdown + 1 added Saturday
    assert ov["workday_count"] == 248


def test_year_overview_2027_unpublished(cal):
    ov = cal.year_overview(2027)
    assert ov["published"] is False and ov["makeup_workdays"] == [] and ov["corrections"] == []


# --- add_working_hours ---------------------------------------------------------------------------

ADD_HOURS = [
    # plain day (Mon 2026-03-02)
    ("start of day, zero", dt(2026, 3, 2, 8, 30), 0, sh(2026, 3, 2, 8, 30)),
    ("ends exactly at noon", dt(2026, 3, 2, 8, 30), 3.5, sh(2026, 3, 2, 12, 0)),
    ("ends exactly at 17:30", dt(2026, 3, 2, 8, 30), 7.5, sh(2026, 3, 2, 17, 30)),
    ("one day and a half hour", dt(2026, 3, 2, 8, 30), 8, sh(2026, 3, 3, 9, 0)),
    ("across lunch", dt(2026, 3, 2, 11, 0), 2, sh(2026, 3, 2, 14, 30)),
    ("quarter hour", dt(2026, 3, 2, 9, 0), 0.25, sh(2026, 3, 2, 9, 15)),
    ("one minute", dt(2026, 3, 2, 9, 0), 1 / 60, sh(2026, 3, 2, 9, 1)),
    ("fraction across lunch", dt(2026, 3, 2, 11, 45), 0.5, sh(2026, 3, 2, 13, 45)),
    ("seconds kept", dt(2026, 3, 2, 9, 0, 30), 1, sh(2026, 3, 2, 10, 0, 30)),
    # starting outside working time
    ("before 08:30", dt(2026, 3, 2, 7, 0), 1, sh(2026, 3, 2, 9, 30)),
    ("midnight, zero", dt(2026, 3, 2, 0, 0), 0, sh(2026, 3, 2, 8, 30)),
    ("during lunch", dt(2026, 3, 2, 12, 30), 1, sh(2026, 3, 2, 14, 30)),
    ("at 12:00, zero stays", dt(2026, 3, 2, 12, 0), 0, sh(2026, 3, 2, 12, 0)),
    ("at 12:00, one hour", dt(2026, 3, 2, 12, 0), 1, sh(2026, 3, 2, 14, 30)),
    ("in lunch, zero", dt(2026, 3, 2, 12, 10), 0, sh(2026, 3, 2, 13, 30)),
    ("at 13:30", dt(2026, 3, 2, 13, 30), 4, sh(2026, 3, 2, 17, 30)),
    ("at 17:30, zero stays", dt(2026, 3, 2, 17, 30), 0, sh(2026, 3, 2, 17, 30)),
    ("at 17:30, half hour", dt(2026, 3, 2, 17, 30), 0.5, sh(2026, 3, 3, 9, 0)),
    ("after 17:30", dt(2026, 3, 2, 18, 0), 1, sh(2026, 3, 3, 9, 30)),
    # weekends and long spans
    ("Friday across the weekend", dt(2026, 3, 6, 16, 0), 4, sh(2026, 3, 9, 11, 0)),
    ("start on Saturday", dt(2026, 3, 7, 10, 0), 1, sh(2026, 3, 9, 9, 30)),
    ("five full days", dt(2026, 3, 2, 8, 30), 37.5, sh(2026, 3, 6, 17, 30)),
    ("five days and 2.5 h", dt(2026, 3, 2, 8, 30), 40, sh(2026, 3, 9, 11, 0)),
    # 春节 2026
    ("Fri 2/13 into make-up Sat 2/14", dt(2026, 2, 13, 15, 0), 4, sh(2026, 2, 14, 10, 0)),
    ("make-up Sat 2/14 across 春节", dt(2026, 2, 14, 16, 0), 4, sh(2026, 2, 24, 11, 0)),
    ("start on 春节 holiday", dt(2026, 2, 17, 10, 0), 8, sh(2026, 2, 25, 9, 0)),
    ("Fri 2/27 into make-up Sat 2/28", dt(2026, 2, 27, 17, 0), 1, sh(2026, 2, 28, 9, 0)),
    ("whole make-up Sat 2/28", dt(2026, 2, 28, 8, 30), 7.5, sh(2026, 2, 28, 17, 30)),
    # 国庆 / 中秋 2026
    ("Wed 9/30 across 国庆", dt(2026, 9, 30, 15, 0), 4, sh(2026, 10, 8, 10, 0)),
    ("make-up Sun 9/20", dt(2026, 9, 20, 9, 0), 1, sh(2026, 9, 20, 10, 0)),
    ("Sat 9/19 into make-up Sun 9/20", dt(2026, 9, 19, 10, 0), 1, sh(2026, 9, 20, 9, 30)),
    ("Fri 10/9 into make-up Sat 10/10", dt(2026, 10, 9, 17, 0), 1, sh(2026, 10, 10, 9, 0)),
    ("make-up Sat 10/10 to Mon 10/12", dt(2026, 10, 10, 17, 0), 1, sh(2026, 10, 12, 9, 0)),
    ("start on 国庆 holiday", dt(2026, 10, 3, 9, 0), 0, sh(2026, 10, 8, 8, 30)),
    ("Thu 9/24 across 中秋", dt(2026, 9, 24, 17, 0), 1, sh(2026, 9, 28, 9, 0)),
    # year ends
    ("2025 into make-up Sun 2026-01-04", dt(2025, 12, 31, 17, 0), 1, sh(2026, 1, 4, 9, 0)),
    ("2026 into 2027", dt(2026, 12, 31, 16, 0), 8, sh(2027, 1, 4, 16, 30)),
    # aware datetimes are converted
    ("UTC 00:30 = 08:30 local", datetime(2026, 3, 2, 0, 30, tzinfo=UTC), 1, sh(2026, 3, 2, 9, 30)),
    ("UTC Sunday 23:00 = Mon 07:00", datetime(2026, 3, 1, 23, 0, tzinfo=UTC), 1,
     sh(2026, 3, 2, 9, 30)),
    ("aware Shanghai", sh(2026, 3, 2, 11, 0), 2, sh(2026, 3, 2, 14, 30)),
]


@pytest.mark.parametrize("label, start, hours, expected", ADD_HOURS, ids=[c[0] for c in ADD_HOURS])
def test_add_working_hours(cal, label, start, hours, expected):
    got = cal.add_working_hours(start, hours)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(hours=8)
    assert str(got.tzinfo) == "Asia/Shanghai"


@pytest.mark.parametrize(
    "start, hours, expected",
    [
        (dt(2026, 3, 3, 17, 0), 1, sh(2026, 3, 5, 9, 0)),  # shutdown Wed 3/4 skipped
        (dt(2026, 3, 6, 17, 0), 1, sh(2026, 3, 7, 9, 0)),  # added make-up Sat 3/7
        (dt(2026, 3, 7, 17, 0), 1, sh(2026, 3, 9, 9, 0)),
    ],
)
def test_add_working_hours_with_corrections(corrected, start, hours, expected):
    assert corrected.add_working_hours(start, hours) == expected


@pytest.mark.parametrize(
    "corrections, expected",
    [
        ({date(2026, 10, 8): (False, "停工")}, sh(2026, 10, 9, 10, 0)),
        ({date(2026, 10, 7): (True, "提前上班")}, sh(2026, 10, 7, 10, 0)),
    ],
)
def test_corrections_around_national_day(corrections, expected):
    cal = WorkCalendar.default(corrections)
    assert cal.add_working_hours(dt(2026, 9, 30, 15, 0), 4) == expected


def test_custom_periods():
    cal = WorkCalendar([(time(9, 0), time(17, 0))], public_holidays=False)
    assert cal.add_working_hours(dt(2026, 10, 1, 16, 0), 2) == sh(2026, 10, 2, 10, 0)
    assert cal.add_working_days(dt(2026, 10, 1, 10, 0), 0) == sh(2026, 10, 1, 17, 0)
    assert cal.has_published_schedule(2026) is False


# --- add_working_days ----------------------------------------------------------------------------

ADD_DAYS = [
    ("Mon, 3 days", dt(2026, 3, 2, 10, 0), 3, sh(2026, 3, 5, 17, 30)),
    ("Mon midnight, 3 days", dt(2026, 3, 2, 0, 0), 3, sh(2026, 3, 5, 17, 30)),
    ("Mon evening, 3 days", dt(2026, 3, 2, 20, 0), 3, sh(2026, 3, 5, 17, 30)),
    ("Mon, 0 days = end of Mon", dt(2026, 3, 2, 10, 0), 0, sh(2026, 3, 2, 17, 30)),
    ("Mon evening, 0 days", dt(2026, 3, 2, 20, 0), 0, sh(2026, 3, 2, 17, 30)),
    ("Sat, 0 days = end of Mon", dt(2026, 3, 7, 10, 0), 0, sh(2026, 3, 9, 17, 30)),
    ("Sat, 1 day", dt(2026, 3, 7, 10, 0), 1, sh(2026, 3, 9, 17, 30)),
    ("Sat, 3 days", dt(2026, 3, 7, 10, 0), 3, sh(2026, 3, 11, 17, 30)),
    ("Fri, 3 days across weekend", dt(2026, 3, 6, 10, 0), 3, sh(2026, 3, 11, 17, 30)),
    ("Fri, 5 days", dt(2026, 3, 6, 10, 0), 5, sh(2026, 3, 13, 17, 30)),
    ("春节: Thu 2/12, 3 days", dt(2026, 2, 12, 10, 0), 3, sh(2026, 2, 24, 17, 30)),
    ("春节: Thu 2/12, 5 days", dt(2026, 2, 12, 10, 0), 5, sh(2026, 2, 26, 17, 30)),
    ("国庆: Tue 9/29, 3 days", dt(2026, 9, 29, 18, 0), 3, sh(2026, 10, 9, 17, 30)),
    ("国庆: Tue 9/29, 5 days", dt(2026, 9, 29, 18, 0), 5, sh(2026, 10, 12, 17, 30)),
    ("start on 国庆 holiday, 0", dt(2026, 10, 3, 10, 0), 0, sh(2026, 10, 8, 17, 30)),
    ("start on 国庆 holiday, 1", dt(2026, 10, 3, 10, 0), 1, sh(2026, 10, 8, 17, 30)),
    ("make-up Sun 1/4, 0", dt(2026, 1, 4, 10, 0), 0, sh(2026, 1, 4, 17, 30)),
    ("Wed 12/30 into 2027", dt(2026, 12, 30, 10, 0), 3, sh(2027, 1, 5, 17, 30)),
    ("UTC evening = next local day", datetime(2026, 3, 2, 17, 0, tzinfo=UTC), 1,
     sh(2026, 3, 4, 17, 30)),  # Tue 01:00 local, 1 day -> Wed
]


@pytest.mark.parametrize("label, start, days, expected", ADD_DAYS, ids=[c[0] for c in ADD_DAYS])
def test_add_working_days(cal, label, start, days, expected):
    assert cal.add_working_days(start, days) == expected


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (dt(2026, 3, 2, 10, 0), 3, sh(2026, 3, 6, 17, 30)),  # Tue, (shutdown Wed), Thu, Fri
        (dt(2026, 3, 5, 10, 0), 2, sh(2026, 3, 7, 17, 30)),  # Fri, added Sat
        (dt(2026, 3, 4, 10, 0), 0, sh(2026, 3, 5, 17, 30)),  # start on shutdown day
    ],
)
def test_add_working_days_with_corrections(corrected, start, days, expected):
    assert corrected.add_working_days(start, days) == expected


# --- working_hours_between ------------------------------------------------------------------------

BETWEEN = [
    (dt(2026, 3, 2, 8, 30), dt(2026, 3, 2, 17, 30), 7.5),
    (dt(2026, 3, 2, 11, 0), dt(2026, 3, 2, 14, 0), 1.5),
    (dt(2026, 3, 2, 12, 0), dt(2026, 3, 2, 13, 30), 0),
    (dt(2026, 3, 2, 9, 0), dt(2026, 3, 2, 9, 0), 0),
    (dt(2026, 3, 2, 9, 0), dt(2026, 3, 2, 9, 15), 0.25),
    (dt(2026, 3, 6, 16, 0), dt(2026, 3, 9, 11, 0), 4),
    (dt(2026, 3, 2, 0, 0), dt(2026, 3, 9, 0, 0), 37.5),
    (dt(2026, 9, 30, 15, 0), dt(2026, 10, 8, 10, 0), 4),
    (dt(2026, 10, 1, 0, 0), dt(2026, 10, 8, 0, 0), 0),
    (dt(2026, 2, 14, 8, 30), dt(2026, 2, 15, 12, 0), 7.5),
    (dt(2026, 12, 31, 16, 0), dt(2027, 1, 4, 16, 30), 8),
    (dt(2026, 3, 2, 8, 30), datetime(2026, 3, 2, 9, 30, tzinfo=UTC), 7.5),
]


@pytest.mark.parametrize("start, end, expected", BETWEEN)
def test_working_hours_between(cal, start, end, expected):
    assert cal.working_hours_between(start, end) == pytest.approx(expected)


def test_working_hours_between_with_corrections(corrected):
    # Mon, Tue, (shutdown Wed), Thu, Fri = 4 days; the added Saturday makes 5 again.
    assert corrected.working_hours_between(dt(2026, 3, 2), dt(2026, 3, 7)) == pytest.approx(30)
    assert corrected.working_hours_between(dt(2026, 3, 2), dt(2026, 3, 9)) == pytest.approx(37.5)


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("hours", [-1, -0.001, math.nan, math.inf, "4", None, True])
def test_add_working_hours_rejects(cal, hours):
    with pytest.raises(ValueError):
        cal.add_working_hours(dt(2026, 3, 2, 9), hours)


@pytest.mark.parametrize("days", [-1, 1.5, 3.0, "3", None, True])
def test_add_working_days_rejects(cal, days):
    with pytest.raises(ValueError):
        cal.add_working_days(dt(2026, 3, 2, 9), days)


def test_between_rejects_end_before_start(cal):
    with pytest.raises(ValueError, match="早于"):
        cal.working_hours_between(dt(2026, 3, 2, 10), dt(2026, 3, 2, 9))
    with pytest.raises(ValueError):  # 09:00 UTC = 17:00 local, before 17:30 local
        cal.working_hours_between(dt(2026, 3, 2, 17, 30), datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize("start", [date(2026, 3, 2), "2026-03-02 09:00", None])
def test_rejects_non_datetimes(cal, start):
    with pytest.raises(ValueError):
        cal.add_working_hours(start, 1)


@pytest.mark.parametrize(
    "periods",
    [[], [(time(12), time(8, 30))], [(time(8, 30), time(12)), (time(11), time(17))],
     [(time(8, 30),)]],
)
def test_bad_periods(periods):
    with pytest.raises(ValueError):
        WorkCalendar(periods)


# --- 5.1.1.3 dispatch hours (policy.dispatch_hours) ------------------------------------------------

@pytest.mark.parametrize(
    "km, hours",
    [(0, 24), (1, 24), (300, 24), (300.1, 48), (1000, 48), (1000.5, 72), (1500, 72),
     (5000, 72)],
)
def test_dispatch_hours(km, hours):
    assert policy.dispatch_hours(km) == hours


@pytest.mark.parametrize("km", [-1, -0.1, math.nan, "300", None, True])
def test_dispatch_hours_rejects(km):
    with pytest.raises(ValueError):
        policy.dispatch_hours(km)


# --- Deadlines ------------------------------------------------------------------------------------

DEADLINES = [
    (time_limits.handover_deadline, dt(2026, 9, 30, 15, 0), "6.1.3",
     "收到后 4 个工作小时内传递到技质部", sh(2026, 10, 8, 10, 0)),
    (time_limits.consult_reply_deadline, dt(2026, 3, 2, 10, 0), "6.2.1",
     "收到咨询后 8 个工作小时内答复", sh(2026, 3, 3, 10, 30)),
    (time_limits.decision_deadline, dt(2026, 2, 13, 14, 0), "6.2.2",
     "技质部收到后 8 个工作小时内确定解决方案", sh(2026, 2, 14, 14, 30)),
    (time_limits.report_deadline, dt(2026, 9, 29, 18, 0), "6.2.7",
     "返回后 3 个工作日内书面汇报", sh(2026, 10, 9, 17, 30)),
    (time_limits.confirm_deadline, dt(2026, 9, 29, 18, 0), "6.2.8",
     "汇报后 5 个工作日内完成确认及费用审核", sh(2026, 10, 12, 17, 30)),
]


@pytest.mark.parametrize("make, start, clause, basis, due", DEADLINES)
def test_calendar_deadlines(cal, make, start, clause, basis, due):
    d = make(cal, start)
    assert (d.clause, d.basis, d.start, d.due) == (clause, basis, sh(*start.timetuple()[:6]), due)
    assert Deadline.from_dict(json.loads(json.dumps(d.to_dict()))) == d


@pytest.mark.parametrize(
    "start, km, basis, due",
    [
        # clock hours: the 国庆 holidays do not stop the clock
        (dt(2026, 9, 30, 20, 0), 1200, "路程 1200 公里，接到请求后 72 小时内到达现场",
         sh(2026, 10, 3, 20, 0)),
        (dt(2026, 3, 7, 9, 0), 300, "路程 300 公里，接到请求后 24 小时内到达现场",
         sh(2026, 3, 8, 9, 0)),
        (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 300.1,
         "路程 300.1 公里，接到请求后 48 小时内到达现场", sh(2026, 3, 4, 9, 0)),
    ],
)
def test_dispatch_deadline(start, km, basis, due):
    d = time_limits.dispatch_deadline(start, km)
    assert (d.clause, d.basis, d.due) == ("5.1.1.3", basis, due)
    assert d.clock_hours_left(d.start) == policy.dispatch_hours(km)


def test_dispatch_deadline_rejects_bad_distance():
    with pytest.raises(ValueError):
        time_limits.dispatch_deadline(dt(2026, 3, 2), -5)


def test_deadline_to_dict_is_iso():
    d = time_limits.handover_deadline(WorkCalendar.default(), dt(2026, 3, 2, 9, 0))
    assert d.to_dict() == {
        "clause": "6.1.3", "basis": "收到后 4 个工作小时内传递到技质部",
        "start": "2026-03-02T09:00:00+08:00", "due": "2026-03-02T14:30:00+08:00",
    }
    with pytest.raises(ValueError):
        Deadline.from_dict({"clause": "6.1.3"})


def test_overdue_and_hours_left(cal):
    d = time_limits.handover_deadline(cal, dt(2026, 3, 2, 9, 0))  # due Mon 14:30
    assert not d.is_overdue(dt(2026, 3, 2, 14, 30))  # done at the due instant is on time
    assert d.is_overdue(dt(2026, 3, 2, 14, 30) + timedelta(microseconds=1))
    assert not d.is_overdue(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))  # 14:00 local
    assert d.working_hours_left(cal, dt(2026, 3, 2, 11, 0)) == pytest.approx(2)
    assert d.working_hours_left(cal, dt(2026, 3, 2, 12, 30)) == pytest.approx(1)
    assert d.working_hours_left(cal, dt(2026, 3, 2, 15, 30)) == pytest.approx(-1)
    assert d.working_hours_left(cal, dt(2026, 3, 3, 9, 30)) == pytest.approx(-4)


# --- Properties ---------------------------------------------------------------------------------

STARTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31))
HOURS = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(start=STARTS, h=HOURS)
def test_between_inverts_add(cal, start, h):
    end = cal.add_working_hours(start, h)
    assert end >= start.replace(tzinfo=SH)
    assert cal.working_hours_between(start, end) == pytest.approx(h, abs=1e-6)
    # the result is a working instant (a period's end included)
    assert cal.is_workday(end.date())
    assert any(a <= end <= b for a, b in cal.working_periods(end.date()))


@settings(max_examples=200, deadline=None)
@given(start=STARTS, h1=HOURS, h2=HOURS)
def test_add_is_monotonic(cal, start, h1, h2):
    lo, hi = sorted((h1, h2))
    assert cal.add_working_hours(start, lo) <= cal.add_working_hours(start, hi)


@settings(max_examples=200, deadline=None)
@given(start=STARTS, m1=st.integers(0, 6000), m2=st.integers(0, 6000))
def test_add_is_additive_in_whole_minutes(cal, start, m1, m2):
    step = cal.add_working_hours(cal.add_working_hours(start, m1 / 60), m2 / 60)
    assert step == cal.add_working_hours(start, (m1 + m2) / 60)


@settings(max_examples=200, deadline=None)
@given(a=STARTS, b=STARTS, c=STARTS)
def test_between_is_additive(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    assert cal.working_hours_between(a, c) == pytest.approx(
        cal.working_hours_between(a, b) + cal.working_hours_between(b, c), abs=1e-6)


def test_engine_has_no_flask_or_tinydb():
    for name in ("calendar/workdays.py", "calendar/time_limits.py"):
        tree = ast.parse((Path(__file__).parent.parent / "records" / name).read_text("utf-8"))
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
        }
        assert not imported & {"flask", "tinydb"}, name
