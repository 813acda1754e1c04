"""A tq_manager's own fine proposals (6.1.5, 6.2.9), and the case-page helpers the UI reads:
who the case waits for (``next_steps``), time left on a deadline, the order of the deadlines,
and the intake that finds the customer from the serial number.

Domain level (no Flask); the pages are in tests/test_cases_views.py and tests/test_home_views.py.
"""
from __future__ import annotations

import pytest

from records.cases import deadlines as case_deadlines
from records.cases import flow, queries, workflow
from records.cases.steps import decision
from records.cases.vocab import SOLUTIONS, CaseError, NotPermitted
from records.core.errors import DomainError
from records.fines import proposals
from tests.fixtures.calendar import at


def test_propose_fine_is_a_managers_extra_action_in_any_state(db, users, new_case, act):
    c = new_case()
    # beside it, the record keeping of 技质部 before the decision (tests/test_cases_corrections.py)
    assert flow.extra_actions(c, users["manager"]) == ["propose_fine", "correct", "cancel", "merge"]
    assert "propose_fine" not in flow.allowed_actions(c, users["manager"])  # not a step of the flow
    assert flow.extra_actions(c, users["engineer"]) == ["correct", "cancel", "merge"]
    for name in ("receiver", "tech", "finance", "vp", "gm"):
        assert flow.extra_actions(c, users[name]) == []
    with pytest.raises(NotPermitted):
        act(c, "propose_fine", "engineer", "2026-11-30T09:00", kind="record_unclear",
            person="receiver", facts="x")
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]


def test_6_1_5_fifty_per_item_to_the_person_chosen(act, onsite_free_until):
    c = onsite_free_until("awaiting_report")
    c = act(c, "propose_fine", "manager", "2026-12-03T09:00", kind="record_unclear", person="receiver",
            items="3", facts="顾客地址和产品编号记录错误，技术人员多跑一趟")
    [f] = c["fines"]
    assert (f["key"], f["clause"], f["person"], f["amount"], f["range"], f["status"]) == (
        "record_unclear:1", "6.1.5", "receiver", 150, None, "proposed")
    assert f["items"] == 3 and f["manual"] is True and f["proposed_by"] == "manager"
    assert "每条处罚责任人 50 元" in f["basis"] and "共 3 条" in f["basis"] and "多跑一趟" in f["basis"]
    assert c["timeline"][-1]["action"] == "propose_fine" and "receiver-姓名" in c["timeline"][-1]["text"]
    # a second one gets its own key; the state does not move
    c = act(c, "propose_fine", "manager", "2026-12-03T09:10", kind="record_unclear", person="tech",
            facts="故障现象记录不完整")
    assert [f["key"] for f in c["fines"]] == ["record_unclear:1", "record_unclear:2"]
    assert c["fines"][1]["amount"] == 50 and c["state"] == "awaiting_report"
    # confirmed at the stated amount only (a change goes to the GM)
    with pytest.raises(DomainError) as e:
        act(c, "rule_fine", "manager", "2026-12-03T10:00", key="record_unclear:1", decision="confirmed",
            amount="100", reason="属实")
    assert e.value.field == "amount"
    c = act(c, "rule_fine", "manager", "2026-12-03T10:00", key="record_unclear:1", decision="confirmed",
            amount="", reason="属实")
    assert c["fines"][0]["final_amount"] == 150 and c["fines"][0]["status"] == "confirmed"


def test_6_2_9_range_for_the_technician_on_the_form(db, users, new_case, act, onsite_free_until):
    early = new_case(kind="consultation", serial="", answered_directly=True, direct_answer="已答复")  # closed
    with pytest.raises(CaseError) as e:  # no 技术服务单 issued yet
        act(early, "propose_fine", "manager", "2026-11-30T09:00", kind="falsified_form", person="tech",
            facts="x")
    assert e.value.field == "kind"
    c = onsite_free_until("awaiting_confirmation")
    with pytest.raises(CaseError) as e:  # not a technician of this case
        act(c, "propose_fine", "manager", "2026-12-04T09:00", kind="falsified_form", person="tech2",
            facts="到达时间不实")
    assert e.value.field == "person"
    with pytest.raises(DomainError) as e:  # facts required
        act(c, "propose_fine", "manager", "2026-12-04T09:00", kind="falsified_form", person="tech",
            facts="  ")
    assert e.value.field == "facts"
    c = act(c, "propose_fine", "manager", "2026-12-04T09:00", kind="falsified_form", person="tech",
            facts="技术服务单上的到达时间与票据不符")
    [f] = c["fines"]
    assert (f["key"], f["clause"], f["person"], f["amount"], f["range"]) == (
        "falsified_form:1", "6.2.9", "tech", None, [50, 500])
    assert f["items"] is None and "弄虚作假" in f["basis"] and "与票据不符" in f["basis"]
    with pytest.raises(DomainError):
        act(c, "rule_fine", "manager", "2026-12-04T10:00", key="falsified_form:1", decision="confirmed",
            amount="501", reason="情节严重")
    c = act(c, "rule_fine", "manager", "2026-12-04T10:00", key="falsified_form:1", decision="confirmed",
            amount="300", reason="情节较重")
    assert c["fines"][0]["final_amount"] == 300
    # proposals after the close still reach the manager's work list while pending
    c = act(c, "confirm", "manager", "2026-12-04T11:00", quality="好", lines=[{}, {}])
    c = act(c, "propose_fine", "manager", "2026-12-07T09:00", kind="record_unclear", person="receiver",
            facts="联系人电话记错")
    assert c["state"] == "closed"
    assert [r["case"]["id"] for r in queries.my_work(db, users["manager"], at("2026-12-07T09:30"))] == [c["id"]]


@pytest.mark.parametrize("data, field", [
    ({"kind": "bogus", "person": "receiver", "facts": "x"}, "kind"),
    ({"kind": "record_unclear", "person": "", "facts": "x"}, "person"),
    ({"kind": "record_unclear", "person": "nobody", "facts": "x"}, "person"),
    ({"kind": "record_unclear", "person": "receiver", "facts": "x", "items": "0"}, "items"),
    ({"kind": "record_unclear", "person": "receiver", "facts": "x", "items": "两条"}, "items"),
])
def test_propose_fine_refusals_name_their_field(db, new_case, act, data, field):
    c = new_case()
    with pytest.raises(DomainError) as e:
        act(c, "propose_fine", "manager", "2026-11-30T09:00", **data)
    assert e.value.field == field
    assert db.get("cases", c["id"])["fines"] == []


def test_add_manual_in_memory():
    case = {"fines": []}
    f = proposals.add_manual(case, "record_unclear", "p", "记录不清", at("2026-11-30T09:00"), "m", items=2)
    assert f["amount"] == 100 and f["key"] == "record_unclear:1"
    f = proposals.add_manual(case, "falsified_form", "p", "填报不实", at("2026-11-30T09:00"), "m")
    assert f["range"] == [50, 500] and f["key"] == "falsified_form:1"


# --- What the case page reads ------------------------------------------------------------------


def test_next_steps_name_who_the_case_waits_for(new_case, act, onsite_free_until):
    c = new_case()  # recorded: handed over to 技质部 (6.1.3)
    assert [(s["action"], s["users"], s["roles"]) for s in flow.next_steps(c)] == [("decide", [], ["技质部"])]
    c = onsite_free_until("completed")
    assert [(s["action"], s["users"], s["roles"]) for s in flow.next_steps(c)] == [
        ("approve_return", [], ["技质部"]), ("record_return", ["tech"], [])]
    c = onsite_free_until("awaiting_confirmation")
    c = act(c, "confirm", "manager", "2026-12-04T11:00", quality="好", lines=[{}, {}])
    assert flow.next_steps(c) == []


def test_next_steps_of_a_quote_wait_for_finance_not_for_a_redraft(paid_until):
    c = paid_until("quoted")
    assert [(s["action"], s["roles"]) for s in flow.next_steps(c)] == [("price", ["财务部"])]
    c = paid_until("quoting")
    assert [s["action"] for s in flow.next_steps(c)] == ["quote"]


def test_time_left_in_working_hours_or_clock_hours(cal):
    entry = {"clause": "6.2.7", "basis": "b", "start": "2026-11-27T09:00:00+08:00", "due": "2026-12-02T17:30:00+08:00"}
    assert case_deadlines.time_left(entry, cal, at("2026-11-27T09:00")) == "剩余 30 工作小时（约 4 个工作日）"
    entry = {**entry, "clause": "6.1.3", "due": "2026-11-26T10:00:00+08:00"}
    assert case_deadlines.time_left(entry, cal, at("2026-11-27T09:00")) == "已超 6.5 工作小时"
    entry = {**entry, "clause": "5.1.1.3", "due": "2026-11-27T12:00:00+08:00"}
    assert case_deadlines.time_left(entry, cal, at("2026-11-27T09:00")) == "剩余 3 小时"
    assert case_deadlines.time_left({**entry, "done_at": "2026-11-27T10:00:00+08:00"}, cal, at("2026-11-27T09:00")) == ""


def test_deadline_rows_in_the_order_of_the_flow(cal, onsite_free_until):
    c = onsite_free_until("awaiting_report")
    rows = case_deadlines.deadline_rows(c, cal, at("2026-12-03T09:00"))
    assert [r["key"] for r in rows] == ["handover", "decision", "arrival", "report"]
    assert rows[-1]["left"].startswith("剩余") and rows[0]["left"] == ""


def test_intake_with_the_serial_number_only_finds_the_customer(world, db, cal, users):
    data = {"type": "service_request", "customer_id": "", "product_serial": "IN-FAR", "caller_name": "陈工",
            "caller_phone": "0937-5550202", "channel": "phone", "description": "无输出"}
    c = workflow.intake(db, cal, data, users["receiver"], now=at("2026-11-30T09:00"))
    assert c["customer_id"] == world.far["id"] and c["customer_name"] == "西北某试验基地"
    with pytest.raises(CaseError) as e:
        workflow.intake(db, cal, {**data, "type": "consultation", "product_serial": ""}, users["receiver"],
                     now=at("2026-11-30T09:00"))
    assert e.value.field == "customer_id"


def test_dispatch_timeline_names_people_not_usernames(onsite_free_until):
    c = onsite_free_until("on_route")
    assert "tech-姓名" in c["timeline"][-1]["text"]


def test_the_kinds_offered_by_hand_follow_the_issued_form(new_case, onsite_free_until):
    """6.2.9 is offered (and accepted) only once a 技术服务单 was issued: one rule for the page and the step."""
    early = new_case()
    assert list(proposals.manual_kinds(early)) == ["record_unclear"]
    c = onsite_free_until("on_route")
    assert list(proposals.manual_kinds(c)) == ["record_unclear", "falsified_form"]
    assert proposals.manual_kinds(c)["falsified_form"].startswith("6.2.9 ")


def test_overview_lists_and_counts_for_the_home_page(db, new_case, act):
    mine = new_case()                                      # the receiver's: decision due Mon 16:30
    other = new_case(user="engineer", now="2026-11-30T09:00")  # 技质部's: decision due Tue 09:30
    late = new_case(received_at=at("2026-11-27T09:00"))    # recorded late: 6.1.4 proposed
    now = at("2026-11-30T17:00")
    ov = queries.overview(db, "receiver", now, tq=True)
    assert [c["id"] for c in ov["mine_open"]] == [mine["id"], late["id"]]
    assert [(c["id"], f["clause"]) for c, f in ov["pending_fines"]] == [(late["id"], "6.1.4")]
    assert ov["counts"] == {"mine_open": 2, "late_cases": 2, "pending_fines": 1}
    assert other["id"] not in [c["id"] for c in ov["mine_open"]]


def test_allowed_solutions_follow_the_warranty(new_case, act):
    """5.1.1.1, 5.1.1.2, 5.2.3: out of warranty no free on-site service; the page offers what the step accepts."""
    inside = new_case(user="engineer")
    outside = new_case(user="engineer", serial="OUT-001")
    assert list(decision.allowed_solutions(inside)) == list(SOLUTIONS)
    assert list(decision.allowed_solutions(outside)) == [k for k in SOLUTIONS if k != "onsite_free"]
    with pytest.raises(CaseError) as e:
        act(outside, "decide", "engineer", "2026-11-27T17:00", solution="onsite_free", analysis="a")
    assert e.value.field == "solution" and "质保期外" in str(e.value)
