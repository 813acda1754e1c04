"""Follow-up calls as their users expect (issue 15, regulation 8.1 and 8.2): the period's tasks
created from the page, call attempts that do not complete a task, one engineer for a customer's
8.1 and 8.2 calls of one period, and one call completing both.

Engineers (tq_engineer) in the test data: "engineer" and "manager" (also tq_manager)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from records.catalog import customers, products
from records.followups import calls as followup_calls
from records.followups import tasks as followup_tasks
from records.jobs.followup_calls import run_followups
from records.users import accounts

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def world(store):
    """甲 (ordinary product), 乙 and 丙 (reliability products): 乙 and 丙 have an 8.1 and an 8.2 call."""
    ids = {}
    for name, serial, rel in (("甲单位", "A-1", False), ("乙单位", "B-1", True), ("丙单位", "C-1", True)):
        ids[name] = customers.create_customer(store, {"name": name, "distance_km": 100, "contacts": [
            {"name": f"{name}联系人", "phone": "010-1234"}]}, "test")["id"]
        products.create_product(store, {"model": "M", "name": "产品", "serial_no": serial, "customer_id": ids[name],
                                        "delivery_date": "2024-05-01", "warranty_months": 24, "reliability": rel}, "test")
    return ids


def tasks_by(store) -> dict:
    return {(t["kind"], t["customer_id"], t["period"]): t for t in store.scan(followup_tasks.TABLE)}


# --- Domain ----------------------------------------------------------------------------------


def test_one_engineer_per_customer_and_period(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    got = tasks_by(store)
    for name in ("乙单位", "丙单位"):
        cid = world[name]
        assert got[("follow_up", cid, "2026Q1")]["assignee"] == got[("annual_visit", cid, "2026")]["assignee"]
    # Q2: the new 8.1 task follows the engineer of the customer's open 8.2 task of the year
    run_followups(store, at(2026, 4, 1, 8, 0), send_mail=False)
    got = tasks_by(store)
    for name in ("乙单位", "丙单位"):
        cid = world[name]
        assert got[("follow_up", cid, "2026Q2")]["assignee"] == got[("annual_visit", cid, "2026")]["assignee"]


def test_reassigning_moves_the_partner_too_and_leavers_keep_pairs(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    got = tasks_by(store)
    q1 = got[("follow_up", world["乙单位"], "2026Q1")]
    other = "engineer" if q1["assignee"] == "manager" else "manager"
    followup_tasks.reassign(store, q1["id"], other, "manager", expect_rev=q1["_rev"])
    assert tasks_by(store)[("annual_visit", world["乙单位"], "2026")]["assignee"] == other
    # the engineer leaves: every stranded pair goes to one (the remaining) engineer
    accounts.set_active(store, accounts.find_by_username(store, "engineer")["id"], False, "admin")
    run_followups(store, at(2026, 2, 3, 8, 0), send_mail=False)
    assert {t["assignee"] for t in store.scan(followup_tasks.TABLE)} == {"manager"}


@pytest.mark.parametrize("partner, data, field", [
    (False, {"guidance": "保养"}, None),  # 8.1 alone: guidance suffices
    (True, {"guidance": "保养"}, "needs"),  # completing 8.2 too needs the customer's needs
    (True, {"guidance": "保养", "needs": "年度检修"}, None),
])
def test_one_call_completes_both(store, world, partner, data, field):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    got = tasks_by(store)
    q1 = got[("follow_up", world["乙单位"], "2026Q1")]
    year = got[("annual_visit", world["乙单位"], "2026")]
    user = accounts.find_by_username(store, q1["assignee"])
    base = {"called_at": at(2026, 2, 3, 9, 30), "contact_name": "陈工", "contact_phone": "0937-1", "usage": "正常",
            "complete_partner": partner, **data}
    if field:
        with pytest.raises(followup_tasks.FollowUpError) as e:
            followup_calls.record_call(store, q1["id"], base, user, at(2026, 2, 3, 10, 0))
        assert e.value.field == field
        assert store.get(followup_tasks.TABLE, year["id"])["status"] == "open"
        return
    done = followup_calls.record_call(store, q1["id"], base, user, at(2026, 2, 3, 10, 0))
    other = store.get(followup_tasks.TABLE, year["id"])
    assert done["status"] == "done"
    assert other["status"] == ("done" if partner else "open")
    if partner:
        assert done["call"]["joint_with"] == year["id"] and other["call"]["joint_with"] == q1["id"]
        assert other["call"]["needs"] == "年度检修"


def test_complete_partner_without_one_is_refused(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = tasks_by(store)[("follow_up", world["甲单位"], "2026Q1")]
    user = accounts.find_by_username(store, task["assignee"])
    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, task["id"], {"called_at": at(2026, 2, 3, 9, 30), "contact_name": "x",
                                                       "contact_phone": "1", "usage": "u", "guidance": "g",
                                                       "complete_partner": True}, user, at(2026, 2, 3, 10, 0))
    assert e.value.field == "complete_partner"


@pytest.mark.parametrize("data, field", [
    ({"outcome": "no_answer"}, None),
    ({"outcome": "rescheduled", "new_date": date(2026, 2, 10), "note": "顾客出差"}, None),
    ({"outcome": "rescheduled"}, "new_date"),
    ({"outcome": "rescheduled", "new_date": date(2026, 2, 1)}, "new_date"),  # before the attempt
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome": "no_answer", "attempted_at": at(2026, 2, 3, 11, 0)}, "attempted_at"),  # in the future
])
def test_an_attempt_keeps_the_task_open(store, world, data, field):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = tasks_by(store)[("follow_up", world["甲单位"], "2026Q1")]
    user = accounts.find_by_username(store, task["assignee"])
    now = at(2026, 2, 3, 10, 0)
    data = {"attempted_at": at(2026, 2, 3, 9, 0), **data}
    if field:
        with pytest.raises(followup_tasks.FollowUpError) as e:
            followup_calls.record_attempt(store, task["id"], data, user, now)
        assert e.value.field == field
        assert not store.get(followup_tasks.TABLE, task["id"]).get("attempts")
        return
    after = followup_calls.record_attempt(store, task["id"], data, user, now, expect_rev=task["_rev"])
    assert after["status"] == "open" and len(after["attempts"]) == 1
    assert after["attempts"][0]["outcome"] == data["outcome"] and after["attempts"][0]["by"] == user["username"]
    assert after.get("next_call") == (data["new_date"].isoformat() if data.get("new_date") else None)
    assert any("未接通" in (e.get("note") or "") or "改期" in (e.get("note") or "")
               for e in store.audit if e.get("table") == followup_tasks.TABLE)


# --- Pages -----------------------------------------------------------------------------------


def test_manager_creates_the_tasks_from_the_page(client, auth, store, world):
    auth.login("engineer")
    page = client.get("/followups/").get_data(as_text=True)
    assert "aftersales followups" not in page and 'id="create-tasks"' not in page
    assert client.post("/followups/create").status_code == 403
    auth.logout()
    auth.login("manager")
    page = client.get("/followups/").get_data(as_text=True)
    assert 'id="create-tasks"' in page and "aftersales followups" not in page
    text = client.post("/followups/create", follow_redirects=True).get_data(as_text=True)
    assert "已生成 5 个回访任务" in text and "（8.1）3 个" in text and "（8.2）2 个" in text
    assert store.count(followup_tasks.TABLE) == 5
    again = client.post("/followups/create", follow_redirects=True).get_data(as_text=True)
    assert "没有新增任务" in again and store.count(followup_tasks.TABLE) == 5  # idempotent
    assert all(e.get("actor") != "cron" for e in store.audit if e.get("table") == followup_tasks.TABLE)


def test_attempt_and_joint_call_pages(client, auth, store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    got = tasks_by(store)
    q1 = got[("follow_up", world["乙单位"], "2026Q1")]
    year = got[("annual_visit", world["乙单位"], "2026")]
    auth.login(q1["assignee"])
    page = client.get(f"/followups/{q1['id']}").get_data(as_text=True)
    assert 'id="partner-task"' in page and "同时完成本期的年度电话巡访（8.2，2026）" in page
    assert "保存回访记录（8.1）" in page and "保养和维护指导（8.1，必填）" in page
    assert "同时完成" not in client.get(f"/followups/{got[('follow_up', world['甲单位'], '2026Q1')]['id']}").get_data(as_text=True)
    # a rescheduled attempt without a date: the message beside the field, nothing stored
    resp = client.post(f"/followups/{q1['id']}/attempt", data={"rev": q1["_rev"], "attempted_at": "2026-02-03T09:00",
                                                              "outcome": "rescheduled"})
    assert resp.status_code == 400 and "改期须填写新的联系日期" in resp.get_data(as_text=True)
    resp = client.post(f"/followups/{q1['id']}/attempt", data={"rev": q1["_rev"], "attempted_at": "2026-02-03T09:00",
                                                              "outcome": "rescheduled", "new_date": "2026-02-10",
                                                              "note": "顾客出差"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "已记录联系尝试" in text and 'id="attempts"' in text and "改期至 2026-02-10" in text
    q1 = store.get(followup_tasks.TABLE, q1["id"])
    assert q1["status"] == "open"
    # one call completes both
    resp = client.post(f"/followups/{q1['id']}/record", data={
        "rev": q1["_rev"], "called_at": "2026-02-03T09:30", "contact_name": "陈工", "contact_phone": "0937-1",
        "usage": "正常", "guidance": "保养", "needs": "年度检修", "complete_partner": "y"}, follow_redirects=True)
    assert "同时完成了本期另一项回访" in resp.get_data(as_text=True)
    assert store.get(followup_tasks.TABLE, year["id"])["status"] == "done"
    assert 'id="joint-call"' in client.get(f"/followups/{year['id']}").get_data(as_text=True)
