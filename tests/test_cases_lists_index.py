"""The case lists read the case index (records/cases/index.py): 我的待办, the home overview and
the case list's search give what a scan of every document gives, see another store's writes
at once, and the list's search rules (every word, reversed dates, a page past the end)."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from records.calendar.corrections import current_calendar
from records.cases import deadlines, flow, index, queries, workflow
from records.core.store import Store
from records.fines.proposals import pending
from records.followups import tasks as followup_tasks
from records.followups.tasks import TABLE as FOLLOWUPS
from records.jobs.followup_calls import run_followups
from tests.fixtures.calendar import TZ, at

NOW = "2026-12-07T09:30"


def _scanned_work(store: Store, user: dict, now: datetime) -> list[tuple[int, list[str]]]:
    """我的待办 by the flow's rule over every document (what the index must give)."""
    rows = [(c["id"], flow.todo_actions(c, user)) for c in store.scan("cases")
            if c.get("state") != "closed" or pending(c)]
    return sorted((cid, acts) for cid, acts in rows if acts)


@pytest.fixture
def many(db, new_case, act, onsite_free_until, paid_until):
    """Cases at many steps: taken in, decided, sent on site, late with a fine proposal, paid."""
    made = [new_case(), new_case(user="engineer", kind="consultation")]
    for stop in ("awaiting_decision", "on_route", "awaiting_report"):
        made.append(onsite_free_until(stop))
    made.append(new_case(received_at=at("2026-11-26T09:00")))  # recorded late: 6.1.4 proposed
    made.append(paid_until("quoting"))
    return made


def test_my_work_from_the_index_is_the_flows_own(db, users, many):
    for who in ("receiver", "engineer", "manager", "tech", "tech2", "finance", "vp", "gm"):  # one data set
        user = users[who]
        got = [(r["case"]["id"], r["actions"]) for r in queries.my_work(db, user, at(NOW))]
        assert sorted(got) == _scanned_work(db, user, at(NOW)), who
    assert any(queries.my_work(db, users[who], at(NOW)) for who in ("receiver", "engineer", "manager", "tech"))


def test_another_stores_writes_are_seen_at_once(db, new_case, act, users):
    other = Store(db.root)  # its own shard cache and index, as another process has
    assert queries.search(other, at(NOW))[1] == 0
    case = new_case()
    rows, total, _ = queries.search(other, at(NOW))
    assert total == 1 and rows[0]["state"] == case["state"]
    assert [r["case"]["id"] for r in queries.my_work(other, users["engineer"], at(NOW))] == [case["id"]]
    moved = act(case, "decide", "engineer", "2026-11-30T09:00", solution="onsite_free", analysis="电源模块损坏")
    assert queries.search(other, at(NOW), state=moved["state"])[1] == 1
    assert queries.search(other, at(NOW), state=case["state"])[1] == 0


def test_the_index_of_a_new_process_is_built_from_the_shards(db, many):
    fresh = Store(db.root)
    assert {r["id"] for r in index.rows(fresh).rows} == {c["id"] for c in db.scan("cases")}
    assert index.rows(fresh).rows == index.rows(db).rows


@pytest.mark.parametrize("q, expected", [
    ("主板", {"a", "b"}),
    ("主板 过热", {"b"}),
    ("过热 主板", {"b"}),          # every word, in any order
    ("  主板   无输出 ", {"a"}),
    ("主板 漏油", set()),          # one word missing: no match
    ("in-001", {"a", "b"}),       # case-insensitive (IN-001)
    ("", {"a", "b", "c"}),
])
def test_search_matches_every_word(db, new_case, q, expected):
    made = {"a": new_case(description="主板无输出"), "b": new_case(description="主板过热，风扇异响"),
            "c": new_case(serial="OUT-001", description="通信中断")}
    rows, total, _ = queries.search(db, at(NOW), q=q)
    assert {k for k, c in made.items() if c["id"] in {r["id"] for r in rows}} == expected and total == len(expected)


def test_search_pages_and_the_page_past_the_end(db, new_case):
    ids = [new_case(now=f"2026-11-2{d}T10:00")["id"] for d in range(3, 8)]
    newest_first = list(reversed(ids))
    rows, total, page = queries.search(db, at(NOW), page=2, per_page=2)
    assert ([r["id"] for r in rows], total, page) == (newest_first[2:4], 5, 2)
    rows, total, page = queries.search(db, at(NOW), page=99, per_page=2)
    assert ([r["id"] for r in rows], total, page) == (newest_first[4:], 5, 3)
    day = queries.search(db, at(NOW), date_from=date(2026, 11, 24), date_to=date(2026, 11, 25))
    assert sorted(r["id"] for r in day[0]) == ids[1:3]
    assert queries.search(db, at(NOW), overdue=True)[1] == 5  # the hand-overs are late by 7 December


def test_the_list_page_shows_a_reversed_range_and_a_page_past_the_end(client, auth, make_case):
    case = make_case()
    auth.login("engineer")
    page = client.get("/cases/?date_from=2026-12-01&date_to=2026-11-01").get_data(as_text=True)
    assert "结束日期早于开始日期" in page and 'value="2026-11-01"' in page
    assert case["number"] in page  # the range is not applied, the rest of the list is shown
    far = client.get("/cases/?page=50")
    assert far.status_code == 200 and case["number"] in far.get_data(as_text=True)


def test_my_work_page_gathers_the_follow_up_calls(client, auth, store, near_and_far):
    near_and_far(store)
    run_followups(store, datetime.now(TZ), send_mail=False)
    mine = [t for t in store.scan(FOLLOWUPS) if t["assignee"] == "engineer"]
    assert mine
    auth.login("engineer")
    page = client.get("/cases/my").get_data(as_text=True)
    assert 'id="my-work-followups"' in page and "跟踪回访" in page
    assert all(f'href="/followups/{t["id"]}"' in page for t in mine)
    home = client.get("/").get_data(as_text=True)
    assert 'id="count-work"' in home


def test_home_counts_come_from_the_index(db, many):
    cal = current_calendar(db)
    late = workflow.intake(db, cal, {"type": "service_request", "customer_id": many[0]["customer_id"],
                                     "product_serial": "IN-001", "caller_name": "刘", "caller_phone": "0312-5550101",
                                     "channel": "phone", "description": "无输出"},
                           {"username": "receiver", "roles": ["receiver"]}, now=at("2026-11-20T10:00"))
    seen = queries.overview(db, "receiver", at(NOW), tq=True, show=3)
    open_cases = [c for c in db.scan("cases") if c["state"] != "closed"]
    assert seen["counts"]["mine_open"] == sum(1 for c in open_cases if c["received_by"] == "receiver")
    assert len(seen["mine_open"]) == 3 and seen["mine_open"][0]["id"] == late["id"]  # most urgent first
    assert seen["counts"]["pending_fines"] == sum(len(pending(c)) for c in db.scan("cases")) == 1


def test_follow_up_list_pages_from_the_index(store, near_and_far):
    near_and_far(store)
    for month in (1, 4, 7):
        run_followups(store, datetime(2026, month, 2, 8, tzinfo=TZ), send_mail=False)
    now = datetime(2026, 8, 1, 9, tzinfo=TZ)
    whole = followup_tasks.list_tasks(store, now)
    assert len(whole) == 6 and {t["state"] for t in whole} == {"overdue", "due"}
    rows, counts, total = followup_tasks.task_page(store, now, 2, 4)
    assert rows == whole[4:] and total == 6 and "call" in rows[0]
    assert counts == {s: sum(1 for t in whole if t["state"] == s) for s in followup_tasks.STATUS_NAMES}
    engineer = followup_tasks.task_page(store, now, 1, 50, engineer="engineer")[0]
    assert engineer == [t for t in whole if t["assignee"] == "engineer"]


def test_my_work_page_counts_pages_and_fills_the_deadline_of_late_rows(client, auth, store, make_case):
    # taken by 技质部 30 days ago: 6.2.2 counts from the call, long past; the other one is fresh
    late = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=30 * 24 * 60)
    fresh = make_case()
    auth.login("engineer")
    page = client.get("/cases/my?page=99").get_data(as_text=True)  # past the end: the last page
    assert late["number"] in page and fresh["number"] in page
    assert 'id="my-work-counts"' in page and "待办案例 2 件" in page and "1 件已逾期" in page
    row = page[page.index(late["number"]):]
    row = row[:row.index("</tr>")]
    assert "已超" in row and "工作小时" in row  # the late row's deadline cell, with its words


def test_the_status_alone_is_the_rows_own(db, cal, many):
    memo = {}
    for case in db.scan("cases"):
        row = deadlines.next_deadline_row(case, cal, at(NOW))
        expected = row["status"] if row else ""
        assert deadlines.next_deadline_status(case, cal, at(NOW)) == expected
        assert deadlines.next_deadline_status(case, cal, at(NOW), memo) == expected
