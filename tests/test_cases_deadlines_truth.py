"""Deadlines that say what is true (issue 12): the 5.1.1.3 arrival cites its real start (5.2.5,
6.2.4), the provisional in-warranty arrival before the decision (shown, never flagged, counted
or fined), 待出发 / 已出发 from the departure time (6.2.5), and 记录返回 before 技质部 agreed
asks a second, confirmed submission (6.2.6). Domain rules as tables; the paths through the real
workflow (tests/fixtures/cases.py)."""
from __future__ import annotations

from datetime import datetime

import pytest

from records import policy
from records.calendar import time_limits
from records.cases import deadlines as case_deadlines
from records.cases import queries
from records.cases.vocab import CaseError
from records.jobs.overdue import run_overdue
from tests.fixtures.calendar import TZ, at


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# --- 5.1.1.3: the basis names where the clock starts --------------------------------------------


@pytest.mark.parametrize("since, km, basis", [
    ("request", 150, "路程 150 公里，接到请求后 24 小时内到达现场"),
    ("confirmation", 820, "路程 820 公里，顾客确认承担费用（5.2.5、6.2.4）后 48 小时内到达现场"),
    ("approval", 1200, "路程 1200 公里，分管副总批准（6.2.4）后 72 小时内到达现场"),
    ("approval", 300.5, "路程 300.5 公里，分管副总批准（6.2.4）后 48 小时内到达现场"),
])
def test_arrival_basis_names_its_start(since, km, basis):
    d = time_limits.dispatch_deadline(sh(2026, 11, 30, 14, 0), km, since)
    assert (d.clause, d.basis) == (policy.DISPATCH.clause, basis)
    assert d.clock_hours_left(d.start) == policy.dispatch_hours(km)  # the hours are always 5.1.1.3's
    assert time_limits.dispatch_basis(km, since) == basis


def test_arrival_basis_refuses_an_unknown_start():
    with pytest.raises(ValueError):
        time_limits.dispatch_deadline(sh(2026, 11, 30, 14, 0), 150, "decision")


@pytest.mark.parametrize("case, since", [
    ({}, "request"),
    ({"customer_response": {"accepted": True}}, "confirmation"),
    ({"customer_response": {"accepted": False}}, "request"),
    ({"customer_response": {"accepted": False}, "vp_approval": {"approved": True}}, "approval"),
    ({"customer_response": {"accepted": False}, "vp_approval": {"approved": False}}, "request"),
])
def test_arrival_since(case, since):
    assert case_deadlines.arrival_since(case) == since


def test_paid_arrival_cites_the_customers_confirmation(act, paid_until):
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "sales", "2026-11-30T15:00", accepted="yes",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    entry = c["deadlines"]["arrival"]
    assert entry["since"] == "confirmation" and entry["start"] == "2026-11-30T14:00:00+08:00"
    assert "顾客确认承担费用（5.2.5、6.2.4）后 48 小时" in entry["basis"] and "接到请求" not in entry["basis"]


def test_paid_in_warranty_arrival_cites_the_vps_approval(act, paid_until):
    c = paid_until("awaiting_customer", serial="IN-FAR", misuse=True)  # 5.1.1.2: paid in warranty
    c = act(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="no",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    c = act(c, "vp_decision", "vp", "2026-11-30T16:00", approved="yes", reason="保障任务需要")
    entry = c["deadlines"]["arrival"]
    assert (entry["since"], entry["start"]) == ("approval", "2026-11-30T16:00:00+08:00")
    assert entry["basis"] == "路程 820 公里，分管副总批准（6.2.4）后 48 小时内到达现场"


def test_a_stored_arrival_without_its_start_is_read_with_the_real_one(cal, act, paid_until):
    c = paid_until("awaiting_customer")
    c = act(c, "customer_response", "sales", "2026-11-30T15:00", accepted="yes",
            responded_at=at("2026-11-30T14:00"), person="陈工")
    old = {k: v for k, v in c["deadlines"]["arrival"].items() if k != "since"}
    old["basis"] = "路程 820 公里，接到请求后 48 小时内到达现场"  # as stored before issue 12
    c = {**c, "deadlines": {**c["deadlines"], "arrival": old}}
    row = case_deadlines.deadline_row(c, "arrival", cal, at("2026-11-30T15:00"))
    assert row["basis"] == "路程 820 公里，顾客确认承担费用（5.2.5、6.2.4）后 48 小时内到达现场"


# --- The provisional in-warranty arrival, from intake to the decision ----------------------------


BASE = {"type": "service_request", "state": "awaiting_decision", "received_at": "2026-11-27T16:00:00+08:00",
        "warranty": {"in_warranty": True}, "decision": None, "deadlines": {}}


@pytest.mark.parametrize("change, km, due", [
    ({}, 150, sh(2026, 11, 28, 16, 0)),
    ({}, 820, sh(2026, 11, 29, 16, 0)),
    ({}, None, sh(2026, 11, 28, 16, 0)),                       # distance unknown: the nearest band
    ({"warranty": {"in_warranty": False}}, 150, None),          # out of warranty: paid, from the confirmation
    ({"warranty": None}, 150, None),                            # 待核实: the warranty is not known yet
    ({"type": "consultation"}, 150, None),
    ({"decision": {"solution": "phone_guidance"}, "state": "awaiting_guidance_result"}, 150, None),
    ({"decision": {"solution": "onsite_paid"}, "state": "quoting"}, 150, None),
    ({"state": "closed"}, 150, None),                           # cancelled before the decision
])
def test_provisional_arrival(change, km, due):
    d = case_deadlines.provisional_arrival({**BASE, **change}, km)
    assert (d.due if d else None) == due
    if d:
        assert d.clause == "5.1.1.3" and "接到请求后" in d.basis


def test_provisional_arrival_is_shown_never_counted_then_becomes_the_deadline(db, cal, new_case, act):
    c = new_case()
    row = case_deadlines.provisional_row(c, 150)
    assert row["status"] == "provisional" and row["basis"].startswith("如需现场服务，5.1.1.3 到达时限 2026-11-28 16:00")
    assert "arrival" not in c["deadlines"]
    late = at("2026-12-01T09:00")  # long after the provisional time
    assert [i.key for i in case_deadlines.overdue_in([c], late)] == ["decision"]
    summary = run_overdue(db, late, send_mail=False)
    assert not [f for f in db.find("overdue_flags") if f.get("key", "").endswith(":arrival")]
    assert summary["fines_proposed"] == 0 and not db.get("cases", c["id"])["fines"]
    # free on-site service: a deadline now, from the receipt (flagged and counted when late)
    c = act(db.get("cases", c["id"]), "decide", "engineer", "2026-11-30T15:00", solution="onsite_free", analysis="a")
    assert case_deadlines.provisional_row(c, 150) is None
    assert c["deadlines"]["arrival"]["due"] == "2026-11-28T16:00:00+08:00"
    assert "arrival" in [i.key for i in case_deadlines.overdue_in([c], late)]


@pytest.mark.parametrize("solution", ["phone_guidance", "onsite_paid"])
def test_provisional_arrival_goes_with_another_decision(new_case, act, solution):
    c = new_case(user="engineer")
    extra = {"guidance": "重新插拔电源"} if solution == "phone_guidance" else {"misuse": True, "misuse_reason": "受潮"}
    c = act(c, "decide", "engineer", "2026-11-27T17:00", solution=solution, analysis="a", **extra)
    assert case_deadlines.provisional_row(c, 150) is None and "arrival" not in c["deadlines"]


# --- 6.2.5: 待出发 until the departure time, then 已出发 -----------------------------------------


@pytest.mark.parametrize("state, departed, now, label", [
    ("on_route", "2026-12-01T08:00:00+08:00", "2026-11-30T17:00", "待出发"),
    ("on_route", "2026-12-01T08:00:00+08:00", "2026-12-01T08:00", "已出发"),  # the time has come
    ("on_route", "2026-12-01T08:00:00+08:00", "2026-12-01T09:00", "已出发"),
    ("on_route", None, "2026-12-01T09:00", "已出发"),
    ("awaiting_dispatch", None, "2026-12-01T09:00", ""),
    ("on_site", "2026-12-01T08:00:00+08:00", "2026-11-30T09:00", ""),
])
def test_departure_label(state, departed, now, label):
    case = {"state": state, "dispatch": {"departed_at": departed} if departed else None}
    assert case_deadlines.departure_label(case, at(now)) == label
    assert case_deadlines.state_label(case, at(now)) == (label or {"awaiting_dispatch": "待派出",
                                                                   "on_site": "现场服务中"}[state])


# --- 6.2.6: 记录返回 before 技质部 agreed is a second, confirmed step ------------------------------


@pytest.mark.parametrize("stop, confirm, refused", [
    ("completed", False, True),
    ("completed", True, False),
    ("return_approved", False, False),  # agreed: nothing to confirm
])
def test_return_before_approval_needs_confirmation(onsite_free_until, act, stop, confirm, refused):
    c = onsite_free_until(stop)
    data = {"returned_at": at("2026-12-02T15:00"), **({"confirm_unapproved": True} if confirm else {})}
    if refused:
        with pytest.raises(CaseError) as e:
            act(c, "record_return", "tech", "2026-12-02T16:00", **data)
        assert e.value.field == "confirm_unapproved"
        assert "未经技质部同意返回" in str(e.value) and "6.2.6" in str(e.value) and "50—500" in str(e.value)
        return
    c = act(c, "record_return", "tech", "2026-12-02T16:00", **data)
    assert c["state"] == "awaiting_report"
    assert [f["clause"] for f in c["fines"]] == (["6.2.6"] if stop == "completed" else [])


# --- The dispatch picker's load: each technician's open cases ------------------------------------


def test_open_cases_by_technician(db, act, onsite_free_until):
    assert queries.open_cases_by_technician(db) == {}
    c = onsite_free_until("on_route")
    assert queries.open_cases_by_technician(db) == {"tech": 1}
    c2 = onsite_free_until("awaiting_dispatch")
    act(c2, "dispatch", "engineer", "2026-11-30T16:00", technicians=["tech", "tech2"], plan="p", precautions="q")
    assert queries.open_cases_by_technician(db) == {"tech": 2, "tech2": 1}
    assert c["state"] == "on_route"
