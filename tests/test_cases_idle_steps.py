"""Steps with no clock in the regulation get company time limits (issue 15; records/cases/idle.py):
电话指导中, 编制费用报价, 待财务定价, 待顾客确认费用, 待分管副总批准. Company parameters
(``policy.IDLE_STEP_HOURS``), shown on the case page as 「公司规定」, flagged once by the overdue
run, never fined."""
from __future__ import annotations

import pytest

from records import policy
from records.calendar.corrections import current_calendar
from records.cases import idle, workflow
from records.jobs.overdue import FLAGS, run_overdue
from records.notifications import inbox
from tests.fixtures.calendar import at


def test_the_limits_are_company_parameters_read_through_one_function():
    assert set(policy.IDLE_STEP_HOURS) == set(idle.STEPS)
    assert idle.step_hours() == {k: float(v) for k, v in policy.IDLE_STEP_HOURS.items()}


@pytest.mark.parametrize("stop, step, start", [
    ("quoting", "quote", "2026-11-27T17:00"),  # decided: 编制费用报价 from the decision
    ("quoted", "price", "2026-11-30T09:00"),  # drafted with parts: 待财务定价 from the quote
    ("awaiting_customer", "customer", "2026-11-30T10:30"),  # sent: 待顾客确认费用
])
def test_the_step_and_its_start(paid_until, cal, stop, step, start):
    case = paid_until(stop)
    found = idle.limit(case, cal, idle.step_hours())
    assert found is not None
    got, d = found
    assert got.key == step and d.start == at(start)
    assert d.due == cal.add_working_hours(at(start), policy.IDLE_STEP_HOURS[step])
    assert d.clause == "公司规定" and d.basis.startswith("公司规定：")


def test_guidance_and_vp_steps(new_case, act, paid_until, cal):
    c = act(new_case(user="engineer"), "decide", "engineer", "2026-11-27T17:00", solution="phone_guidance",
            analysis="接线松动", guidance="请重新插紧电源线")
    assert idle.limit(c, cal, idle.step_hours())[0].key == "guidance"
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "engineer", "2026-11-30T14:00", accepted="no",
            responded_at=at("2026-11-30T13:50"), person="刘参谋")
    step, d = idle.limit(c, cal, idle.step_hours())
    assert step.key == "vp" and d.start == at("2026-11-30T14:00")
    rows = idle.idle_rows(c, cal, at("2026-11-30T14:30"), idle.step_hours())
    assert rows[0]["role"] == "分管副总" and rows[0]["responsible"] is None and rows[0]["status"] == "open"


def test_no_limit_outside_those_steps(onsite_free_until, cal):
    assert idle.limit(onsite_free_until("awaiting_dispatch"), cal, idle.step_hours()) is None


def test_flagged_once_by_the_overdue_run_never_fined(db, paid_until, cal):
    case = paid_until("awaiting_customer")  # sent Mon 30 Nov 10:30; 40 working hours → Mon 7 Dec 14:30
    due = idle.limit(case, cal, idle.step_hours())[1].due
    assert due == at("2026-12-07T14:30")
    early = run_overdue(db, at("2026-12-07T14:00"), send_mail=False)
    assert early["idle_flagged"] == []
    first = run_overdue(db, at("2026-12-07T15:00"), send_mail=False)
    assert [(f["case_id"], f["deadline"], f["clause"]) for f in first["idle_flagged"]] == [
        (case["id"], "idle:customer", "公司规定")]
    notes = [n for n in db.scan(inbox.TABLE) if n["key"].startswith("idle:")]
    assert {n["recipient"] for n in notes} == {"engineer", "manager"}  # the owner and the managers
    assert all("待顾客确认费用" in n["subject"] for n in notes)
    again = run_overdue(db, at("2026-12-08T11:00"), send_mail=False)  # run twice: nothing new
    assert again["idle_flagged"] == [] and again["notifications"] == 0
    assert sum(1 for f in db.scan(FLAGS) if f.get("idle")) == 1
    assert db.get("cases", case["id"])["fines"] == []  # never fined


def test_shown_on_the_case_page(client, auth, app_world, make_case, store):
    c = make_case(username="engineer", roles=("tq_engineer",))
    engineer = {"username": "engineer", "roles": ["tq_engineer"]}
    workflow.perform(store, current_calendar(store), c["id"], "decide", engineer,
                     {"solution": "phone_guidance", "analysis": "接线松动", "guidance": "请重新插紧电源线"})
    auth.login("engineer")
    page = client.get(f"/cases/{c['id']}").get_data(as_text=True)
    assert 'data-deadline="idle:guidance"' in page
    assert "公司规定：「电话指导中」应在 16 个工作小时内记录电话指导结果" in page
