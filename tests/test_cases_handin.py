"""The 6.2.7 hand-in (GLOSSARY): the report counts as handed in — 6.2.7 met, 6.2.8's clock started —
only when the written report, the expense claim, the returned materials (received by 技质部) and,
for a paid service, the money and receipts are all in. Until then the technician's 6.2.7 deadline
runs, never 技质部's 6.2.8. Domain only (records.cases.steps.handin through the real workflow)."""
from __future__ import annotations

import pytest

from records.cases import deadlines as case_deadlines
from records.cases.steps import handin
from records.cases.vocab import NOT_HANDED_IN, CaseError, NotPermitted
from records.materials import parts, stock
from tests.fixtures.calendar import at
from tests.fixtures.service_forms import report_form

REPORTED = "2026-12-03T10:00"  # Thursday; the 6.2.7 deadline (return Wed 2 Dec) is Mon 7 Dec 17:30
RECEIVED = {"report_at": "2026-12-03T10:00", "receipt_no": "SK-0001", "amount_collected": 3500.0, "expenses": []}
PAID = {"decision": {"solution": "onsite_paid"}, "customer_response": {"accepted": True}}
VP_PAID = {"decision": {"solution": "onsite_paid"}, "customer_response": {"accepted": False},
           "vp_approval": {"approved": True}}


def line(received: bool = False, condition: str = "damaged") -> dict:
    return {"part": "电源模块", "quantity": 1, "condition": condition,
            "received_at": "2026-12-03T11:00:00+08:00" if received else None}


@pytest.mark.parametrize("case, missing", [
    ({}, ["report", "expenses"]),
    ({"report": {"text": "已修复"}}, ["expenses"]),
    ({"report": {"expenses": []}}, []),  # free, nothing brought back: handed in at the report
    ({"report": {"expenses": []}, "returned_materials": [line()]}, ["materials"]),
    ({"report": {"expenses": []}, "returned_materials": [line(True), line(False, "unused")]}, ["materials"]),
    ({"report": {"expenses": []}, "returned_materials": [line(True), line(True, "unused")]}, []),
    ({**PAID, "report": {"expenses": []}}, ["money"]),  # a fee collected on site: receipt and money
    ({**PAID, "report": {"expenses": [], "receipt_no": "SK-0001"}}, ["money"]),
    ({**PAID, "report": RECEIVED}, []),
    ({**PAID, "report": RECEIVED, "returned_materials": [line()]}, ["materials"]),
    ({**VP_PAID, "report": {"expenses": []}}, []),  # approved by the VP after a refusal: nothing collected
])
def test_the_hand_in_rule(case, missing):
    assert handin.missing(case) == missing
    assert handin.handed_in(case) == (not missing)


@pytest.fixture
def reported(onsite_free_until, act, db, archive_signed_form):
    """``reported(materials, **over)``: the free on-site case reported on Thursday 10:00 with
    ``materials`` brought back and no expenses."""
    def make(materials, **over):
        c = onsite_free_until("awaiting_report")
        archive_signed_form(db, c)
        return act(c, "report", "tech", REPORTED, text="已修复", **report_form(**over), expenses=[],
                   returned_materials=materials)
    return make


DAMAGED = [{"part": "电源模块", "quantity": "1", "condition": "damaged"}]
UNUSED = [{"part": "保险管", "quantity": "2", "condition": "unused", "code": "F-10A"}]


@pytest.mark.parametrize("materials, received, report_done, report_status, confirm_due", [
    # nothing to return: handed in at the report itself (6.2.8 from the report: Fri…Thu 10 Dec)
    ([], None, REPORTED, "met", "2026-12-10T17:30"),
    # a faulty part not yet received: 6.2.7 still runs (overdue after Mon 17:30), 6.2.8 not started
    (DAMAGED, None, None, "overdue", None),
    # received Friday 09:00: 6.2.7 met then, 6.2.8 from then (Mon…Fri 11 Dec)
    (DAMAGED, "2026-12-04T09:00", "2026-12-04T09:00", "met", "2026-12-11T17:30"),
    # received Tuesday after the 6.2.7 deadline: the technician's report is late, 6.2.8 from Tuesday
    (DAMAGED + UNUSED, "2026-12-08T09:00", "2026-12-08T09:00", "met_late", "2026-12-15T17:30"),
    # handed over at the return, before the report: handed in at the report
    (UNUSED, "2026-12-02T16:00", REPORTED, "met", "2026-12-10T17:30"),
])
def test_both_clocks(reported, act, world, cal, users, materials, received, report_done, report_status, confirm_due):
    c = reported(materials)
    if received:
        with world.store.transaction("engineer") as tx:
            c = handin.receive_tx(tx, cal, c["id"], users["engineer"], {"received_at": at(received)},
                                  at(max(received, REPORTED)))
    report = c["deadlines"]["report"]
    assert report["done_at"] == (at(report_done).isoformat() if report_done else None)
    assert case_deadlines.deadline_status(report, cal, at("2026-12-15T12:00")) == report_status
    assert case_deadlines.responsible(c, "report") == "tech"  # what waits on the technician runs their clock
    if confirm_due is None:
        assert "confirm" not in c["deadlines"] and not handin.handed_in(c)
        assert handin.missing_text(c) == "返回物料（技质部接收）"
        with pytest.raises(CaseError, match="书面汇报尚未交齐"):
            act(c, "confirm", "engineer", "2026-12-08T10:00", quality="好", lines=[])
    else:
        assert c["deadlines"]["confirm"]["due"] == at(confirm_due).isoformat()
        assert c["handin"]["at"] == c["deadlines"]["confirm"]["start"] == report["done_at"]
        assert c["state"] == "awaiting_confirmation"


def test_receiving_routes_each_line_and_refuses_what_it_must(reported, world, cal, users):
    c = reported(DAMAGED + UNUSED)
    assert [m["part_code"] for m in c["returned_materials"]] == [None, "F-10A"]
    assert "待交齐：返回物料（技质部接收）" in c["timeline"][-1]["text"]
    with world.store.transaction("tech") as tx, pytest.raises(NotPermitted):
        handin.receive_tx(tx, cal, c["id"], users["tech"], {}, at("2026-12-03T11:00"))
    with world.store.transaction("engineer") as tx, pytest.raises(CaseError) as bad:
        handin.receive_tx(tx, cal, c["id"], users["engineer"], {"received_at": at("2026-12-02T14:00")},
                          at("2026-12-03T11:00"))
    assert bad.value.field == "received_at"  # not before the return (Wed 15:00)
    with world.store.transaction("engineer") as tx:
        c = handin.receive_tx(tx, cal, c["id"], users["engineer"], {"notes": ["外壳烧蚀", "包装完好"]},
                              at("2026-12-03T11:00"))
    faulty, unused = c["returned_materials"]
    assert (faulty["outcome"], faulty["note"], unused["outcome"], unused["note"]) == (
        "inspection", "外壳烧蚀", "restocked", "包装完好")
    assert faulty["inspection_id"] and unused["inspection_id"] is None
    assert c["timeline"][-1]["action"] == "receive_materials" and "6.2.8 确认时限起算" in c["timeline"][-1]["text"]
    assert world.store.history("cases", c["id"])[-1]["action"] == "receive_materials"  # audited
    with world.store.transaction("engineer") as tx, pytest.raises(CaseError, match="没有待接收"):
        handin.receive_tx(tx, cal, c["id"], users["engineer"], {}, at("2026-12-03T11:30"))


def test_the_guard_names_the_hand_in():
    assert "6.2.8" in NOT_HANDED_IN and "返回物料" in NOT_HANDED_IN


@pytest.mark.parametrize("in_kit, discrepancy", [(1, False), (0, True)], ids=["issued to the kit", "not in the kit"])
def test_parts_used_with_a_kit_code_post_at_the_confirmation(reported, act, db, in_kit, discrepancy):
    with db.transaction("engineer") as tx:  # the part in the catalogue and the store; issued at dispatch or not
        parts.insert_tx(tx, {"code": "PM-24V", "name": "电源模块", "unit": "件", "source": "bought_in"})
        stock.receipt_tx(tx, "PM-24V", 2, "engineer")
        if in_kit:
            stock.issue_tx(tx, "PM-24V", in_kit, "tech", "engineer")
    c = reported([], parts=[{"part": "电源模块", "quantity": "1", "code": "PM-24V"}, {"part": "扎带", "quantity": "5"}])
    assert handin.used_parts(c) == [{"part_code": "PM-24V", "qty": 1}]  # a free-text part has no stock
    c = act(c, "confirm", "engineer", "2026-12-04T10:00", quality="好", lines=[])
    assert c["state"] == "closed" and ("库存差异" in c["timeline"][-1]["text"]) == discrepancy
    assert stock.consumed(db, c["id"]) == ([{"part_code": "PM-24V", "qty": 1}] if in_kit else [])
    assert stock.balance(db, stock.kit_of("tech"), "PM-24V") == 0  # never negative: the shortfall is a 库存差异
