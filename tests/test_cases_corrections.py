"""Correcting, cancelling (作废), merging (合并) and restoring a case (records.cases.steps.corrections
and .closure): who may and when, what is recomputed, 6.1.4 re-evaluated, deadlines stopped."""
from __future__ import annotations

import pytest

from records.cases import deadlines, flow
from records.cases.vocab import CaseError, NotPermitted, is_live
from records.jobs.overdue import run_overdue
from tests.fixtures.calendar import at

RECORD_ACTIONS = ("correct", "cancel", "merge", "restore")


@pytest.fixture
def stage(new_case, act, onsite_free_until):
    """``stage(name)``: a case at one of the moments the rules tell apart."""
    def make(name):
        if name == "new":
            return new_case()
        if name in ("awaiting_decision", "awaiting_dispatch", "on_route", "on_site"):
            return onsite_free_until(name)
        if name == "cancelled":
            return act(new_case(), "cancel", "engineer", "2026-11-30T09:00", reason="重复登记")
        if name == "merged":
            other = new_case()
            return act(new_case(), "merge", "engineer", "2026-11-30T09:00", target=other["number"], reason="重复")
        raise AssertionError(name)
    return make


@pytest.mark.parametrize("name, who, offered", [
    ("new", "engineer", ["correct", "cancel", "merge"]),
    ("new", "manager", ["correct", "cancel", "merge"]),
    ("new", "receiver", []),
    ("new", "tech", []),
    ("awaiting_decision", "engineer", ["correct", "cancel", "merge"]),
    ("awaiting_dispatch", "engineer", []),                         # decided: 技质部经理 alone
    ("awaiting_dispatch", "manager", ["correct", "cancel", "merge"]),
    ("on_route", "manager", ["correct", "cancel", "merge"]),        # not yet arrived
    ("on_site", "manager", ["correct"]),                            # arrived: no 作废, no 合并
    ("cancelled", "manager", ["restore"]),                          # no correction of a cancelled case
    ("cancelled", "engineer", []),
    ("merged", "manager", []),                                      # a merged case is not restored
])
def test_who_may_keep_the_record_and_when(stage, users, name, who, offered):
    case = stage(name)
    assert [a for a in flow.extra_actions(case, users[who]) if a in RECORD_ACTIONS] == offered


def test_refusals_say_why(stage, act):
    with pytest.raises(NotPermitted):
        act(stage("awaiting_dispatch"), "cancel", "engineer", "2026-12-01T09:00", reason="x")
    with pytest.raises(CaseError, match="技术人员已到达现场"):
        act(stage("on_site"), "cancel", "manager", "2026-12-01T11:00", reason="x")
    with pytest.raises(CaseError, match="请填写作废理由"):
        act(stage("new"), "cancel", "engineer", "2026-11-30T09:00", reason="  ")


# --- Correcting the intake fields ---------------------------------------------------------------


def test_a_correction_records_each_field_before_and_after(db, act, new_case, world):
    c = new_case(serial="IN-FAR")
    c = act(c, "correct", "engineer", "2026-11-30T09:00", product_serial="OUT-001", caller_phone="0312-5550199",
            description="电源控制箱无输出", reason="产品编号记错")
    assert (c["product_serial"], c["caller_phone"]) == ("OUT-001", "0312-5550199")
    assert c["warranty"]["in_warranty"] is False  # recomputed: OUT-001 is out of warranty
    entry = c["timeline"][-1]
    assert entry["kind"] == "correction" and entry["action"] == "correct" and entry["reason"] == "产品编号记错"
    assert [(x["field"], x["before"], x["after"]) for x in entry["changes"]] == [
        ("product_serial", "IN-FAR", "OUT-001"), ("caller_phone", "0312-5550101", "0312-5550199")]
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]


@pytest.mark.parametrize("data, field, message", [
    ({}, None, "没有需要更正的内容"),
    ({"product_serial": "NOPE"}, "product_serial", "没有产品编号为 NOPE 的产品"),
    ({"customer_id": "far"}, "customer_id", "请同时更正顾客单位和产品编号"),
    ({"type": "service_request", "product_serial": ""}, "product_serial", "质量问题须填写产品编号"),
    ({"received_at": "2026-11-27T16:30"}, "received_at", "收到时间不能晚于登记时间"),
    ({"caller_name": ""}, "caller_name", "请填写来电人姓名"),
])
def test_bad_corrections_are_refused_at_their_field(db, act, new_case, world, data, field, message):
    c = new_case()
    if data.get("customer_id") == "far":
        data = {"customer_id": world.far["id"]}
    with pytest.raises(CaseError, match=message) as err:
        act(c, "correct", "engineer", "2026-11-30T09:00", reason="登记错误", **data)
    assert err.value.field == field
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]  # nothing half-written


@pytest.mark.parametrize("field, value, ok", [
    ("caller_name", "王干事", True),
    ("caller_phone", "0312-5550199", True),
    ("description", "电源控制箱间歇无输出", True),
    ("channel", "letter", False),
    ("received_at", "2026-11-27T15:00", False),
    ("type", "consultation", False),
    ("product_serial", "IN-001", None),  # unchanged: not a correction at all
])
def test_after_the_decision_the_manager_corrects_caller_phone_and_description_only(stage, act, field, value, ok):
    c = stage("awaiting_dispatch")
    data = {field: value, "reason": "电话记错"}
    if ok:
        c = act(c, "correct", "manager", "2026-12-01T09:00", **data)
        assert c[field] == value
    else:
        with pytest.raises(CaseError, match="没有需要更正的内容" if ok is None else "作废"):
            act(c, "correct", "manager", "2026-12-01T09:00", **data)


def test_a_type_change_before_any_reply_or_decision_swaps_deadline_and_state(stage, act, new_case):
    c = stage("awaiting_decision")  # handed over Mon 09:00
    c = act(c, "correct", "engineer", "2026-11-30T10:00", type="consultation", reason="是咨询")
    assert (c["type"], c["state"]) == ("consultation", "awaiting_reply")
    assert "decision" not in c["deadlines"] and c["deadlines"]["consult_reply"]["start"] == c["received_at"]
    c = act(c, "correct", "engineer", "2026-11-30T10:05", type="service_request", reason="又是故障")
    assert c["state"] == "awaiting_decision" and "consult_reply" not in c["deadlines"]
    assert c["deadlines"]["decision"]["start"] == c["tq_received_at"]
    answered = act(new_case(kind="consultation", serial=""), "reply", "engineer", "2026-11-30T09:30",
                   answer="按说明书第 5 章操作")
    with pytest.raises(CaseError, match="不能更改类型") as err:
        act(answered, "correct", "manager", "2026-11-30T10:00", type="service_request", reason="x")
    assert err.value.field == "type"


def test_a_new_call_time_moves_the_deadlines_counted_from_it(db, act, new_case, cal):
    c = new_case(user="engineer")  # 技质部 took the call: no 6.1.3 deadline, 6.2.2 from the call itself
    c = act(c, "correct", "engineer", "2026-11-30T09:00", received_at=at("2026-11-27T14:00"), reason="时间记错")
    assert c["received_at"] == c["tq_received_at"] == "2026-11-27T14:00:00+08:00"
    assert "handover" not in c["deadlines"]
    assert c["deadlines"]["decision"]["start"] == c["received_at"]
    assert c["deadlines"]["decision"]["due"] == "2026-11-30T14:30:00+08:00"
    # a receiver's call: 6.1.3 runs from the call, met at the recording; 6.2.2 from the recording
    r = new_case()  # received and recorded Fri 16:00
    r = act(r, "correct", "engineer", "2026-11-30T09:00", received_at=at("2026-11-27T14:00"), reason="时间记错")
    assert r["deadlines"]["handover"]["start"] == "2026-11-27T14:00:00+08:00"
    assert r["deadlines"]["handover"]["due"] == "2026-11-30T09:00:00+08:00"
    assert r["deadlines"]["handover"]["done_at"] == "2026-11-27T16:00:00+08:00"  # the recording stays
    assert r["deadlines"]["decision"]["start"] == "2026-11-27T16:00:00+08:00"


# --- 6.1.4 re-evaluated when the call time moves ----------------------------------------------------


@pytest.fixture
def late_handover(new_case, act):
    """Received Thu 26 Nov 09:00 (due 14:30), recorded (so handed over, 6.1.3) Fri 16:05: a 6.1.4 proposal."""
    return new_case(received_at=at("2026-11-26T09:00"), now="2026-11-27T16:05")


def test_an_earlier_call_time_adds_the_6_1_4_proposal(new_case, act):
    c = new_case()  # received and recorded Fri 16:00: on time
    assert c["fines"] == []
    c = act(c, "correct", "engineer", "2026-11-30T10:00", received_at=at("2026-11-26T10:00"), reason="前一天来电")
    [f] = c["fines"]
    assert (f["key"], f["clause"], f["person"], f["status"]) == ("handover", "6.1.4", "receiver", "proposed")
    assert "已提出 6.1.4 处罚建议" in c["timeline"][-1]["fines"]


def test_a_later_call_time_withdraws_an_unruled_proposal(late_handover, act, db):
    assert [f["status"] for f in late_handover["fines"]] == ["proposed"]
    c = act(late_handover, "correct", "engineer", "2026-11-30T09:00", received_at=at("2026-11-27T15:00"),
            reason="来电时间记错")
    assert c["fines"] == [] and "已撤回" in c["timeline"][-1]["fines"]
    assert [n for n in db.find("notifications") if n["kind"] == "fine_review"] == []


def test_a_ruled_proposal_stays_and_the_manager_is_told(late_handover, act, db):
    c = act(late_handover, "rule_fine", "manager", "2026-11-30T08:40", key="handover", decision="confirmed",
            reason="属实")
    c = act(c, "correct", "engineer", "2026-11-30T09:00", received_at=at("2026-11-27T15:00"), reason="来电时间记错")
    assert [f["status"] for f in c["fines"]] == ["confirmed"]
    [notice] = [n for n in db.find("notifications") if n["kind"] == "fine_review"]  # the steps' own notices aside
    assert notice["recipient"] == "manager" and notice["kind"] == "fine_review" and "6.1.4" in notice["subject"]
    assert notice["link"] == f"/cases/{c['id']}"


# --- 作废, 合并, restore ----------------------------------------------------------------------------


def test_cancel_stops_deadlines_keeps_unruled_proposals_and_restore_brings_it_back(late_handover, act, db, new_case):
    twin = new_case()  # a live case as late as the cancelled one, for the overdue run
    c = act(late_handover, "decide", "engineer", "2026-11-27T16:10", solution="onsite_free", analysis="电源模块损坏")
    c = act(c, "cancel", "manager", "2026-11-30T09:00", reason="顾客撤回")
    assert (c["state"], c["outcome"], c["cancellation"]["state"]) == ("closed", "cancelled", "awaiting_dispatch")
    assert not is_live(c) and deadlines.open_deadlines(c) == []
    assert [f["key"] for f in c["fines"] if f["status"] == "proposed"] == ["handover"]  # still to be ruled
    assert "rule_fine" in flow.allowed_actions(c, {"username": "manager", "roles": ["tq_manager"]})
    late = at("2026-12-10T09:00")  # the arrival (5.1.1.3) long past due
    summary = run_overdue(db, late, dry_run=True, send_mail=False)
    assert {f["case_id"] for f in summary["flagged"]} == {twin["id"]}
    assert c["id"] not in {f["case_id"] for f in summary["fines"]}  # (the run proposes only 6.2.8 now)
    c = act(c, "restore", "manager", "2026-11-30T10:00", reason="误作废")
    assert (c["state"], c["outcome"], c["cancellation"]) == ("awaiting_dispatch", None, None)
    assert is_live(c) and [k for k, _ in deadlines.open_deadlines(c)] == ["arrival"]
    assert [t.get("kind", "step") for t in c["timeline"]][-2:] == ["cancel", "restore"]


def test_merge_links_both_cases(act, new_case, db):
    target, dup = new_case(), new_case(caller_name="王干事")
    dup = act(dup, "merge", "engineer", "2026-11-30T09:00", target=target["number"].lower(), reason="同一故障重复来电")
    assert (dup["state"], dup["outcome"]) == ("closed", "merged")
    assert dup["merged_into"] == {"id": target["id"], "number": target["number"]}
    target = db.get("cases", target["id"])
    assert [m["id"] for m in target["merged_from"]] == [dup["id"]] and is_live(target)
    assert target["timeline"][-1]["kind"] == "merged_in" and dup["number"] in target["timeline"][-1]["text"]
    with pytest.raises(CaseError, match="已作废或已合并") as err:
        act(new_case(), "merge", "engineer", "2026-11-30T09:10", target=dup["number"], reason="x")
    assert err.value.field == "target"


@pytest.mark.parametrize("target, message", [("FW2099-9999", "没有编号为 FW2099-9999 的案例"),
                                             ("self", "不能合并到本案例自身")])
def test_merge_refuses_an_unknown_or_the_same_case(act, new_case, target, message):
    c = new_case()
    with pytest.raises(CaseError, match=message):
        act(c, "merge", "engineer", "2026-11-30T09:00", target=c["number"] if target == "self" else target, reason="x")


@pytest.mark.parametrize("outcome, live", [(None, True), ("answered", True), ("completed", True),
                                           ("cancelled", False), ("merged", False)])
def test_is_live(outcome, live):
    assert is_live({"state": "closed" if outcome else "awaiting_decision", "outcome": outcome}) is live
