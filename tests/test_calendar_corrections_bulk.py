"""Calendar corrections for a range of days or pasted as a list (issue 15): every line checked,
all bad lines named at once, all or nothing, audited, open deadlines recomputed once.

2026 facts: Mon 2026-11-30 and Tue 12-01 are ordinary working days; 国庆 10/1–10/7 off.
"""
from __future__ import annotations

import html
from datetime import datetime

import pytest

from records.calendar import corrections
from records.calendar.corrections import TABLE, CalendarError, CalendarListError, current_calendar
from records.cases import calendar_change, vocab, workflow
from records.catalog import customers
from records.core.store import Store
from tests.fixtures.calendar import TZ


@pytest.fixture
def bare_store(tmp_path) -> Store:
    return Store(tmp_path / "data")


def consultation(store: Store) -> dict:
    """Received Fri 2026-11-27 16:00: its 6.2.1 reply is due Mon 11-30 16:30."""
    customer = customers.create_customer(store, {"name": "某部队第一修理所", "distance_km": 150}, "t")
    data = {"type": "consultation", "customer_id": customer["id"], "caller_name": "刘参谋",
            "caller_phone": "0312-5550101", "channel": "phone", "description": "如何更换保险丝"}
    now = datetime(2026, 11, 27, 16, 0, tzinfo=TZ)
    return workflow.intake(store, current_calendar(store), data, {"username": "receiver", "roles": ["receiver"]},
                           now=now)


# --- the domain: lines and ranges --------------------------------------------------------------
@pytest.mark.parametrize("line, kind, expected", [
    ("2027-02-06 班 春节调休上班", None, ("2027-02-06", True, "春节调休上班")),
    ("2027/2/7\t休", None, ("2027-02-07", False, "默认原因")),
    ("2027年2月8日 休息日，春节", None, ("2027-02-08", False, "春节")),
    ("２０２７－０２－０９上班", None, ("2027-02-09", True, "默认原因")),  # full-width, no space
    ("2027-02-10 公司年会", False, ("2027-02-10", False, "公司年会")),   # the form's kind
    ("2027.2.11, 补班", None, ("2027-02-11", True, "默认原因")),
])
def test_a_line_reads_as(line, kind, expected):
    [rec] = corrections.list_fields(line, kind, "默认原因", "admin")
    assert (rec["date"], rec["is_workday"], rec["reason"]) == expected


@pytest.mark.parametrize("line, message", [
    ("2027-02-30 休", "日期不存在"),
    ("明天 休", "无法识别日期"),
    ("2027-02-0611 休", "无法识别日期"),
    ("2027-02-06", "请注明「班」或「休」"),
    ("2027-02-06 班", "请填写校正原因"),
    ("1999-01-01 休 旧", "2000"),
])
def test_a_bad_line_is_named(line, message):
    with pytest.raises(CalendarListError) as info:
        corrections.list_fields(f"2027-01-01 休 元旦\n\n{line}", None, "", "admin")
    [(number, text)] = info.value.lines
    assert number == 3 and message in text


def test_every_bad_line_is_reported_at_once():
    text = "2027-01-01 休 元旦\nx\n2027-01-01 休 又一次\n2027-13-01 休 坏"
    with pytest.raises(CalendarListError) as info:
        corrections.list_fields(text, None, "", "admin")
    assert [n for n, _ in info.value.lines] == [2, 3, 4]
    assert "与第 1 行重复" in info.value.lines[1][1]


@pytest.mark.parametrize("start, end, field, message", [
    ("2026-12-05", "2026-12-01", "end", "早于开始日期"),
    ("2026-01-01", "2027-01-05", "end", "最多校正 366 天"),
    ("2026-13-01", "2026-12-01", "start", "YYYY-MM-DD"),
    ("2026-12-01", "", "end", "请填写日期"),
])
def test_a_bad_range_is_refused(start, end, field, message):
    with pytest.raises(CalendarError) as info:
        corrections.range_fields(start, end, False, "停工", "admin")
    assert info.value.field == field and message in str(info.value)


def test_a_range_is_one_transaction_and_moves_the_open_deadlines(bare_store):
    case = consultation(bare_store)
    assert case["deadlines"]["consult_reply"]["due"] == "2026-11-30T16:30:00+08:00"
    records = corrections.range_fields("2026-11-30", "2026-12-01", False, "公司停工", "admin")
    stored, changed = calendar_change.set_corrections(bare_store, records, "admin")
    assert [r["date"] for r in stored] == ["2026-11-30", "2026-12-01"] and changed == 2
    case = bare_store.get(vocab.TABLE, case["id"])
    assert case["deadlines"]["consult_reply"]["due"] == "2026-12-02T16:30:00+08:00"
    assert len({bare_store.history(TABLE, r["id"])[-1]["ts"] for r in stored}) == 1  # one transaction
    assert bare_store.history(vocab.TABLE, case["id"])[-1]["ts"] == bare_store.history(TABLE, stored[0]["id"])[-1]["ts"]
    assert calendar_change.set_corrections(bare_store, records, "admin")[1] == 0  # again: nothing changes


# --- the page ---------------------------------------------------------------------------------
def test_a_range_through_the_page(client, auth, store):
    auth.login("manager")
    resp = client.post("/calendar/corrections/range", data={"start": "2026-12-07", "end": "2026-12-11",
                                                            "is_workday": "0", "reason": "公司停工检修"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/calendar/?year=2026")
    page = client.get("/calendar/?year=2026").get_data(as_text=True)
    assert "已保存 5 天的校正（2026-12-07 至 2026-12-11" in page
    assert [r["date"] for r in corrections.list_corrections(store)] == [f"2026-12-{d:02d}" for d in range(7, 12)]
    resp = client.post("/calendar/corrections/range", data={"start": "2026-12-11", "end": "2026-12-07",
                                                            "is_workday": "0", "reason": "倒了"})
    assert resp.status_code == 400 and "结束日期不能早于开始日期" in resp.get_data(as_text=True)


def test_a_pasted_list_with_one_bad_line_writes_nothing(client, auth, store):
    auth.login("admin")
    text = "2027-02-06 班 春节调休上班\n2027-02-10 休 春节\n2027-02-31 休 春节\n2027-02-11 休 春节\n"
    resp = client.post("/calendar/corrections/list", data={"text": text, "is_workday": "", "reason": ""})
    page = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 400 and "清单中有 1 行有误，未保存任何校正" in page
    assert "第 3 行：日期不存在：2027-02-31" in page and "2027-02-06 班 春节调休上班" in page  # kept as typed
    assert store.count(TABLE) == 0
    resp = client.post("/calendar/corrections/list", data={"text": text.replace("02-31", "02-12"), "is_workday": "",
                                                           "reason": ""})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/calendar/?year=2027")
    cal = corrections.current_calendar(store)
    assert cal.is_workday(datetime(2027, 2, 6).date()) and not cal.is_workday(datetime(2027, 2, 12).date())
    assert {r["_by"] for r in corrections.list_corrections(store)} == {"admin"}


def test_only_calendar_editors_correct_many(client, auth):
    auth.login("engineer")
    assert client.post("/calendar/corrections/list", data={"text": "2027-01-04 休 x"}).status_code == 403
    assert client.post("/calendar/corrections/range", data={}).status_code == 403
    auth.login("manager")
    page = client.get("/calendar/?year=2026").get_data(as_text=True)
    assert "粘贴日期清单" in page and "校正一段日期" in page
