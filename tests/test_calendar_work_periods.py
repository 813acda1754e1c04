"""Working periods set from a date on (issue 15, 作息时间; GLOSSARY 工作小时): the arithmetic
across a change of periods, the refusal of retroactive or invalid settings, the open deadlines
that span the date recomputed (met ones not), 6.2.8's late days with each day's periods, and the
calendar page's section 「作息时间」.

Dates (2026, no holidays in them): Fri 11-27 is "today"; Mon 11-30, Tue 12-01 … Fri 12-04.
SUMMER (08:00–12:00, 14:30–18:00, 7.5 h) holds from Tue 12-01, the default (08:30–12:00,
13:30–17:30) again from Thu 12-03.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import date, time, timedelta

import pytest

from records import policy
from records.calendar import work_periods
from records.calendar.corrections import current_calendar
from records.calendar.work_periods import WorkPeriodsError
from records.calendar.workdays import WorkCalendar, today_local
from records.cases import calendar_change, vocab
from records.fines.proposals import late_days
from tests.fixtures.calendar import at

TODAY = date(2026, 11, 27)
SUMMER = ((time(8, 0), time(12, 0)), (time(14, 30), time(18, 0)))
SCHEDULE = [(date(2026, 12, 1), SUMMER), (date(2026, 12, 3), policy.WORK_PERIODS)]
CAL = WorkCalendar.default(schedule=SCHEDULE)


@pytest.mark.parametrize("start, hours, due", [
    ("2026-11-30T16:00", 8, "2026-12-01T17:00"),    # Mon 1.5 h, Tue 08:00–12:00 4 h, 14:30 + 2.5 h
    ("2026-11-30T17:00", 12, "2026-12-02T12:00"),   # 0.5 + Tue 7.5 + Wed 08:00 + 4
    ("2026-11-30T00:00", 15, "2026-12-01T18:00"),   # a whole default day skipped, then a summer day
    ("2026-12-01T12:30", 0, "2026-12-01T14:30"),    # summer lunch: the next period starts at 14:30
    ("2026-12-02T17:00", 2, "2026-12-03T09:30"),    # back to the default: Wed 17–18, Thu 08:30 + 1
    ("2026-11-27T17:00", 0.5, "2026-11-27T17:30"),  # before the change: the default
])
def test_hours_added_across_the_switch(start, hours, due):
    assert CAL.add_working_hours(at(start), hours) == at(due)
    assert CAL.working_hours_between(at(start), at(due)) == pytest.approx(hours)


@pytest.mark.parametrize("start, days, due", [
    ("2026-11-27T10:00", 0, "2026-11-27T17:30"),
    ("2026-11-30T10:00", 1, "2026-12-01T18:00"),
    ("2026-11-30T10:00", 2, "2026-12-02T18:00"),
    ("2026-11-30T10:00", 3, "2026-12-03T17:30"),
])
def test_add_working_days_across_the_switch(start, days, due):
    assert CAL.add_working_days(at(start), days) == at(due)


@pytest.mark.parametrize("when, working", [
    ("2026-11-30T08:15", False), ("2026-12-01T08:15", True), ("2026-12-01T13:45", False),
    ("2026-12-01T17:45", True), ("2026-12-03T17:45", False), ("2026-12-03T13:45", True),
])
def test_working_time_follows_the_day(when, working):
    assert CAL.is_working_time(at(when)) is working


def test_periods_of_a_day_and_corrections_keep_the_schedule():
    assert CAL.periods_on(date(2026, 11, 30)) == policy.WORK_PERIODS
    assert CAL.periods_on(date(2026, 12, 2)) == SUMMER and CAL.periods_on(date(2027, 1, 1)) == policy.WORK_PERIODS
    assert CAL.working_hours_between(at("2026-11-30T17:00"), at("2026-12-03T09:00")) == 16.0
    shut = CAL.with_corrections({"2026-12-01": (False, "停工")})
    assert shut.add_working_hours(at("2026-11-30T17:00"), 1) == at("2026-12-02T08:30")
    assert WorkCalendar.default().periods_on(date(2026, 12, 2)) == policy.WORK_PERIODS


# --- 6.2.8: a working day is late once it has begun (its own first period) after the due time ----

LATER = WorkCalendar.default(schedule=[(date(2026, 12, 11), ((time(10, 0), time(12, 0)), (time(13, 0), time(17, 0)))),
                                       (date(2026, 12, 14), policy.WORK_PERIODS)])


@pytest.mark.parametrize("until, days", [
    ("2026-12-11T09:00", []),                          # Fri begins at 10:00 from the change: not late yet
    ("2026-12-11T10:05", ["2026-12-11"]),
    ("2026-12-14T08:40", ["2026-12-11", "2026-12-14"]),  # Mon back to 08:30
])
def test_late_days_use_the_periods_of_each_day(until, days):
    assert [d.isoformat() for d in late_days(LATER, at("2026-12-10T17:30"), at(until))] == days
    if until == "2026-12-11T09:00":  # with the default periods the Friday had begun
        assert late_days(WorkCalendar.default(), at("2026-12-10T17:30"), at(until)) == [date(2026, 12, 11)]


# --- Settings: never retroactive, periods checked ---------------------------------------------

@pytest.mark.parametrize("start, texts, field, words", [
    ("2026-11-27", ["08:00–12:00"], "effective_from", "不能追溯"),     # today
    ("2026-11-01", ["08:00–12:00"], "effective_from", "不能追溯"),
    ("", ["08:00–12:00"], "effective_from", "生效日期"),
    ("2026-12-01", ["", "", ""], "period1", "至少填写一个"),
    ("2026-12-01", ["12:00–08:30"], "period1", "早于结束"),
    ("2026-12-01", ["08:30–12:00", "11:00–17:00"], "period2", "不重叠"),
    ("2026-12-01", ["08:30–24:30"], "period1", "00:00 至 23:59"),
    ("2026-12-01", ["8点半到12点"], "period1", "HH:MM"),
    ("2026-12-01", ["08:30"], "period1", "开始–结束"),
    ("2026-12-01", ["08:00-09:00", "10:00-11:00", "12:00-13:00", "14:00-15:00"], "period4", "最多 3 个"),
])
def test_refused_settings(world, start, texts, field, words):
    with pytest.raises(WorkPeriodsError, match=words) as exc:
        calendar_change.set_work_periods(world.store, start, texts, "", "admin", today=TODAY)
    assert exc.value.field == field
    assert list(world.store.scan(work_periods.TABLE)) == []


def test_periods_typed_loosely_are_stored_plainly():
    assert work_periods.check_periods(["8:00 - 12:00", "", "14：30～18：00"]) == [["08:00", "12:00"], ["14:30", "18:00"]]


def test_a_setting_recomputes_open_deadlines_spanning_its_date_not_met_ones(world, new_case):
    spanning = new_case(kind="consultation", serial="", now="2026-11-30T16:00")
    met = new_case(kind="consultation", serial="", now="2026-11-30T16:00", answered_directly=True,
                   direct_answer="更换保险丝即可")
    before = new_case(kind="consultation", serial="", now="2026-11-27T09:00")

    def due(case):
        entry = world.store.get(vocab.TABLE, case["id"])["deadlines"]["consult_reply"]
        return entry["due"], bool(entry.get("done_at"))

    assert due(spanning) == ("2026-12-01T16:30:00+08:00", False)
    assert due(met) == ("2026-12-01T16:30:00+08:00", True)
    assert due(before) == ("2026-11-30T09:30:00+08:00", False)
    calendar_change.set_work_periods(world.store, "2026-12-01", ["08:00–12:00", "14:30–18:00"], "夏季作息", "admin",
                                     today=TODAY)
    calendar_change.set_work_periods(world.store, "2026-12-03", ["08:30–12:00", "13:30–17:30"], "恢复", "admin",
                                     today=TODAY)
    assert due(spanning) == ("2026-12-01T17:00:00+08:00", False)  # the summer afternoon
    assert due(met) == ("2026-12-01T16:30:00+08:00", True)         # met: never recomputed
    assert due(before) == ("2026-11-30T09:30:00+08:00", False)     # ends before the date
    cal = current_calendar(world.store)
    assert cal.periods_on(date(2026, 12, 2)) == SUMMER and cal.periods_on(date(2026, 12, 3)) == policy.WORK_PERIODS
    actions = [e["action"] for e in world.store.history(vocab.TABLE, spanning["id"])]
    assert actions.count("deadlines_recomputed") == 1
    # Deleting a planned setting moves the deadline back; one in force cannot be deleted.
    with pytest.raises(WorkPeriodsError, match="已经生效"):
        calendar_change.remove_work_periods(world.store, "2026-12-01", "admin", today=date(2026, 12, 1))
    calendar_change.remove_work_periods(world.store, "2026-12-01", "admin", today=TODAY)
    assert due(spanning) == ("2026-12-01T16:30:00+08:00", False)
    rows = work_periods.list_settings(world.store, TODAY)
    assert [(r["from"], r["text"], r["planned"]) for r in rows] == [("2026-12-03", "08:30–12:00、13:30–17:30", True)]
    history = world.store.history(work_periods.TABLE, rows[0]["id"])
    assert [e["actor"] for e in history] == ["admin"]


# --- The page: section 「作息时间」 -------------------------------------------------------------

def test_page_adds_lists_and_deletes_a_setting(client, auth, store):
    auth.login("admin")
    page = client.get("/calendar/").get_data(as_text=True)
    assert "作息时间" in page and "今天的工作时段：<strong>08:30–12:00、13:30–17:30</strong>" in page
    assert 'name="period1"' in page
    start = (today_local() + timedelta(days=1)).isoformat()
    resp = client.post("/calendar/work-periods", data={"effective_from": start, "period1": "08:00–12:00",
                                                       "period2": "14:30-18:00", "periods_note": "夏季作息"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#work-periods")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"已设置自 {start} 起的作息时间：08:00–12:00、14:30–18:00" in page
    assert f'id="work-periods-{start}"' in page and "计划" in page and "夏季作息" in page
    assert f"/calendar/work-periods/{start}/remove" in page
    (rec,) = work_periods.list_settings(store, today_local())
    assert (rec["periods"], rec["_by"]) == ([["08:00", "12:00"], ["14:30", "18:00"]], "admin")
    assert client.get(f"/history/work_periods/{rec['id']}").status_code == 200
    resp = client.post(f"/calendar/work-periods/{start}/remove", follow_redirects=True)
    assert f"已删除自 {start} 起的作息时间设置" in resp.get_data(as_text=True)
    assert work_periods.list_settings(store, today_local()) == []


@pytest.mark.parametrize("data, field, words", [
    ({"effective_from": "TODAY", "period1": "08:00–12:00"}, "effective_from", "不能追溯调整"),
    ({"effective_from": "TOMORROW", "period1": "12:00–08:00"}, "period1", "开始须早于结束"),
    ({"effective_from": "TOMORROW", "period1": "08:00–12:00", "period2": "11:00–13:00"}, "period2", "不重叠"),
])
def test_page_refuses_beside_the_field_and_keeps_the_values(client, auth, store, data, field, words):
    auth.login("admin")
    days = {"TODAY": today_local(), "TOMORROW": today_local() + timedelta(days=1)}
    data = {k: days[v].isoformat() if v in days else v for k, v in data.items()}
    resp = client.post("/calendar/work-periods", data=data)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    m = re.search(r'name="' + field + r'"[^>]*>\s*(.*?)</div>', page, re.S)
    assert m and words in htmllib.unescape(m.group(0)), page[page.find(field):][:800]
    assert f'value="{data[field]}"' in page
    assert list(store.scan(work_periods.TABLE)) == []


def test_only_calendar_editors_set_periods(client, auth):
    auth.login("engineer")
    page = client.get("/calendar/").get_data(as_text=True)
    assert "作息时间" in page and 'name="period1"' not in page
    start = (today_local() + timedelta(days=1)).isoformat()
    assert client.post("/calendar/work-periods", data={"effective_from": start, "period1": "08:00–12:00"}).status_code == 403
    assert client.post(f"/calendar/work-periods/{start}/remove").status_code == 403
