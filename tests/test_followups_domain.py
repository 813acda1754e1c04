"""Follow-up calls (records/followups/, views/followups.py; issue 6, regulation 8.1 and 8.2).

8.1: one call task per customer with a delivered product per calendar quarter; 8.2: one per
customer using a reliability product per year. Engineers (tq_engineer) in the test data:
"engineer" and "manager" (who is a tq_manager and a tq_engineer).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from records import policy
from records.calendar import periods
from records.cases import vocab
from records.catalog import customers, products
from records.core.transaction import Transaction
from records.followups import calls as followup_calls
from records.followups import tasks as followup_tasks
from records.jobs.followup_calls import run_followups
from records.users import accounts

TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def world(store):
    """Three customers: A (ordinary product), B (reliability product), C (delivered later)."""
    ids = {}
    for name, km in (("甲单位", 100), ("乙单位", 500), ("丙单位", 1200)):
        ids[name] = customers.create_customer(store, {"name": name, "distance_km": km, "contacts": [
            {"name": f"{name}联系人", "phone": "010-1234"}]}, "test")["id"]
    for serial, cust, delivered, rel in (("A-1", "甲单位", "2024-05-01", False),
                                         ("B-1", "乙单位", "2025-01-10", True),
                                         ("C-1", "丙单位", "2026-05-20", False)):
        products.create_product(store, {"model": "M", "name": "产品", "serial_no": serial, "customer_id": ids[cust],
                                        "delivery_date": delivered, "warranty_months": 24, "reliability": rel}, "test")
    return ids


def test_periods_follow_the_policy_rules():
    assert policy.FOLLOW_UP.clause == "8.1" and policy.ANNUAL_VISIT.clause == "8.2"
    q = followup_tasks.period_for(followup_tasks.FOLLOW_UP, date(2026, 5, 17))
    assert (q.label, q.start, q.end) == ("2026Q2", date(2026, 4, 1), date(2026, 6, 30))
    q4 = followup_tasks.period_for(followup_tasks.FOLLOW_UP, date(2026, 12, 31))
    assert (q4.label, q4.end) == ("2026Q4", date(2026, 12, 31))
    y = followup_tasks.period_for(followup_tasks.ANNUAL_VISIT, date(2026, 5, 17))
    assert (y.label, y.start, y.end) == ("2026", date(2026, 1, 1), date(2026, 12, 31))
    assert periods.parse_quarter("2026q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert periods.parse_quarter("2026") == (date(2026, 1, 1), date(2026, 12, 31))
    assert periods.parse_quarter("2026Q5") is None and periods.parse_quarter("abc") is None


def test_tasks_per_quarter_and_year_assigned_least_loaded(store, world):
    s = run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    got = {(t["kind"], t["customer_id"], t["period"], t["due"]) for t in s["created"]}
    assert got == {
        ("follow_up", world["甲单位"], "2026Q1", "2026-03-31"),
        ("follow_up", world["乙单位"], "2026Q1", "2026-03-31"),
        ("annual_visit", world["乙单位"], "2026", "2026-12-31"),
    }  # 丙单位's product is delivered only in May
    # 乙单位's 8.1 and 8.2 calls of the period go to one engineer (issue 15)
    assert sorted(t["assignee"] for t in s["created"]) == ["engineer", "manager", "manager"]
    assert s["reminders"]["assigned"] == 3
    # the same quarter again: nothing new
    again = run_followups(store, at(2026, 2, 20, 8, 0), send_mail=False)
    assert again["created"] == [] and again["notifications"] == 0

    # next quarter: the 8.1 tasks of Q2 (丙单位 not yet: delivered 20 May), no new 8.2 task
    q2 = run_followups(store, at(2026, 4, 1, 8, 0), send_mail=False)
    assert {(t["kind"], t["period"]) for t in q2["created"]} == {("follow_up", "2026Q2")}
    assert len(q2["created"]) == 2
    # the Q1 tasks were never called: each assignee is told once that they are overdue
    assert q2["reminders"]["overdue"] == 2
    q2_late = run_followups(store, at(2026, 6, 1, 8, 0), send_mail=False)
    assert [t["customer_id"] for t in q2_late["created"]] == [world["丙单位"]]
    assert q2_late["reminders"]["overdue"] == 0


def test_due_soon_reminder_once(store, world):
    run_followups(store, at(2026, 1, 5, 8, 0), send_mail=False)
    early = run_followups(store, at(2026, 3, 1, 8, 0), send_mail=False)
    assert early["reminders"]["due"] == 0
    near = run_followups(store, at(2026, 3, 20, 8, 0), send_mail=False)  # 11 days before 31 March
    assert near["reminders"]["due"] == 2
    assert run_followups(store, at(2026, 3, 21, 8, 0), send_mail=False)["reminders"]["due"] == 0


def test_tasks_of_a_disabled_engineer_are_reassigned(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    engineer = accounts.find_by_username(store, "engineer")
    accounts.set_active(store, engineer["id"], False, "admin")
    s = run_followups(store, at(2026, 2, 3, 8, 0), send_mail=False)
    # engineer had 甲单位's 8.1 call only: 乙单位's 8.1 and 8.2 went together to manager (issue 15)
    assert len(s["reassigned"]) == 1 and {r["to"] for r in s["reassigned"]} == {"manager"}
    assert all(t["assignee"] == "manager" for t in store.scan(followup_tasks.TABLE))


def test_no_engineer_leaves_tasks_unassigned_and_tells_the_managers(store, world):
    for name in ("engineer", "manager"):
        accounts.update_user(store, accounts.find_by_username(store, name)["id"], "admin", roles=["receiver"])
    accounts.create_user(store, "boss", "Test-password-2026", ["tq_manager"], "admin")
    s = run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    assert all(t["assignee"] is None for t in s["created"])
    assert s["reminders"]["unassigned"] == 3  # one per task to the only tq_manager


def test_recording_a_call_checks_the_fields_of_its_clause(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    tasks = {(t["kind"], t["customer_id"]): t for t in store.scan(followup_tasks.TABLE)}
    quarterly = tasks[("follow_up", world["甲单位"])]
    annual = tasks[("annual_visit", world["乙单位"])]
    user = accounts.find_by_username(store, "engineer")
    now = at(2026, 2, 3, 10, 0)
    base = {"called_at": at(2026, 2, 3, 9, 30), "contact_name": "刘参谋", "contact_phone": "0312-1",
            "usage": "运行正常"}

    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, quarterly["id"], base, user, now)
    assert e.value.field == "guidance"  # 8.1: maintenance guidance given
    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, annual["id"], {**base, "guidance": "保养"}, user, now)
    assert e.value.field == "needs"  # 8.2: the customer's needs
    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, quarterly["id"], {**base, "guidance": "g", "called_at": at(2026, 2, 3, 11, 0)}, user, now)
    assert e.value.field == "called_at"  # not in the future

    done = followup_calls.record_call(store, quarterly["id"], {**base, "guidance": "按说明书季度保养"}, user, now,
                                 expect_rev=quarterly["_rev"])
    assert done["status"] == "done"
    call = done["call"]
    assert (call["called_by"], call["contact_name"], call["guidance"], call["case_id"]) == (
        "engineer", "刘参谋", "按说明书季度保养", None)
    assert call["called_at"].startswith("2026-02-03T09:30")
    with pytest.raises(followup_tasks.FollowUpConflict):
        followup_calls.record_call(store, quarterly["id"], {**base, "guidance": "x"}, user, now)
    assert followup_tasks.status_of(done, date(2026, 5, 1)) == "done"
    assert followup_tasks.status_of(annual, date(2026, 5, 1)) == "due"
    assert followup_tasks.status_of(tasks[("follow_up", world["乙单位"])], date(2026, 4, 1)) == "overdue"


def test_a_problem_raised_becomes_a_case_linked_to_the_call(store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = next(t for t in store.scan(followup_tasks.TABLE) if t["customer_id"] == world["乙单位"] and t["kind"] == "follow_up")
    user = accounts.find_by_username(store, "engineer")
    data = {"called_at": at(2026, 2, 3, 9, 30), "contact_name": "陈工", "contact_phone": "0937-1", "usage": "偶有故障",
            "guidance": "已指导", "problems": "B-1 开机后显示屏闪烁", "create_case": True, "case_type": "service_request"}
    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, task["id"], data, user, at(2026, 2, 3, 10, 0))
    assert e.value.field == "serial_no"  # a service request names its product
    assert store.count(vocab.TABLE) == 0

    done = followup_calls.record_call(store, task["id"], {**data, "serial_no": "B-1"}, user, at(2026, 2, 3, 10, 0))
    case = store.get(vocab.TABLE, done["call"]["case_id"])
    assert case["type"] == "service_request" and case["customer_id"] == world["乙单位"]
    assert case["product_serial"] == "B-1" and case["caller_name"] == "陈工"
    assert case["received_at"].startswith("2026-02-03T09:30")
    assert "显示屏闪烁" in case["description"] and f"回访任务 #{task['id']}" in case["description"]
    assert case["state"] == "awaiting_decision"  # a 技质部 user's intake is handed over at once
    assert done["call"]["case_number"] == case["number"]
    # linked both ways: the case names the call it came from
    assert case["source"] == {"type": "followup", "id": task["id"], "label": "季度电话跟踪（8.1，2026Q1）"}


def test_call_and_case_are_one_transaction(store, world, monkeypatch):
    """Recording the call and creating its case commit together: a failure in either leaves neither."""

    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = next(t for t in store.scan(followup_tasks.TABLE) if t["customer_id"] == world["乙单位"] and t["kind"] == "follow_up")
    user = accounts.find_by_username(store, "engineer")
    data = {"called_at": at(2026, 2, 3, 9, 30), "contact_name": "陈工", "contact_phone": "0937-1", "usage": "偶有故障",
            "guidance": "已指导", "problems": "B-1 开机后显示屏闪烁", "create_case": True, "case_type": "service_request",
            "serial_no": "B-1"}
    audit_before = len(list(store.audit))

    # 1. the case is made, then recording the call fails: no case is left behind
    real_update = Transaction.update

    def failing_update(self, table, record_id, changes, **kw):
        if table == followup_tasks.TABLE:
            raise OSError("写入回访记录失败")
        return real_update(self, table, record_id, changes, **kw)

    monkeypatch.setattr(Transaction, "update", failing_update)
    with pytest.raises(OSError):
        followup_calls.record_call(store, task["id"], data, user, at(2026, 2, 3, 10, 0))
    monkeypatch.undo()
    assert store.count(vocab.TABLE) == 0 and store.count(vocab.COUNTERS) == 0
    assert store.get(followup_tasks.TABLE, task["id"])["status"] == "open"
    assert len(list(store.audit)) == audit_before

    # 2. the intake refuses inside the transaction (another customer's product): no call recorded
    with pytest.raises(followup_tasks.FollowUpError) as e:
        followup_calls.record_call(store, task["id"], {**data, "serial_no": "A-1"}, user, at(2026, 2, 3, 10, 0))
    assert e.value.field == "serial_no" and "建立服务案例失败" in str(e.value)
    assert store.count(vocab.TABLE) == 0
    assert store.get(followup_tasks.TABLE, task["id"])["status"] == "open"

    # 3. both succeed: the first case number of the year, the call linked to it
    done = followup_calls.record_call(store, task["id"], data, user, at(2026, 2, 3, 10, 0))
    case = store.get(vocab.TABLE, done["call"]["case_id"])
    assert case["number"] == "FW2026-0001" and case["source"]["id"] == task["id"]
    assert done["status"] == "done"


# --- The pages ----------------------------------------------------------------------------------


def test_list_filters_and_access(client, auth, store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    run_followups(store, at(2026, 4, 2, 8, 0), send_mail=False)
    auth.login("sales")
    assert client.get("/followups/").status_code == 403
    auth.logout()
    auth.login("engineer")

    def rows(query=""):
        page = client.get("/followups/" + query).get_data(as_text=True)
        return len(re.findall(r'href="/followups/\d+"', page))

    assert rows() == 5
    assert rows("?quarter=2026Q1") == 3  # two 8.1 tasks of Q1 and the 8.2 task of the year
    assert rows("?quarter=2026Q2") == 3
    assert rows(f"?customer={world['甲单位']}") == 2
    assert rows("?engineer=engineer") + rows("?engineer=manager") == 5
    today = datetime.now(TZ).date().isoformat()  # the pages run at the real time
    tasks = list(store.scan(followup_tasks.TABLE))
    assert rows("?status=overdue") == sum(t["due"] < today for t in tasks)
    assert rows("?status=due") == sum(t["due"] >= today for t in tasks)
    assert rows("?quarter=bad") == 5  # an invalid quarter is ignored, with a message
    assert "格式如" in client.get("/followups/?quarter=bad").get_data(as_text=True)


def test_record_page_with_case_checkbox(client, auth, store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = next(t for t in store.scan(followup_tasks.TABLE) if t["customer_id"] == world["甲单位"])
    auth.login("engineer")
    page = client.get(f"/followups/{task['id']}").get_data(as_text=True)
    assert "记录回访" in page and "由反映的问题建立服务案例" in page and "甲单位联系人" in page
    resp = client.post(f"/followups/{task['id']}/record", data={
        "rev": task["_rev"], "called_at": "2026-02-03T09:30", "contact_name": "刘参谋", "contact_phone": "0312-1",
        "usage": "正常", "guidance": "保养", "problems": "想了解延长质保", "create_case": "y",
        "case_type": "consultation"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "回访记录已保存，已建立服务案例" in text
    done = store.get(followup_tasks.TABLE, task["id"])
    assert done["status"] == "done" and store.get(vocab.TABLE, done["call"]["case_id"])["type"] == "consultation"
    assert "想了解延长质保" in client.get(f"/followups/{task['id']}").get_data(as_text=True)
    # the case page links back to the call it came from
    case_page = client.get(f"/cases/{done['call']['case_id']}").get_data(as_text=True)
    source = re.search(r'id="case-source">(.*?)</dd>', case_page, re.S).group(1)
    assert f'href="/followups/{task["id"]}"' in source and "季度电话跟踪（8.1，2026Q1）" in source
    # a missing field stays on the page with its message, nothing stored
    other = next(t for t in store.scan(followup_tasks.TABLE) if t["status"] == "open" and t["kind"] == "follow_up")
    resp = client.post(f"/followups/{other['id']}/record", data={
        "rev": other["_rev"], "called_at": "2026-02-03T09:30", "contact_name": "x", "contact_phone": "1", "usage": "u"})
    assert resp.status_code == 200 and "请填写保养和维护指导" in resp.get_data(as_text=True)
    assert store.get(followup_tasks.TABLE, other["id"])["status"] == "open"


def test_manager_reassigns(client, auth, store, world):
    run_followups(store, at(2026, 2, 2, 8, 0), send_mail=False)
    task = next(t for t in store.scan(followup_tasks.TABLE) if t["assignee"] == "engineer")
    auth.login("engineer")
    assert client.post(f"/followups/{task['id']}/reassign", data={"assignee": "manager"}).status_code == 403
    auth.logout()
    auth.login("manager")
    client.post(f"/followups/{task['id']}/reassign", data={"rev": task["_rev"], "assignee": "manager"})
    assert store.get(followup_tasks.TABLE, task["id"])["assignee"] == "manager"
    assert client.get(f"/history/followups/{task['id']}").status_code == 200


def test_a_case_names_the_follow_up_table_it_checks_a_source_in():
    """records.cases cannot import the follow-ups (they sit above it): it names their table as data."""
    from records.cases.vocab import SOURCE_TABLES

    assert SOURCE_TABLES["followup"][0] == followup_tasks.TABLE
