"""The company's calendar corrections in the store (records.calendar.corrections, and
records.cases.calendar_change for the deadlines they move; issue 3).

2026 facts (see tests/test_calendar_workdays.py): 国庆 10/1–10/7 off, Sat 10/10 and Sun 9/20 are
调休上班; Mon 2026-03-02 and Sat 2026-03-07 are an ordinary working day and weekend day.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from records.calendar import corrections
from records.calendar.corrections import TABLE, CalendarError, current_calendar
from records.calendar.workdays import WorkCalendar
from records.cases import vocab, workflow
from records.cases.calendar_change import remove_correction, set_correction
from records.catalog import customers
from records.core.errors import DomainError
from records.core.store import Store

TZ = ZoneInfo("Asia/Shanghai")
PROJECT_DIR = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def bare_store(tmp_path) -> Store:
    return Store(tmp_path / "data")


class Watched:
    """Two open consultations whose deadlines fall on the days these tests correct (Mon
    2026-03-02 and the 调休 Saturday 2026-10-10), so that a correction must move them."""

    def __init__(self, store: Store):
        self.store = store
        customer = customers.create_customer(store, {"name": "观察用顾客", "distance_km": 10}, "t")
        receiver = {"username": "receiver", "roles": ["receiver"]}
        self.ids = []
        for received in (datetime(2026, 3, 2, 9, 0, tzinfo=TZ), datetime(2026, 10, 9, 16, 0, tzinfo=TZ)):
            data = {"type": "consultation", "customer_id": customer["id"], "caller_name": "刘参谋",
                    "caller_phone": "0312-5550101", "channel": "phone", "description": "如何更换保险丝",
                    "received_at": received}
            self.ids.append(workflow.intake(store, WorkCalendar.default(), data, receiver, now=received)["id"])

    def recomputations(self) -> list[tuple[str, str]]:
        """(transaction time, actor) of every transaction that recomputed a watched deadline."""
        entries = {(e["ts"], e["actor"]) for i in self.ids for e in self.store.history(vocab.TABLE, i)
                   if e["action"] == "deadlines_recomputed"}
        return sorted(entries)

    def due(self, n: int, key: str = "consult_reply") -> str:
        return self.store.get(vocab.TABLE, self.ids[n])["deadlines"][key]["due"]


@pytest.fixture
def watched(bare_store) -> Watched:
    return Watched(bare_store)


def test_defaults_without_corrections(bare_store):
    cal = current_calendar(bare_store)
    assert cal.is_workday(date(2026, 10, 10)) and not cal.is_workday(date(2026, 10, 1))
    assert cal.corrections == {}


@pytest.mark.parametrize(("day", "is_workday"), [
    (date(2026, 10, 10), False),  # 调休上班 Saturday → company day off
    (date(2026, 9, 20), False),  # 调休上班 Sunday → company day off
    (date(2026, 10, 1), True),  # National Day → company working day
    (date(2026, 3, 2), False),  # ordinary Monday → shutdown
    (date(2026, 3, 7), True),  # ordinary Saturday → working day
])
def test_a_correction_overrides_the_library_and_weekdays(bare_store, watched, day, is_workday):
    default = WorkCalendar.default()
    assert default.is_workday(day) is not is_workday
    set_correction(bare_store, day, is_workday, "测试校正", "admin")
    cal = current_calendar(bare_store)
    assert cal.is_workday(day) is is_workday
    assert cal.corrections[day].reason == "测试校正"
    # Only that day changed.
    for other in (date(2026, 10, 9), date(2026, 10, 11), date(2026, 10, 8)):
        if other != day:
            assert cal.is_workday(other) is default.is_workday(other)


def test_deadline_arithmetic_follows_the_correction(bare_store, watched):
    start = datetime(2026, 10, 9, 16, 30)  # Friday; Sat 10/10 is a make-up working day
    assert current_calendar(bare_store).add_working_hours(start, 2).isoformat() == "2026-10-10T09:30:00+08:00"
    set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    assert current_calendar(bare_store).add_working_hours(start, 2).isoformat() == "2026-10-12T09:30:00+08:00"


def test_remove_marks_inactive_and_restores_the_library(bare_store, watched):
    rec = set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    removed = remove_correction(bare_store, date(2026, 10, 10), "manager")
    assert removed["id"] == rec["id"] and removed["active"] is False
    assert current_calendar(bare_store).is_workday(date(2026, 10, 10))
    assert bare_store.count(TABLE) == 1  # kept, not deleted
    assert corrections.list_corrections(bare_store) == []
    assert [r["date"] for r in corrections.list_corrections(bare_store, include_inactive=True)] == ["2026-10-10"]

    # Correcting the date again reuses its record: one record per date, one history.
    again = set_correction(bare_store, "2026-10-10", True, "恢复调休上班", "admin")
    assert again["id"] == rec["id"] and again["active"] is True and again["_rev"] == 3
    assert bare_store.count(TABLE) == 1
    assert corrections.list_corrections(bare_store, 2026)[0]["reason"] == "恢复调休上班"
    assert corrections.list_corrections(bare_store, 2027) == []


def test_every_change_is_audited(bare_store, watched):
    rec = set_correction(bare_store, "2027-02-08", False, "春节停工", "admin")
    set_correction(bare_store, "2027-02-08", False, "春节停工（延长）", "manager")
    remove_correction(bare_store, "2027-02-08", "admin")
    entries = bare_store.history(TABLE, rec["id"])
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("create", "admin"), ("update", "manager"), ("update", "admin")]
    assert entries[0]["changes"]["date"] == [None, "2027-02-08"]
    assert entries[0]["changes"]["is_workday"] == [None, False]
    assert entries[1]["changes"]["reason"] == ["春节停工", "春节停工（延长）"]
    assert entries[2]["changes"]["active"] == [True, False]
    assert entries[2]["note"] == "撤销工作日历校正"
    assert bare_store.audit.verify().ok


def test_saving_the_same_correction_twice_changes_nothing(bare_store, watched):
    rec = set_correction(bare_store, "2026-03-02", False, "停电", "admin")
    same = set_correction(bare_store, "2026-03-02", False, "  停电 ", "manager")
    assert same["_rev"] == rec["_rev"] == 1
    assert len(bare_store.history(TABLE, rec["id"])) == 1
    assert len(watched.recomputations()) == 1  # only the real change recomputes


def test_current_calendar_is_cached_until_the_table_changes(bare_store, watched):
    first = current_calendar(bare_store)
    assert current_calendar(bare_store) is first  # no rebuild per page view
    set_correction(bare_store, "2026-03-02", False, "停电", "admin")
    second = current_calendar(bare_store)
    assert second is not first and not second.is_workday(date(2026, 3, 2))
    assert current_calendar(bare_store) is second
    # The calendar is kept on the Store (a process's one Store serves its threads); another Store
    # on the same folder (another process) builds its own, the same.
    other = current_calendar(Store(bare_store.root))
    assert other is not second and other.corrections == second.corrections


def test_current_calendar_sees_another_process_change_at_once(bare_store):
    cal = current_calendar(bare_store)
    assert cal.is_workday(date(2026, 10, 10))
    code = (
        "import sys\n"
        "from records.core.store import Store\n"
        "from records.cases.calendar_change import set_correction\n"
        "set_correction(Store(sys.argv[1]), '2026-10-10', False, '另一进程的校正', 'manager')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(bare_store.root)], cwd=PROJECT_DIR, check=True,
                   env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)}, timeout=120)
    cal = current_calendar(bare_store)
    assert not cal.is_workday(date(2026, 10, 10))
    assert cal.corrections[date(2026, 10, 10)].reason == "另一进程的校正"


def test_a_change_recomputes_open_deadlines_with_the_new_calendar(bare_store, watched):
    assert watched.due(1) == "2026-10-10T16:30:00+08:00"  # Fri 16:00 + 8 h (6.2.1): the 调休 Saturday
    rec = set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    ((ts, actor),) = watched.recomputations()
    assert ts == bare_store.history(TABLE, rec["id"])[-1]["ts"]  # inside the correction's own transaction
    assert actor == "admin"
    assert watched.due(1) == "2026-10-12T16:30:00+08:00"  # the calendar after the change
    remove_correction(bare_store, "2026-10-10", "manager")
    ts, actor = watched.recomputations()[-1]
    assert actor == "manager" and watched.due(1) == "2026-10-10T16:30:00+08:00"


def test_a_failed_recomputation_leaves_no_correction(bare_store):
    """The correction and its recomputation are one transaction: neither stands alone. An open
    case whose deadline start cannot be read makes the real recomputation fail."""
    broken = bare_store.insert(vocab.TABLE, {"state": "awaiting_reply", "deadlines": {"consult_reply": {
        "start": "不是时间", "due": "2026-10-10T11:00:00+08:00", "done_at": None}}}, "t")
    with pytest.raises(ValueError):
        set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    assert bare_store.count(TABLE) == 0
    assert current_calendar(bare_store).is_workday(date(2026, 10, 10))
    bare_store.update(vocab.TABLE, broken["id"], {"state": "closed"}, "t")  # closed: not recomputed
    set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    bare_store.update(vocab.TABLE, broken["id"], {"state": "awaiting_reply"}, "t")
    with pytest.raises(ValueError):
        remove_correction(bare_store, "2026-10-10", "manager")
    assert corrections.list_corrections(bare_store)[0]["active"] is True  # still corrected
    assert not current_calendar(bare_store).is_workday(date(2026, 10, 10))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"day": ""}, "day"),
    ({"day": None}, "day"),
    ({"day": "2026-02-30"}, "day"),
    ({"day": "10/10/2026"}, "day"),
    ({"day": datetime(2026, 10, 10, 9, 0)}, "day"),
    ({"day": "1999-12-31"}, "day"),
    ({"day": 20261010}, "day"),
    ({"reason": ""}, "reason"),
    ({"reason": "  \n "}, "reason"),
    ({"reason": None}, "reason"),
    ({"reason": "长" * 201}, "reason"),
    ({"is_workday": "0"}, "is_workday"),
    ({"is_workday": None}, "is_workday"),
])
def test_set_correction_refuses_bad_input(bare_store, watched, kwargs, field):
    args = {"day": "2026-10-10", "is_workday": False, "reason": "公司不调休", **kwargs}
    with pytest.raises(DomainError) as info:
        set_correction(bare_store, args["day"], args["is_workday"], args["reason"], "admin")
    assert isinstance(info.value, CalendarError)
    assert info.value.field == field
    assert CJK.search(str(info.value)), str(info.value)
    assert bare_store.count(TABLE) == 0 and watched.recomputations() == []


def test_reason_is_kept_on_one_line(bare_store, watched):
    rec = set_correction(bare_store, "2026-10-10", False, "  公司\n不调休\t（通知） ", "admin")
    assert rec["reason"] == "公司 不调休 （通知）"


def test_remove_refuses_a_date_without_correction(bare_store, watched):
    with pytest.raises(CalendarError) as info:
        remove_correction(bare_store, "2026-10-10", "admin")
    assert info.value.field == "day" and "没有公司校正" in str(info.value)
    set_correction(bare_store, "2026-10-10", False, "公司不调休", "admin")
    remove_correction(bare_store, "2026-10-10", "admin")
    with pytest.raises(CalendarError):  # already withdrawn
        remove_correction(bare_store, "2026-10-10", "admin")
    with pytest.raises(CalendarError) as info:
        remove_correction(bare_store, "not-a-date", "admin")
    assert info.value.field == "day"
    assert len(watched.recomputations()) == 2


def test_open_case_deadlines_follow_a_correction(bare_store):
    """End to end with records.cases: an open consultation's deadlines move, a met one doesn't."""
    tz = TZ
    customer = customers.create_customer(bare_store, {"name": "某部队第一修理所", "distance_km": 150}, "t")
    receiver = {"username": "receiver", "roles": ["receiver"]}
    data = {"type": "consultation", "customer_id": customer["id"], "caller_name": "刘参谋",
            "caller_phone": "0312-5550101", "channel": "phone", "description": "如何更换保险丝"}
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=tz)
    case = workflow.intake(bare_store, current_calendar(bare_store), data, receiver, now=friday_4pm)
    # Fri 16:00 + 4 h → Mon 11:00 (6.1.3, met at the recording); + 8 h → Mon 16:30 (6.2.1).
    assert case["deadlines"]["handover"]["due"] == "2026-11-30T11:00:00+08:00"
    assert case["deadlines"]["consult_reply"]["due"] == "2026-11-30T16:30:00+08:00"

    set_correction(bare_store, "2026-11-30", False, "公司停工", "admin")
    case = bare_store.get(vocab.TABLE, case["id"])
    assert case["deadlines"]["handover"]["due"] == "2026-11-30T11:00:00+08:00"  # met: never moved
    assert case["deadlines"]["consult_reply"]["due"] == "2026-12-01T16:30:00+08:00"
    assert case["deadlines"]["consult_reply"]["start"] == "2026-11-27T16:00:00+08:00"  # start unchanged
    last = bare_store.history(vocab.TABLE, case["id"])[-1]
    assert last["actor"] == "admin" and "deadlines" in last["changes"]

    remove_correction(bare_store, "2026-11-30", "manager")
    case = bare_store.get(vocab.TABLE, case["id"])
    assert case["deadlines"]["consult_reply"]["due"] == "2026-11-30T16:30:00+08:00"
    assert bare_store.history(vocab.TABLE, case["id"])[-1]["actor"] == "manager"


def test_cli_recompute_deadlines_repairs_open_deadlines(bare_store, runner):
    """``aftersales recompute-deadlines``: every open deadline again with the current calendar."""
    from zoneinfo import ZoneInfo

    customer = customers.create_customer(bare_store, {"name": "某部队第一修理所", "distance_km": 150}, "t")
    data = {"type": "consultation", "customer_id": customer["id"], "caller_name": "刘参谋",
            "caller_phone": "0312-5550101", "channel": "phone", "description": "如何更换保险丝"}
    friday_4pm = datetime(2026, 11, 27, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    case = workflow.intake(bare_store, current_calendar(bare_store), data, {"username": "receiver", "roles": ["receiver"]},
                        now=friday_4pm)
    # A correction written without the recomputation (e.g. a restored backup of the calendar).
    bare_store.insert(TABLE, {"date": "2026-11-30", "is_workday": False, "reason": "公司停工", "active": True}, "admin")
    args = ["recompute-deadlines", "--data-dir", str(bare_store.root)]

    help_text = runner.invoke(["recompute-deadlines", "--help"]).output
    assert "--data-dir" in help_text and "--dry-run" in help_text and "working calendar" in help_text

    dry = runner.invoke(args + ["--dry-run"])
    assert dry.exit_code == 0 and "1 个案例的 1 个未完成期限将会改变" in dry.output
    assert bare_store.get(vocab.TABLE, case["id"])["deadlines"]["consult_reply"]["due"] == "2026-11-30T16:30:00+08:00"

    result = runner.invoke(args)
    assert result.exit_code == 0, result.output
    assert "1 个期限有变化" in result.output
    case = bare_store.get(vocab.TABLE, case["id"])
    assert case["deadlines"]["handover"]["due"] == "2026-11-30T11:00:00+08:00"  # met at the recording
    assert case["deadlines"]["consult_reply"]["due"] == "2026-12-01T16:30:00+08:00"
    last = bare_store.history(vocab.TABLE, case["id"])[-1]
    assert last["actor"] == "cli" and last["action"] == "deadlines_recomputed"

    again = runner.invoke(args)
    assert again.exit_code == 0 and "0 个期限有变化" in again.output
    assert bare_store.history(vocab.TABLE, case["id"])[-1] == last  # nothing written the second time
