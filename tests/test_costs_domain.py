"""9.4 by hand: the cost of a case (audited expenses, parts at catalogue cost with one part
without a cost flagged, labour across a labour-rate change, a paid service's revenue), the rate
in force at a date (table), the quarter of the confirmation, cancelled cases never counting, the
five items with entries, a supplier recovery deducted, the totals and the loss rate."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial

import pytest

from records.calendar.workdays import WorkCalendar, parse_local
from records.reports import case_costs as cc
from records.reports import failure_costs as fc

D = Decimal
# 公司参数 labour_rate: 200 元 from 2026-06-01, 300 元 from Tue 2026-12-01 (set 2026-11-30 20:00 UTC = 12-01 04:00 local)
HISTORY = [{"at": "2026-05-31T16:30:00.000+00:00", "before": None, "after": 200},
           {"at": "2026-11-30T20:00:00.000+00:00", "before": 200, "after": 300}]
SCHEDULE = cc.schedule_from(HISTORY, 0)
COSTS = {"P-001": 1200, "P-002": None}  # 保险丝 has no cost in the catalogue
NAMES = {"电源模块": "P-001", "保险丝": "P-002"}
fc_cal = WorkCalendar.default()


def stamp(s: str) -> str:
    return s + ":00+08:00"


def onsite(case_id, number, confirmed, *, outcome="completed", techs=("tech", "tech2"), solution="onsite_free",
           departed="2026-11-30T13:30", returned="2026-12-02T12:00", customer=1, product=1, cause=None, **extra):
    lines = [{"category": "transport", "claimed": 800.0, "approved": 800.0},
             {"category": "lodging", "claimed": 300.0, "approved": 250.0},
             {"category": "entertainment", "claimed": 200.0, "approved": 0.0}]
    return {"id": case_id, "number": number, "customer_id": customer, "product_id": product, "outcome": outcome,
            "state": "closed", "decision": {"solution": solution},
            "classification": {"cause_category": cause} if cause else None,
            "dispatch": {"technicians": list(techs), "departed_at": stamp(departed)},
            "onsite": {"returned_at": stamp(returned)},
            "report": {"service_form": {"parts": [{"part": "电源模块", "quantity": 2},
                                                  {"part": "保 险丝", "quantity": 3}]}},
            "audit": {"confirmed_at": stamp(confirmed), "lines": lines}, **extra}


@pytest.mark.parametrize("day, rate", [
    (date(2026, 5, 31), D(0)), (date(2026, 6, 1), D(200)), (date(2026, 11, 30), D(200)),
    (date(2026, 12, 1), D(300)), (date(2027, 3, 1), D(300)),
])
def test_the_labour_rate_in_force_at_a_date(day, rate):
    assert cc.rate_at(SCHEDULE, day) == rate


@pytest.mark.parametrize("history, default, expected", [
    ([], 0, ((date.min, D(0)),)),
    ([{"at": "2026-03-02T01:00:00.000+00:00", "before": 150, "after": 180}], 0,
     ((date.min, D(150)), (date(2026, 3, 2), D(180)))),
    ([{"at": "2026-03-02T01:00:00.000+00:00", "before": None, "after": 180},   # twice the same day: the last
      {"at": "2026-03-02T08:00:00.000+00:00", "before": 180, "after": 190}], 50,
     ((date.min, D(50)), (date(2026, 3, 2), D(190)))),
])
def test_the_schedule_from_the_parameter_history(history, default, expected):
    assert cc.schedule_from(history, default) == expected


@pytest.mark.parametrize("start, end, days", [
    ("2026-11-30T13:30", "2026-12-02T12:00", [(date(2026, 11, 30), D(4) / D("7.5")), (date(2026, 12, 1), D(1)),
                                              (date(2026, 12, 2), D("3.5") / D("7.5"))]),
    ("2026-12-04T16:00", "2026-12-07T09:00", [(date(2026, 12, 4), D("1.5") / D("7.5")),  # Fri → Mon, weekend off
                                              (date(2026, 12, 7), D("0.5") / D("7.5"))]),
    ("2026-12-05T09:00", "2026-12-05T17:00", []),  # a Saturday
])
def test_a_part_day_counts_as_its_fraction_of_the_working_day(cal, start, end, days):
    assert cc.day_fractions(cal, parse_local(stamp(start)), parse_local(stamp(end))) == days


def test_the_cost_of_a_case_by_hand(cal):
    c = cc.case_cost(onsite(1, "FW1", "2026-12-03T10:00"), cal, SCHEDULE, COSTS, NAMES)
    assert c.kind == cc.FREE and c.audited
    assert c.expenses == (("transport", D("800.00")), ("lodging", D("250.00")), ("entertainment", D("0.00")))
    assert c.expenses_total == D("1050.00")
    assert [(p.code, p.unit_cost, p.amount) for p in c.parts] == [("P-001", D("1200.00"), D("2400.00")),
                                                                   ("P-002", None, D("0.00"))]
    assert c.missing == ("保 险丝",)  # no cost: counts 0, flagged
    # Mon 4/7.5 day at 200, Tue a whole day at 300, Wed 3.5/7.5 day at 300; two technicians
    assert [d.rate for d in c.labour_days] == [D(200), D(300), D(300)]
    assert c.working_days == D("2.000") and c.labour == D("1093.33")  # (106.67 + 300 + 140) × 2
    assert c.total == D("4543.33") and c.revenue == D("0.00") and c.net == c.total


def test_parts_by_code_and_a_paid_services_revenue(cal):
    case = onsite(2, "FW2", "2026-12-03T10:00", solution="onsite_paid", customer_response={"accepted": True},
                  quote={"service_fee": 2000, "parts": [{"part": "主板", "quantity": 1, "unit_price": 3500}],
                         "total": 5500.0})
    c = cc.case_cost(case, cal, SCHEDULE, COSTS, NAMES, used=[{"part_code": "P-001", "qty": 1}])
    assert c.kind == cc.PAID and c.parts_total == D("1200.00") and not c.missing
    assert c.revenue == D("5500.00") and c.net == D("1050.00") + D("1200.00") + D("1093.33") - D("5500.00")
    vp = dict(case, customer_response={"accepted": False}, vp_approval={"approved": True})
    assert cc.kind_of(vp) == cc.FREE_APPROVED and cc.revenue(vp) == D("0.00")


@pytest.mark.parametrize("confirmed, outcome, q4, q1", [
    ("2026-12-31T17:00", "completed", True, False),
    ("2027-01-04T09:00", "completed", False, True),  # received in Q4, confirmed in Q1: counts in Q1
    ("2026-12-03T10:00", "cancelled", False, False),
    ("2026-12-03T10:00", "merged", False, False),
])
def test_a_cost_counts_in_the_quarter_of_its_confirmation(confirmed, outcome, q4, q1):
    case = onsite(1, "FW1", confirmed, outcome=outcome)
    assert cc.counts_in(case, date(2026, 10, 1), date(2026, 12, 31)) is q4
    assert cc.counts_in(case, date(2027, 1, 1), date(2027, 3, 31)) is q1
    assert not cc.counts_in({"outcome": "completed", "audit": None}, date(2026, 1, 1), date(2026, 12, 31))


def quarter(label="2026Q4", output="1000000", recoveries=({"case_id": 1, "amount": D("1500"), "date": "2026-12-20"},)):
    cases = [onsite(1, "FW1", "2026-12-03T10:00", cause="bought_in"),
             onsite(2, "FW2", "2027-01-04T09:00", product=2),  # next quarter
             onsite(3, "FW3", "2026-12-03T10:00", outcome="cancelled"),  # never
             onsite(4, "FW4", "2026-12-10T10:00", solution="onsite_paid", customer_response={"accepted": True},
                    quote={"total": 5500.0}),
             onsite(5, "FW5", "2026-12-11T10:00", solution="onsite_paid", customer_response={"accepted": False},
                    vp_approval={"approved": True})]
    entries = [{"id": 1, "item": "claims", "amount": 10000.0, "quarter": "2026Q4", "case_id": 1, "customer_id": 1},
               {"id": 2, "item": "price_cuts", "amount": 3000.0, "quarter": "2026Q4", "case_id": None,
                "customer_id": 2},
               {"id": 3, "item": "returns", "amount": 2000.0, "quarter": "2026Q4", "case_id": 1,
                "reversed": {"reason": "重复录入"}},
               {"id": 4, "item": "litigation", "amount": 900.0, "quarter": "2026Q3", "case_id": 1}]
    cost = partial(cc.case_cost, cal=fc_cal, schedule=SCHEDULE, costs=COSTS, names=NAMES)
    return fc.quarter_costs(label, cases, cost, entries, list(recoveries), output,
                            {1: {"model": "JX-200"}, 2: {"model": "TX-9"}}, {1: "近处单位", 2: "远处单位"},
                            {"bought_in": "外购件"})


def test_the_five_items_with_entries_and_a_recovery_deducted():
    q = quarter()
    assert dict(q.items) == {"claims": D("10000.00"), "returns": D("0.00"), "warranty": D("4543.33"),
                             "litigation": D("0.00"), "price_cuts": D("3000.00")}  # reversed / other quarter out
    assert [c.number for c in q.free] == ["FW1"] and [c.number for c in q.paid] == ["FW4"]
    assert [c.number for c in q.free_approved] == ["FW5"]
    assert q.gross == D("17543.33") and q.recoveries == D("1500.00") and q.total == D("16043.33")
    assert q.missing == (("FW1", "保 险丝"), ("FW5", "保 险丝"), ("FW4", "保 险丝"))
    assert q.totals_by("model") == (("JX-200", D("13043.33")), (fc.UNLINKED, D("3000.00")))
    assert q.totals_by("cause") == (("外购件", D("13043.33")), (fc.UNLINKED, D("3000.00")))
    assert q.totals_by("customer") == (("近处单位", D("13043.33")), ("远处单位", D("3000.00")))
    assert f"{q.loss_rate:.6f}" == "0.016043" and fc.percent(q.loss_rate) == "1.60%"


def test_the_next_quarter_and_no_output_value():
    q = quarter("2027Q1", output=None, recoveries=())
    assert dict(q.items)["warranty"] == D("4543.33") and q.totals_by("cause") == ((fc.UNCLASSIFIED, D("4543.33")),)
    assert q.totals_by("model") == (("TX-9", D("4543.33")),)
    assert q.loss_rate is None and "尚未录入" in fc.percent(None)
    sections = fc.sections(q)
    assert [s.key for s in sections] == ["failure_costs", "external_loss_rate", "failure_costs_apart",
                                         "failure_costs_by_model", "failure_costs_by_cause", "failure_costs_by_customer"]
    assert sections[0].totals == ("外部损失成本合计", D("4543.33")) and all(s.clause == "9.4" for s in sections)
