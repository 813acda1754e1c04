"""The case workflow of sections 5 and 6 (records/cases/, records/fines/), without Flask.

Times are pinned (``now=``) in late 2026 with the default calendar; every deadline below is
computed by hand from the GLOSSARY readings (08:30–12:00, 13:30–17:30, Mon–Fri). The world
(near and far, three products), ``new_case``, ``act``, ``onsite_free_until`` and ``paid_until``
are fixtures of tests/fixtures/.
"""
from __future__ import annotations

import pytest

from records.cases import deadlines as case_deadlines
from records.cases import flow, onsite_record, queries, vocab, workflow
from records.cases.vocab import CaseError, NotPermitted
from records.core.errors import DomainError, StaleRecord
from records.jobs.overdue import run_overdue
from records.service_forms import fields as form_fields
from records.users import roles
from scripts import bench_workflow
from tests.fixtures.calendar import at
from tests.fixtures.service_forms import CONDUCT, RATED, report_form


def due(case, key):
    return case["deadlines"][key]["due"]


# --- Intake and hand-over (6.1.1–6.1.4): recording is the hand-over (more: test_cases_intake.py) ---


def test_intake_numbers_and_handover_met_at_recording(new_case):
    c = new_case()
    assert c["number"] == "FW2026-0001"
    assert c["state"] == "awaiting_decision"
    assert c["received_at"] == "2026-11-27T16:00:00+08:00"
    assert c["warranty"]["in_warranty"] is True
    # Friday 16:00 + 4 working hours: 1.5 h on Friday, 2.5 h on Monday from 08:30; met at the recording.
    assert due(c, "handover") == "2026-11-30T11:00:00+08:00"
    assert c["deadlines"]["handover"]["done_at"] == "2026-11-27T16:00:00+08:00"
    assert c["deadlines"]["handover"]["clause"] == "6.1.3"
    assert c["deadlines"]["handover"]["responsible"] == "receiver"
    assert c["tq_received_at"] == "2026-11-27T16:00:00+08:00" and not c["fines"]
    assert new_case()["number"] == "FW2026-0002"
    assert new_case(now="2027-01-05T09:00")["number"] == "FW2027-0001"


def test_consultation_reply_deadline_and_reply(cal, users, new_case, act):
    c = new_case(kind="consultation", serial="")
    assert c["product_id"] is None
    # 8 working hours from Friday 16:00: 1.5 + 3.5 (Mon morning) + 3 → Monday 16:30.
    assert due(c, "consult_reply") == "2026-11-30T16:30:00+08:00"
    assert c["state"] == "awaiting_reply" and c["tq_received_at"] == "2026-11-27T16:00:00+08:00"
    assert not c["fines"]
    c = act(c, "assign_reply", "engineer", "2026-11-30T09:10", assignee="sales")
    assert flow.allowed_actions(c, users["sales"]) == ["reply"]
    c = act(c, "reply", "sales", "2026-11-30T10:00", answer="按说明书 4.2 节操作")
    assert c["state"] == "closed" and c["outcome"] == "answered"
    assert c["reply"]["by"] == "sales"
    assert case_deadlines.deadline_status(c["deadlines"]["consult_reply"], cal, at("2026-12-01T10:00")) == "met"


def test_consultation_answered_directly_closes_at_recording(new_case):
    c = new_case(kind="consultation", serial="", answered_directly=True, direct_answer="已答复")
    assert c["deadlines"]["consult_reply"]["done_at"] == "2026-11-27T16:00:00+08:00"
    assert (c["state"], c["outcome"]) == ("closed", "answered")


def test_tq_intake_has_no_handover_deadline(new_case):
    c = new_case(user="engineer")
    assert c["state"] == "awaiting_decision" and c["tq_owner"] == "engineer"
    assert c["tq_received_at"] == c["received_at"] and "handover" not in c["deadlines"]
    # 6.2.2: 8 working hours from 技质部's receipt, Friday 16:00 → Monday 16:30.
    assert due(c, "decision") == "2026-11-30T16:30:00+08:00"


def test_late_recording_proposes_6_1_4_once(db, new_case):
    c = new_case(received_at=at("2026-11-27T09:00"), now="2026-11-30T14:00")  # due Fri 14:30
    assert [(f["clause"], f["person"], f["amount"], f["status"]) for f in c["fines"]] == [
        ("6.1.4", "receiver", 50, "proposed")]
    # Monday 14:00 + 8 working hours (6.2.2): 3.5 h Monday, 3.5 h Tuesday morning, 1 h → Tuesday 14:30.
    assert due(c, "decision") == "2026-12-01T14:30:00+08:00"
    # The scheduled overdue run (records.jobs.overdue) makes no second proposal.
    assert run_overdue(db, at("2026-12-01T10:00"), send_mail=False)["fines_proposed"] == 0
    assert len(db.get("cases", c["id"])["fines"]) == 1


def test_intake_refusals_name_their_field(world, db, cal, users, new_case):
    with pytest.raises(CaseError) as e:
        new_case(serial="")
    assert e.value.field == "product_serial"
    with pytest.raises(CaseError) as e:
        workflow.intake(db, cal, {"type": "service_request", "customer_id": world.near["id"], "product_serial": "OUT-001",
                               "caller_name": "a", "caller_phone": "1", "description": "x"}, users["receiver"],
                     now=at("2026-11-27T16:00"))
    assert e.value.field == "product_serial"
    with pytest.raises(CaseError) as e:
        new_case(received_at=at("2026-11-27T17:00"))
    assert e.value.field == "received_at" and "不能晚于" in str(e.value)
    with pytest.raises(CaseError) as e:
        new_case(caller_phone="  ")
    assert e.value.field == "caller_phone"
    with pytest.raises(CaseError) as e:
        new_case(answered_directly=True, direct_answer="x")
    assert e.value.field == "answered_directly"


def test_received_at_may_be_earlier(new_case):
    c = new_case(received_at=at("2026-11-27T09:00"))
    assert due(c, "handover") == "2026-11-27T14:30:00+08:00"  # 09:00 + 3 h morning + 1 h afternoon
    assert c["deadlines"]["handover"]["done_at"] == "2026-11-27T16:00:00+08:00" and c["fines"]


# --- A whole in-warranty on-site path: every deadline by hand ------------------------------


def test_in_warranty_path_deadlines(cal, act, onsite_free_until):
    c = onsite_free_until("awaiting_dispatch")
    assert due(c, "decision") == "2026-11-30T16:30:00+08:00"  # recorded Fri 16:00 + 8 h → Mon 16:30
    assert c["deadlines"]["decision"]["done_at"] == "2026-11-30T15:00:00+08:00"
    # 5.1.1.3, 150 km: 24 clock hours from the receipt (Friday 16:00), not from the decision.
    assert c["deadlines"]["arrival"]["clause"] == "5.1.1.3"
    assert due(c, "arrival") == "2026-11-28T16:00:00+08:00"
    assert c["decision"]["in_warranty"] is True and c["decision"]["decided_by"] == "engineer"
    c = onsite_free_until("awaiting_report")
    assert c["dispatch"]["form_no"] == "JF2026-0001"
    assert c["onsite"]["return_approved_by"] == "engineer"
    assert case_deadlines.deadline_status(c["deadlines"]["arrival"], cal, at("2026-12-03T00:00")) == "met_late"
    # 6.2.7: end of the 3rd working day after Wednesday's return: Thu, Fri, Mon → Mon 17:30.
    assert due(c, "report") == "2026-12-07T17:30:00+08:00"
    assert not c["fines"]
    c = onsite_free_until("awaiting_confirmation")
    # 6.2.8: end of the 5th working day after Thursday's report: Fri, Mon, Tue, Wed, Thu.
    assert due(c, "confirm") == "2026-12-10T17:30:00+08:00"
    c = act(c, "confirm", "manager", "2026-12-10T17:00", quality="服务及时，顾客满意",
            lines=[{"approved": "", "reason": ""}, {"approved": "250", "reason": "超标准"}])
    assert (c["state"], c["outcome"]) == ("closed", "completed")
    assert c["audit"]["lines"][1] == {"date": "2026-12-01", "category": "lodging", "item": "住宿", "claimed": 300.0,
                                      "approved": 250.0, "reason": "超标准", "override": False, "rule": None}
    assert c["audit"]["approved_total"] == 1050.0
    assert not c["fines"] and case_deadlines.open_deadlines(c) == []
    labels = [t["action"] for t in c["timeline"]]
    assert labels == ["intake", "decide", "dispatch", "arrive", "complete", "approve_return",
                      "record_return", "report", "receive_materials", "confirm"]
    assert all(t["by"] and t["at"] for t in c["timeline"])


def test_audit_adjustment_needs_a_reason(act, onsite_free_until):
    c = onsite_free_until("awaiting_confirmation")
    with pytest.raises(CaseError) as e:
        act(c, "confirm", "manager", "2026-12-04T10:00", quality="好",
            lines=[{"approved": "700"}, {"approved": ""}])
    assert e.value.field == "lines" and [(i, cell) for i, cell, _ in e.value.rows] == [(0, "reason")]  # beside its line


@pytest.mark.parametrize("confirmed, days", [
    ("2026-12-10T17:30", []),                       # at the due time: on time
    ("2026-12-10T18:00", []),                       # after 17:30, before the next working day begins: not late
    ("2026-12-11T09:00", ["2026-12-11"]),           # on the 6th working day: 1 day
    ("2026-12-11T16:00", ["2026-12-11"]),
    ("2026-12-12T10:00", ["2026-12-11"]),           # Saturday: Monday not begun yet
    ("2026-12-14T10:00", ["2026-12-11", "2026-12-14"]),
    ("2026-12-16T09:00", ["2026-12-11", "2026-12-14", "2026-12-15", "2026-12-16"]),
])
def test_6_2_8_fifty_per_working_day_late(act, onsite_free_until, confirmed, days):
    # issue 13: one 6.2.8 proposal per case, 50 元 × the working days begun after the due time
    c = onsite_free_until("awaiting_confirmation")
    c = act(c, "confirm", "manager", confirmed, quality="好", lines=[{}, {}])
    assert [(f["key"], f["late_days"], f["amount"], f["running"]) for f in c["fines"]] == (
        [("confirm_late", days, 50 * len(days), False)] if days else [])
    assert all(f["clause"] == "6.2.8" and f["person"] == "engineer" for f in c["fines"])


def test_6_2_8_cron_and_step_never_double_a_day(db, act, onsite_free_until):
    c = onsite_free_until("awaiting_confirmation")
    assert run_overdue(db, at("2026-12-10T18:00"), send_mail=False)["fines_proposed"] == 0  # flagged, no day begun
    assert run_overdue(db, at("2026-12-11T09:00"), send_mail=False)["fines_proposed"] == 1
    assert run_overdue(db, at("2026-12-11T15:00"), send_mail=False)["fines_proposed"] == 0
    assert run_overdue(db, at("2026-12-14T09:00"), send_mail=False)["fines_proposed"] == 1  # the count grows
    [f] = db.get("cases", c["id"])["fines"]
    assert (f["key"], f["days"], f["amount"], f["running"]) == ("confirm_late", 2, 100, True)
    c = act(db.get("cases", c["id"]), "confirm", "manager", "2026-12-15T10:00", quality="好", lines=[{}, {}])
    assert [(f["key"], f["days"], f["amount"], f["running"]) for f in c["fines"]] == [("confirm_late", 3, 150, False)]


def test_return_without_approval_proposes_6_2_6_range(act, onsite_free_until):
    c = onsite_free_until("completed")
    # 6.2.6: a second step: the first submission is refused with the consequence, nothing recorded
    with pytest.raises(CaseError) as e:
        act(c, "record_return", "tech", "2026-12-02T16:00", returned_at=at("2026-12-02T15:00"))
    assert e.value.field == "confirm_unapproved" and "6.2.6" in str(e.value) and "处罚建议" in str(e.value)
    c = act(c, "record_return", "tech", "2026-12-02T16:00", returned_at=at("2026-12-02T15:00"),
            confirm_unapproved=True)
    [f] = c["fines"]
    assert (f["clause"], f["person"], f["amount"], f["range"]) == ("6.2.6", "tech", None, [50, 500])
    assert c["onsite"]["return_unapproved"] is True
    # the manager sets the amount inside the range, with a reason
    with pytest.raises(DomainError) as e:
        act(c, "rule_fine", "manager", "2026-12-03T09:00", key="return_unapproved",
            decision="confirmed", amount="600", reason="情节较重")
    assert e.value.field == "amount"
    with pytest.raises(DomainError) as e:
        act(c, "rule_fine", "manager", "2026-12-03T09:00", key="return_unapproved",
            decision="confirmed", amount="200", reason="")
    assert e.value.field == "reason"
    c = act(c, "rule_fine", "manager", "2026-12-03T09:00", key="return_unapproved",
            decision="confirmed", amount="200", reason="造成额外差旅费用")
    assert c["fines"][0]["status"] == "confirmed" and c["fines"][0]["final_amount"] == 200
    with pytest.raises(DomainError):  # ruled once only
        act(c, "rule_fine", "manager", "2026-12-03T09:05", key="return_unapproved",
            decision="waived", reason="x")
    # the GM may rule otherwise (6.2.8 特殊情况)
    with pytest.raises(NotPermitted):
        act(c, "gm_rule_fine", "manager", "2026-12-03T10:00", key="return_unapproved", amount="0", reason="x")
    c = act(c, "gm_rule_fine", "gm", "2026-12-03T10:00", key="return_unapproved", amount="0",
            reason="抢修任务紧急，特殊情况")
    assert c["fines"][0]["status"] == "gm_ruled" and c["fines"][0]["final_amount"] == 0


def test_waive_handover_fine(users, new_case, act):
    c = new_case(received_at=at("2026-11-27T09:00"), now="2026-11-30T14:00")  # recorded late: 6.1.4
    assert "rule_fine" in flow.allowed_actions(c, users["manager"])
    assert "rule_fine" not in flow.allowed_actions(c, users["engineer"])
    c = act(c, "rule_fine", "manager", "2026-11-30T15:00", key="handover", decision="waived",
            reason="顾客单位周末来电")
    assert c["fines"][0]["status"] == "waived" and c["fines"][0]["final_amount"] == 0
    assert "rule_fine" not in flow.allowed_actions(c, users["manager"])


# --- Paid service, refusal and VP approval (5.2.3–5.2.5, 6.2.4) ------------------------------


def test_paid_path_quote_and_customer_confirmation(users, act, paid_until):
    c = paid_until("quoting")
    assert c["decision"]["in_warranty"] is False and "arrival" not in c["deadlines"]
    c = paid_until("quoted")
    assert flow.allowed_actions(c, users["finance"]) == ["price"]
    assert "send_quote" not in flow.allowed_actions(c, users["engineer"])  # parts not priced yet
    with pytest.raises(CaseError):
        act(c, "send_quote", "engineer", "2026-11-30T09:30")
    c = paid_until("awaiting_customer")
    assert c["quote"]["total"] == 5500.0
    c = act(c, "customer_response", "sales", "2026-11-30T15:00", accepted="yes",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    assert c["state"] == "awaiting_dispatch"
    # 5.2.5, 820 km: 48 clock hours from the customer's confirmation.
    assert due(c, "arrival") == "2026-12-02T14:00:00+08:00"


def test_refused_fee_needs_vp(cal, users, act, paid_until):
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="no",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    assert c["state"] == "awaiting_vp" and "arrival" not in c["deadlines"]
    assert flow.allowed_actions(c, users["vp"]) == ["vp_decision"]
    for name in ("engineer", "manager", "gm", "sales"):
        assert flow.allowed_actions(c, users[name]) == []
        with pytest.raises(NotPermitted):
            act(c, "vp_decision", name, "2026-11-30T16:00", approved="yes", reason="x")
    c = act(c, "vp_decision", "vp", "2026-11-30T16:00", approved="yes", reason="保障任务需要")
    assert c["state"] == "awaiting_dispatch"
    assert due(c, "arrival") == "2026-12-02T16:00:00+08:00"  # 48 h from the approval
    c = act(c, "dispatch", "engineer", "2026-12-01T08:00", technicians=["tech", "tech2"], plan="p",
            precautions="q")
    c = act(c, "arrive", "tech2", "2026-12-02T12:00", arrived_at=at("2026-12-02T11:00"))
    assert case_deadlines.deadline_status(c["deadlines"]["arrival"], cal, at("2026-12-02T12:00")) == "met"


def test_vp_refusal_closes(act, paid_until):
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="no",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    c = act(c, "vp_decision", "vp", "2026-11-30T16:00", approved="no", reason="不符合条件")
    assert (c["state"], c["outcome"]) == ("closed", "refused")


def test_paid_report_needs_receipt(db, act, paid_until, archive_signed_form):
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="yes",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    c = act(c, "dispatch", "engineer", "2026-11-30T16:00", technicians=["tech"], plan="p", precautions="q")
    c = act(c, "arrive", "tech", "2026-12-01T10:00", arrived_at=at("2026-12-01T10:00"))
    c = act(c, "complete", "tech", "2026-12-01T12:00", work_done="w", completed_at=at("2026-12-01T12:00"))
    c = act(c, "approve_return", "manager", "2026-12-01T12:10")
    c = act(c, "record_return", "tech", "2026-12-01T17:00", returned_at=at("2026-12-01T17:00"))
    archive_signed_form(db, c)
    form = report_form("2026-12-01T10:00", "2026-12-01T12:00", charge="paid", amount="5500")
    with pytest.raises(CaseError) as e:
        act(c, "report", "tech", "2026-12-02T09:00", text="t", **form)
    assert e.value.field == "receipt_no"
    with pytest.raises(CaseError) as e:  # paid on the form: the amount written there
        act(c, "report", "tech", "2026-12-02T09:00", text="t", **{**form, "amount": ""},
            receipt_no="SJ-1", amount_collected="5500")
    assert e.value.field == "amount"
    c = act(c, "report", "tech", "2026-12-02T09:00", text="t", **form, receipt_no="SJ-1",
            amount_collected="5500")
    assert c["report"]["amount_collected"] == 5500.0
    assert (c["report"]["service_form"]["charge"], c["report"]["service_form"]["amount"]) == ("paid", 5500.0)


def test_solution_must_fit_warranty(new_case, act):
    c = new_case(user="engineer")
    with pytest.raises(CaseError) as e:
        act(c, "decide", "engineer", "2026-11-27T17:00", solution="onsite_paid", analysis="a")
    assert e.value.field == "solution"
    with pytest.raises(CaseError) as e:
        act(c, "decide", "engineer", "2026-11-27T17:00", solution="onsite_free", analysis="a",
            misuse=True, misuse_reason="受潮")
    assert e.value.field == "solution"
    c = act(c, "decide", "engineer", "2026-11-27T17:00", solution="onsite_paid", analysis="a",
            misuse=True, misuse_reason="受潮")
    assert c["state"] == "quoting" and c["decision"]["misuse"] is True


def test_phone_guidance_solved_or_onsite(db, new_case, act):
    c = new_case(user="engineer")
    c = act(c, "decide", "engineer", "2026-11-27T17:00", solution="phone_guidance", analysis="a",
            guidance="重新插拔电源")
    assert c["state"] == "awaiting_guidance_result"
    c2 = act(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=True)
    assert (c2["state"], c2["outcome"]) == ("closed", "guidance_solved")
    c = db.get("cases", c["id"])  # the closed one; take a fresh case for the other branch
    c = new_case(user="engineer")
    c = act(c, "decide", "engineer", "2026-11-27T17:00", solution="phone_guidance", analysis="a",
            guidance="g")
    c = act(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=False)
    assert c["state"] == "awaiting_dispatch" and c["decision"]["solution"] == "onsite_free"
    assert due(c, "arrival") == "2026-11-28T16:00:00+08:00"


# --- The state machine, per role -----------------------------------------------------------

TQ_ACTS = {"engineer", "manager"}
EXPECTED = {
    # state: {user: allowed actions}; users not listed may do nothing
    "awaiting_decision": {"engineer": ["decide"], "manager": ["decide"]},
    "awaiting_dispatch": {"engineer": ["dispatch"], "manager": ["dispatch"]},
    "on_route": {"tech": ["arrive"]},
    "on_site": {"tech": ["complete"]},
    "completed": {"engineer": ["approve_return"], "manager": ["approve_return"], "tech": ["record_return"]},
    "return_approved": {"tech": ["record_return"]},
    "awaiting_report": {"tech": ["report"]},
    "awaiting_confirmation": {"engineer": ["confirm"], "manager": ["confirm"]},
}


@pytest.mark.parametrize("state", list(EXPECTED))
def test_allowed_actions_per_role(users, onsite_free_until, state):
    c = onsite_free_until(state)
    assert c["state"] == state
    for name, user in users.items():
        assert flow.allowed_actions(c, user) == EXPECTED[state].get(name, []), (state, name)


def test_paid_states_per_role(users, paid_until):
    c = paid_until("quoted")
    table = {name: flow.allowed_actions(c, u) for name, u in users.items()}
    assert table == {**{n: [] for n in users}, "engineer": ["quote"], "manager": ["quote"], "finance": ["price"]}
    c = paid_until("awaiting_customer")
    table = {name: flow.allowed_actions(c, u) for name, u in users.items()}
    assert table == {**{n: [] for n in users}, "engineer": ["customer_response"], "manager": ["customer_response"],
                     "sales": ["customer_response"]}


@pytest.mark.parametrize("state, action, user, error", [
    ("awaiting_decision", "reply", "engineer", CaseError),         # wrong state
    ("awaiting_decision", "decide", "receiver", NotPermitted),     # wrong role
    ("awaiting_decision", "dispatch", "engineer", CaseError),
    ("awaiting_dispatch", "dispatch", "tech", NotPermitted),
    ("on_route", "arrive", "tech2", NotPermitted),                 # not assigned
    ("on_route", "arrive", "engineer", NotPermitted),
    ("on_route", "complete", "tech", CaseError),
    ("completed", "approve_return", "tech", NotPermitted),
    ("completed", "report", "tech", CaseError),
    ("return_approved", "approve_return", "engineer", CaseError),
    ("awaiting_report", "confirm", "engineer", CaseError),
    ("awaiting_report", "report", "receiver", NotPermitted),
    ("awaiting_confirmation", "confirm", "tech", NotPermitted),
    ("awaiting_confirmation", "confirm", "finance", NotPermitted),
    ("awaiting_confirmation", "vp_decision", "vp", CaseError),
])
def test_forbidden_transitions(db, act, onsite_free_until, state, action, user, error):
    c = onsite_free_until(state)
    with pytest.raises(error) as e:
        act(c, action, user, "2026-12-20T10:00")
    if error is CaseError:
        assert "当前状态" in str(e.value) and vocab.STATES[state] in str(e.value)
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]  # nothing applied


def test_stale_revision_applies_nothing(db, new_case, act):
    c = new_case()
    fresh = act(c, "decide", "engineer", "2026-11-30T09:00", solution="phone_guidance", analysis="a", guidance="g")
    with pytest.raises(StaleRecord):
        act(c, "decide", "manager", "2026-11-30T09:05", solution="onsite_free", analysis="b")  # the old _rev
    assert db.get("cases", c["id"])["_rev"] == fresh["_rev"]
    assert [t["action"] for t in db.get("cases", c["id"])["timeline"]] == ["intake", "decide"]


def test_times_must_be_in_order(act, onsite_free_until):
    c = onsite_free_until("on_route")
    with pytest.raises(CaseError) as e:
        act(c, "arrive", "tech", "2026-12-01T10:00", arrived_at=at("2026-11-30T16:00"))
    assert e.value.field == "arrived_at" and "出发时间" in str(e.value)
    with pytest.raises(CaseError) as e:
        act(c, "arrive", "tech", "2026-12-01T10:00", arrived_at=at("2026-12-01T11:00"))
    assert "不能晚于当前时间" in str(e.value)


def test_dispatch_requires_technicians(act, onsite_free_until):
    c = onsite_free_until("awaiting_dispatch")
    with pytest.raises(CaseError) as e:
        act(c, "dispatch", "engineer", "2026-11-30T16:00", technicians=["sales"], plan="p", precautions="q")
    assert e.value.field == "technicians"


# Who may read a case (its page, its 技术服务单): a role that reads every case, or a part in this one.
PART = {"received_by": "zhang", "reply_assignee": "qian", "dispatch": {"technicians": ["zhao", "zhou"]}}


@pytest.mark.parametrize("user, case, expected", [
    *[({"username": "x", "roles": [role]}, PART, True) for role in roles.CASE_READERS],  # every case
    ({"username": "x", "roles": ["technician"]}, {"received_by": "y"}, True),  # not sent on it: still reads
    ({"username": "zhang", "roles": ["receiver"]}, PART, True),  # its receiver
    ({"username": "qian", "roles": ["receiver"]}, PART, True),  # the reply assignee
    ({"username": "zhou", "roles": ["receiver"]}, PART, True),  # among the technicians sent
    ({"username": "li", "roles": ["receiver"]}, PART, False),  # no part in it
    ({"username": "li", "roles": ["admin", "receiver"]}, PART, False),  # admin is not implied
    ({"username": "li", "roles": []}, {"received_by": "li", "dispatch": None}, True),
    ({"username": "li", "roles": []}, {"received_by": "zhang", "reply_assignee": None, "dispatch": None}, False),
    ({"roles": ["receiver"]}, {"received_by": None, "reply_assignee": None}, False),  # no name: no part
])
def test_may_read(user, case, expected):
    assert flow.may_read(case, user) is expected


# --- Read-time deadlines, lists, recomputation --------------------------------------------


def test_deadline_status_colours(cal, new_case):
    c = new_case()  # decision due Monday 16:30
    entry = c["deadlines"]["decision"]
    assert case_deadlines.deadline_status(entry, cal, at("2026-11-27T16:30")) == "open"
    assert case_deadlines.deadline_status(entry, cal, at("2026-11-30T14:30")) == "soon"  # exactly 2 working hours left
    assert case_deadlines.deadline_status(entry, cal, at("2026-11-30T14:29")) == "open"
    assert case_deadlines.deadline_status(entry, cal, at("2026-11-30T16:30")) == "soon"
    assert case_deadlines.deadline_status(entry, cal, at("2026-11-30T16:31")) == "overdue"
    assert case_deadlines.deadline_status(c["deadlines"]["handover"], cal, at("2026-11-30T16:31")) == "met"


def test_overdue_items_and_my_work(db, cal, users, new_case):
    b = new_case(user="engineer")                             # decision due Mon 16:30 (engineer)
    a = new_case(user="engineer", now="2026-11-27T09:00")     # decision due Mon 09:30 (engineer)
    items = case_deadlines.overdue_in(db.scan(vocab.TABLE), at("2026-11-30T17:00"))
    assert [(i.case["id"], i.key, i.responsible) for i in items] == [(a["id"], "decision", "engineer"),
                                                                      (b["id"], "decision", "engineer")]
    assert items[0].deadline.clause == "6.2.2"
    assert case_deadlines.overdue_in(db.scan(vocab.TABLE), at("2026-11-30T09:00")) == []
    assert queries.my_work(db, users["receiver"], at("2026-11-30T09:00")) == []  # recording handed it over
    work = queries.my_work(db, users["engineer"], at("2026-11-30T09:00"))
    assert [(r["case"]["id"], r["actions"]) for r in work] == [(a["id"], ["decide"]), (b["id"], ["decide"])]
    assert queries.my_work(db, users["tech"], at("2026-11-30T09:00")) == []


def test_search_filters(world, db, new_case):
    a = new_case()  # decision due Mon 16:30
    b = new_case(user="engineer", serial="OUT-001", description="雷达不开机", now="2026-11-30T09:00")  # Tue 09:30
    rows, total, _ = queries.search(db, at("2026-11-30T12:00"), q="雷达")
    assert total == 1 and rows[0]["id"] == b["id"]
    assert queries.search(db, at("2026-11-30T12:00"), state="awaiting_decision")[1] == 2
    assert queries.search(db, at("2026-11-30T17:00"), overdue=True)[0][0]["id"] == a["id"]
    assert queries.search(db, at("2026-11-30T12:00"), customer_id=world.far["id"])[1] == 1
    assert queries.search(db, at("2026-11-30T12:00"), product="out-")[1] == 1
    assert queries.search(db, at("2026-11-30T12:00"), type="consultation")[1] == 0


def test_recompute_open_deadlines_after_a_correction(db, cal, new_case):
    c = new_case()  # its handover is met at the recording: never recomputed
    done = new_case(kind="consultation", serial="", answered_directly=True, direct_answer="已答复")  # closed
    # The company declares Monday 2026-11-30 a day off: Fri 16:00 + 8 h → Tuesday 16:30.
    shut = cal.with_corrections({"2026-11-30": (False, "停工")})
    assert case_deadlines.recompute_open_deadlines(db, shut, "admin") == 1  # c's decision
    c = db.get("cases", c["id"])
    assert due(c, "decision") == "2026-12-01T16:30:00+08:00"
    assert due(c, "handover") == "2026-11-30T11:00:00+08:00"
    assert due(db.get("cases", done["id"]), "handover") == "2026-11-30T11:00:00+08:00"
    assert case_deadlines.recompute_open_deadlines(db, shut, "admin") == 0


def test_bench_transition(db, cal):
    times = bench_workflow.bench_transition(db, 3, cal)
    assert len(times) == 3 and all(t > 0 for t in times)


# --- The report carries the 技术服务单 (6.2.6, 6.2.7) and 技质部 confirms it (6.2.8) ---------------


def test_report_is_refused_until_a_signed_form_is_archived(db, act, onsite_free_until, archive_signed_form):
    c = onsite_free_until("awaiting_report")
    with pytest.raises(CaseError) as e:
        act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **report_form())
    assert "技术服务单" in str(e.value) and "上传" in str(e.value) and "6.2.7" in str(e.value)
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]  # nothing applied
    doc = archive_signed_form(db, c)
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **report_form())
    assert c["state"] == "awaiting_confirmation"
    assert c["report"]["form_version"] == {"id": doc["id"], "version": 1, "kind": "scan",
                                           "form_no": c["dispatch"]["form_no"], "sha256": doc["sha256"]}


def test_report_stores_the_filled_form_and_the_evaluation(onsite_free_until):
    c = onsite_free_until("awaiting_receipt")  # the report itself (6.2.7)
    f = c["report"]["service_form"]
    assert f == {"arrived_at": "2026-12-01T09:30:00+08:00", "completed_at": "2026-12-02T10:30:00+08:00",
                 "fault_found": "电源模块无输出", "cause": "过流保护元件损坏", "work_done": "更换电源模块，全面检测正常",
                 "parts": [{"part": "电源模块", "quantity": 1}], "charge": "free", "amount": None,
                 "ratings": RATED, "remarks": "服务及时"}
    assert set(f["ratings"]) == {k for k, _ in form_fields.ASPECTS}  # the printed form's own keys
    assert "顾客总体评价：满意" in c["timeline"][-1]["text"]


@pytest.mark.parametrize("over, field", [
    ({"ratings": {**RATED, "skill": ""}}, "skill"),
    ({"ratings": {**RATED, "overall": "great"}}, "overall"),
    ({"fault_found": " "}, "fault_found"),
    ({"cause": ""}, "cause"),
    ({"work_done": ""}, "work_done"),
    ({"charge": ""}, "charge"),
    ({"charge": "paid", "amount": ""}, "amount"),
    ({"charge": "paid", "amount": "-3"}, "amount"),
    ({"parts": [{"part": "电源模块", "quantity": "0"}]}, "parts"),
    ({"parts": [{"part": "", "quantity": "2"}]}, "parts"),
    ({"completed_at": at("2026-12-01T09:00")}, "completed_at"),   # before the arrival on the form
    ({"completed_at": at("2026-12-02T15:30")}, "completed_at"),   # after the return to the company
    ({"arrived_at": at("2026-11-30T16:00")}, "arrived_at"),       # before the departure
    ({"arrived_at": None}, "arrived_at"),
])
def test_report_form_refusals_name_their_field(db, act, onsite_free_until, archive_signed_form, over, field):
    c = onsite_free_until("awaiting_report")
    archive_signed_form(db, c)
    with pytest.raises(CaseError) as e:
        act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **{**report_form(), **over})
    assert e.value.field == field, str(e.value)
    assert db.get("cases", c["id"])["state"] == "awaiting_report"


def test_report_prefill_from_the_onsite_steps_then_from_the_tablet_form(db, act, onsite_free_until, archive_signed_form):
    c = onsite_free_until("awaiting_report")
    pre = onsite_record.report_prefill(db, c)
    assert pre["arrived_at"] == at("2026-12-01T09:30") and pre["completed_at"] == at("2026-12-02T10:30")
    assert pre["work_done"] == "更换电源模块，全面检测正常" and pre["charge"] == "free"
    assert pre["ratings"] == {} and pre["remarks"] == ""  # ratings come only from the signed form (no quick rating)
    assert pre["source"] is None
    archive_signed_form(db, c)  # a scan has no fields: nothing more to take
    assert onsite_record.report_prefill(db, c)["source"] is None
    fields = {"arrived_at": "2026-12-01 09:40", "completed_at": "2026-12-02 10:20", "fault_found": "输出电压为零",
              "cause": "保护元件损坏", "work_done": "更换电源模块", "charge": "paid", "amount": "1200.00",
              "parts": [{"name": "电源模块", "spec": "DY-12", "qty": 1, "note": ""}],
              "ratings": {"attitude": "satisfied", "skill": "basically", "timeliness": "unsatisfied",
                          "overall": "basically"}, "remarks": "希望更快到达", "customer_signer": "陈工"}
    doc = archive_signed_form(db, c, kind="tablet", fields=fields, reason="平板重签")
    pre = onsite_record.report_prefill(db, c)
    assert pre["arrived_at"] == at("2026-12-01T09:40") and pre["completed_at"] == at("2026-12-02T10:20")
    assert (pre["fault_found"], pre["cause"], pre["work_done"]) == ("输出电压为零", "保护元件损坏", "更换电源模块")
    assert pre["parts"] == [{"part": "电源模块 DY-12", "quantity": 1}]
    assert (pre["charge"], pre["amount"]) == ("paid", 1200.0)
    assert pre["ratings"] == fields["ratings"] and pre["remarks"] == "希望更快到达"
    assert pre["source"] == {"id": doc["id"], "version": 2, "kind": "tablet"}
    # the prefill goes through the report as it is
    data = {k: v for k, v in pre.items() if k != "source"}
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **data, **CONDUCT)  # + the 7.x checklist
    assert c["report"]["service_form"]["ratings"]["timeliness"] == "unsatisfied"
    assert c["report"]["form_version"]["version"] == 2
    assert c["report"]["path"] == "tablet" and c["report"]["differences"] == []  # taken as signed: no difference


# --- Where a case came from: a follow-up call (issue 6) ---------------------------------------


def test_intake_source_is_checked_and_kept(db, new_case):
    with pytest.raises(CaseError) as e:
        new_case(source={"type": "followup", "id": 99})
    assert e.value.field == "source" and "不存在" in str(e.value)
    with pytest.raises(CaseError) as e:
        new_case(source={"type": "email", "id": 1})
    assert e.value.field == "source"
    assert db.count("cases") == 0
    task = db.insert("followups", {"key": "follow_up:1:2026Q4", "kind": "follow_up", "status": "open"}, "t")
    c = new_case(source={"type": "followup", "id": str(task["id"]), "label": "季度电话跟踪（8.1，2026Q4）"})
    assert c["source"] == {"type": "followup", "id": task["id"], "label": "季度电话跟踪（8.1，2026Q4）"}
    assert f"来自跟踪回访 #{task['id']}" in c["timeline"][0]["text"]
    assert new_case()["source"] is None


def test_intake_tx_commits_with_the_callers_transaction_or_not_at_all(world, db, cal, users, new_case):
    with pytest.raises(RuntimeError):
        with db.transaction("receiver") as tx:
            workflow.intake_tx(tx, cal, {"type": "consultation", "customer_id": world.near["id"], "caller_name": "a",
                                      "caller_phone": "1", "description": "d"}, users["receiver"],
                            now=at("2026-11-27T16:00"))
            raise RuntimeError("the caller's own part failed")
    assert db.count("cases") == 0 and db.count(vocab.COUNTERS) == 0
    assert new_case()["number"] == "FW2026-0001"  # no number was used up


def test_recompute_in_an_open_transaction(db, cal, new_case):
    c = new_case()
    shut = cal.with_corrections({"2026-11-30": (False, "停工")})
    assert case_deadlines.plan_recompute(db, shut) == [(c["id"], {"decision": "2026-12-01T16:30:00+08:00"})]
    with pytest.raises(RuntimeError):
        with db.transaction("admin") as tx:
            assert case_deadlines.recompute_open_deadlines_tx(tx, shut) == 1
            raise RuntimeError("the correction failed")
    assert due(db.get("cases", c["id"]), "decision") == "2026-11-30T16:30:00+08:00"  # nothing applied
    with db.transaction("admin") as tx:
        assert case_deadlines.recompute_open_deadlines_tx(tx, shut) == 1
    assert due(db.get("cases", c["id"]), "decision") == "2026-12-01T16:30:00+08:00"
