"""The penalty register (records/fines/register.py), pure: rows, months, filters and totals against
hand-counted data; issued months frozen and the correction lines of later rulings."""
from __future__ import annotations

import pytest

from records.fines import register
from records.fines.register import Person

WHO = {"tech": Person("赵师傅", "生产部"), "tech2": Person("钱师傅", "生产部"), "receiver": Person("张杰", "销售部")}


def fine(key, person, status="proposed", amount=50, final=None, decided_at=None, gm_at=None, clause="6.1.4",
         rng=None):
    return {"key": key, "clause": clause, "basis": "b", "person": person, "amount": amount, "range": rng,
            "status": status, "proposed_at": "2026-10-01T09:00:00+08:00", "final_amount": final,
            "decided_by": "manager" if decided_at else None, "decided_at": decided_at, "reason": "r",
            "gm_by": "gm" if gm_at else None, "gm_at": gm_at, "gm_reason": "g" if gm_at else ""}


OCT, NOV, DEC = "2026-10-15T10:00:00+08:00", "2026-11-20T10:00:00+08:00", "2026-12-03T10:00:00+08:00"
# Hand-counted: tech: Oct 50 (6.1.4) + 0 (waived); Nov 300 (6.2.9, GM over a 50—500 proposal) + 50 (6.2.8);
# tech2: Nov 50 (6.2.8), one pending; receiver: Dec 100 (6.1.5 × 2).
CASES = [
    {"id": 1, "number": "FW2026-0001", "fines": [
        fine("handover", "tech", "confirmed", final=50, decided_at=OCT),
        fine("return_unapproved", "tech", "waived", amount=50, final=0, decided_at=OCT, clause="6.2.6")]},
    {"id": 2, "number": "FW2026-0002", "fines": [
        fine("falsified_form:1", "tech", "gm_ruled", amount=None, rng=[50, 500], final=300, decided_at=OCT,
             gm_at=NOV, clause="6.2.9"),
        fine("confirm_late", "tech", "confirmed", final=50, decided_at=NOV, clause="6.2.8")]},
    {"id": 3, "number": "FW2026-0003", "fines": [
        fine("confirm_late", "tech2", "confirmed", final=50, decided_at=NOV, clause="6.2.8"),
        fine("handover", "tech2")]},
    {"id": 4, "number": "FW2026-0004", "fines": [
        fine("record_unclear:1", "receiver", "confirmed", amount=100, final=100, decided_at=DEC, clause="6.1.5")]},
    {"id": 5, "number": "FW2026-0005"},
]


def rows(issued=None, cases=CASES):
    return register.build(cases, issued or {}, WHO)


def test_every_fine_is_a_row_with_its_month_and_amounts():
    got = {(r["case_id"], r["key"]): r for r in rows()}
    assert len(got) == 7
    assert [(got[k]["month"], got[k]["amount"]) for k in sorted(got)] == [
        ("2026-10", 50), ("2026-10", 0), ("2026-11", 50), ("2026-11", 300), ("2026-11", 50), ("", None),
        ("2026-12", 100)]
    gm = got[(2, "falsified_form:1")]  # the month of the last ruling: the GM's, in November
    assert (gm["proposed"], gm["gm_amount"], gm["confirmed"], gm["status_label"]) == ("50—500", 300, None, "总经理裁定")
    waived = got[(1, "return_unapproved")]
    assert (waived["waived"], waived["confirmed"], waived["amount"]) == (50, None, 0)
    assert (got[(1, "handover")]["person_name"], got[(1, "handover")]["department"]) == ("赵师傅", "生产部")


@pytest.mark.parametrize("filters, expected", [
    ({}, 7),
    ({"person": "tech"}, 4),
    ({"persons": ["tech", "tech2"]}, 6),  # the department 生产部
    ({"month": "2026-11"}, 3),
    ({"month": "2026"}, 6),  # the pending one belongs to no month
    ({"clause": "6.2.8"}, 2),
    ({"status": "proposed"}, 1),
    ({"status": "confirmed", "month": "2026-11"}, 2),
    ({"person": "tech", "month": "2026-10", "status": "waived"}, 1),
    ({"status": "correction"}, 0),
])
def test_filters(filters, expected):
    assert len(register.select(rows(), **filters)) == expected


def test_totals_per_person_per_month_and_year_hand_counted():
    t = register.totals(rows())
    assert {k: (v.count, v.amount) for k, v in t["months"].items()} == {
        ("receiver", "2026-12"): (1, 100), ("tech", "2026-10"): (2, 50), ("tech", "2026-11"): (2, 350),
        ("tech2", "2026-11"): (1, 50)}
    assert {k: (v.count, v.amount) for k, v in t["years"].items()} == {
        ("receiver", "2026"): (1, 100), ("tech", "2026"): (4, 400), ("tech2", "2026"): (1, 50)}
    # a total's rows are the rows of the same filter (the page links one to the other)
    assert sum(r["amount"] for r in register.select(rows(), person="tech", month="2026")) == 400


def issued_month(month, all_rows):
    """What records.fines.months.issue stores: the month's open lines, frozen."""
    return {"month": month, "lines": [r for r in register.month_lines(all_rows, month) if not r["frozen"]]}


def test_an_issued_month_is_frozen_and_a_later_ruling_is_a_correction_in_the_next_open_month():
    nov = issued_month("2026-11", rows())
    assert sum(r["amount"] for r in nov["lines"]) == 400
    # After November was issued: the GM rules again on the 300 line (200), and on the pending one (20),
    # both in November (the month is issued: they go to December); a tech 6.2.8 line is ruled again at 50.
    later = [dict(c, fines=[dict(f) for f in c.get("fines") or []]) for c in CASES]
    later[1]["fines"][0].update(final_amount=200, gm_at="2026-11-30T16:00:00+08:00")
    later[2]["fines"][1].update(status="gm_ruled", final_amount=20, gm_at="2026-11-30T16:00:00+08:00", gm_by="gm")
    later[1]["fines"][1].update(status="gm_ruled", gm_at=DEC)
    got = rows({"2026-11": nov}, later)
    by_month = {}
    for r in got:
        by_month.setdefault(r["month"], []).append((r["case_id"], r["key"], r["kind"], r["amount"], r["frozen"]))
    assert sorted(by_month["2026-11"]) == [(2, "confirm_late", "line", 50, True),
                                           (2, "falsified_form:1", "line", 300, True),
                                           (3, "confirm_late", "line", 50, True)]
    assert sorted(by_month["2026-12"]) == [(2, "falsified_form:1", "correction", -100, False),
                                           (3, "handover", "line", 20, False),
                                           (4, "record_unclear:1", "line", 100, False)]
    assert "" not in by_month  # nothing waits any more
    t = register.totals(got)["months"]
    assert (t[("tech", "2026-11")].amount, t[("tech", "2026-12")].amount) == (350, -100)
    # December issued too: the correction is frozen; a ruling after that lands in January
    dec = issued_month("2026-12", got)
    later[1]["fines"][0].update(final_amount=0, gm_at="2026-12-20T10:00:00+08:00")
    again = rows({"2026-11": nov, "2026-12": dec}, later)
    assert [(r["month"], r["amount"]) for r in again if r["kind"] == "correction" and not r["frozen"]] == [
        ("2027-01", -200)]
    assert [r["amount"] for r in again if r["key"] == "falsified_form:1"] == [300, -100, -200]


@pytest.mark.parametrize("month, issued, expected", [
    ("2026-11", set(), "2026-11"),
    ("2026-11", {"2026-11"}, "2026-12"),
    ("2026-12", {"2026-12", "2027-01"}, "2027-02"),
])
def test_first_open_month(month, issued, expected):
    assert register.first_open(month, dict.fromkeys(issued, {})) == expected


def test_the_month_summary_hand_counted():
    """The page 处罚按月发放: each month with lines, issued or current, newest first (register.month_summary)."""
    issued = {"2026-10": {"month": "2026-10", "lines": []}}
    got = {m["month"]: m for m in register.month_summary(rows(), issued, "2026-12")}
    assert list(got) == ["2026-12", "2026-11", "2026-10"]
    assert [(m["count"], m["total"], m["may_issue"]) for m in got.values()] == [
        (1, 100, True), (3, 400, True), (2, 50, False)]  # October issued: no second issue
    assert not register.month_summary(rows(), {}, "2026-11")[0]["may_issue"]  # December not begun yet
