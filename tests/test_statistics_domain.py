"""9.3 quality statistics against a hand-counted quarter (tests/fixtures/statistics.py), and the
SVG charts read back with xml.etree."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from records.calendar.periods import Period, parse_quarter
from records.reports import charts, statistics
from records.reports.statistics import Filters, compute
from records.reports.statistics_rows import slim
from tests.fixtures.statistics import NOW, PRODUCTS, stat_cases

NAMES = {"fault": {"power": "电源", "signal": "信号处理"}, "cause": {"design": "设计", "process": "制造工艺"}}
SVG = "{http://www.w3.org/2000/svg}"


def stats(label="2026Q3", filters=Filters(), docs=None):
    return compute(docs if docs is not None else stat_cases(), PRODUCTS, Period(label, *parse_quarter(label)), NOW,
                   filters, NAMES)


def counts(rows):
    return {r["key"]: r["count"] for r in rows}


@pytest.mark.parametrize("as_rows", [False, True], ids=["documents", "slim rows"])
def test_a_hand_counted_quarter(as_rows):
    docs = [slim(c) for c in stat_cases()] if as_rows else None
    s = stats(docs=docs)
    assert s["faults"]["ids"] == [1, 2, 3, 7, 8]  # 2: received in Q3, confirmed in Q4; 4 cancelled; 5 received in Q2
    assert counts(s["by_model"]) == {"A": 4, "B": 1}
    assert counts(s["by_fault"]) == {"power": 2, "signal": 1, "": 2}  # 3 unclassified, 7 only provisional
    assert counts(s["by_cause"]) == {"design": 1, "process": 1, "bought_in": 1, "": 2}
    assert [(r["label"], r["count"], r["share"], r["cumulative"]) for r in s["pareto"]] == [
        ("电源", 2, 40.0, 40.0), ("信号处理", 1, 20.0, 60.0), ("未分类", 2, 40.0, 100.0)]
    rates = {r["key"]: (r["count"], r["units"], r["rate"]) for r in s["failure_rates"]}
    assert rates == {"A": (4, 2, 200.0), "B": (1, 1, 100.0)}  # P3 delivered after the quarter's end
    assert s["repeats"]["ids"] == [2] and s["repeat_rows"][0]["repeat_of"] == [1]
    assert s["reworks"]["ids"] == [2]  # the same serial within 90 days of case 1's repair
    assert s["gaps"]["ids"] == [3, 7] and [r["provisional"] for r in s["gap_rows"]] == [False, True]
    on_time = {r["key"]: (r["clause"], r["due"], r["on_time"], r["late_ids"]) for r in s["on_time"]}
    assert on_time == {"consult_reply": ("6.2.1", 1, 1, []), "decision": ("6.2.2", 2, 1, [3]),
                       "arrival": ("5.1.1.3", 1, 0, [5])}  # 2's decision is due in Q4; 4 is cancelled
    assert [r["key"] for r in s["on_time"]] == ["consult_reply", "decision", "arrival"]


@pytest.mark.parametrize("label, faults, due", [
    ("2026Q2", [5], {}),  # 5's arrival is due in Q3
    ("2026Q4", [], {"decision": 1}),  # case 2 counts in Q4 only by its decision deadline
    ("2026", [1, 2, 3, 5, 7, 8], {"decision": 3, "arrival": 1, "consult_reply": 1}),
])
def test_periods_follow_the_glossary(label, faults, due):
    s = stats(label)
    assert s["faults"]["ids"] == faults
    assert {r["key"]: r["due"] for r in s["on_time"]} == due


@pytest.mark.parametrize("filters, faults, units", [
    (Filters(model="B"), [8], {"B": 1}),
    (Filters(customer_id=2), [3, 7], {"A": 1}),
    (Filters(fault="power"), [1, 8], {"A": 2, "B": 1}),
    (Filters(cause="process"), [2], {"A": 2}),  # B: no fault, summed up with the quiet models
    (Filters(model="A", fault="power"), [1], {"A": 2}),
])
def test_filters(filters, faults, units):
    s = stats(filters=filters)
    assert s["faults"]["ids"] == faults
    assert {r["key"]: r["units"] for r in s["failure_rates"]} == units
    assert s["quiet_models"] == ({"models": 1, "units": 1} if filters.cause else {"models": 0, "units": 0})
    assert sum(r["count"] for r in s["by_model"]) == sum(r["count"] for r in s["by_fault"]) == len(faults)


def test_trend_per_quarter_per_model():
    t = stats()["trend"]
    assert t["quarters"] == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert {s["label"]: [c["count"] for c in s["cells"]] for s in t["series"]} == {
        "A": [0] * 7 + [4], "B": [0] * 6 + [1, 1]}


def test_a_classification_that_is_no_dict_reads_as_none():
    docs = stat_cases()
    docs[0]["classification"] = "电源"
    assert stats(docs=docs)["gaps"]["ids"] == [1, 3, 7]
    assert slim(docs[0])["classification"] is None


def test_pareto_svg_read_back():
    s = stats()
    svg = charts.pareto_svg("2026Q3 <排列图>", statistics.pareto_rows(s))
    root = ET.fromstring(svg)
    assert "script" not in svg and "style" not in svg
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert [(b.get("data-label"), int(b.get("data-value"))) for b in bars] == [("电源", 2), ("信号处理", 1), ("未分类", 2)]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == heights[2] == pytest.approx(2 * heights[1])
    points = root.findall(f".//{SVG}circle[@class='point']")
    assert [float(p.get("data-value")) for p in points] == [40, 60, 100]
    assert root.find(f"{SVG}title").text == "2026Q3 <排列图>"  # escaped in the text, read back whole
    assert [t.text for t in root.iter(f"{SVG}text")].count("信号处理") == 1


def test_trend_svg_read_back():
    s = stats()
    root = ET.fromstring(charts.trend_svg("趋势", s["trend"]["quarters"], statistics.trend_series(s)))
    lines = root.findall(f".//{SVG}polyline[@class='series']")
    assert [line.get("data-label") for line in lines] == ["A", "B"]
    b = [(p.get("data-period"), int(p.get("data-value"))) for p in root.findall(f".//{SVG}circle")
         if p.get("data-label") == "B"]
    assert b[-2:] == [("2026Q2", 1), ("2026Q3", 1)]
    empty = ET.fromstring(charts.trend_svg("趋势", [], []))
    assert "本期无数据" in [t.text for t in empty.iter(f"{SVG}text")]


@pytest.mark.parametrize("repaired, rework", [
    ("2026-06-20T15:00", True),  # repaired in Q2, fault in Q3 within 90 days: found although before the period
    ("2026-03-01T15:00", False),  # more than 90 days before
    ("2026-07-10T15:00", False),  # repaired after the fault was received
])
@pytest.mark.parametrize("padding", [0, 40], ids=["every case at once", "the period's candidates"])
def test_rework_of_a_repair_before_the_period(repaired, rework, padding):
    docs = stat_cases() + [{"id": 100 + i, "type": "consultation", "received_at": "2020-01-01T09:00:00+08:00"}
                           for i in range(padding)]  # many cases outside the period: statistics.Data.rework_rows
    docs[4]["onsite"] = {"completed_at": repaired + ":00+08:00"}  # case 5, on P4
    docs[7]["received_at"] = "2026-07-05T09:00:00+08:00"  # case 8, a fault on P4 in Q3
    for rows in (docs, [slim(c) for c in docs]):
        assert stats(docs=rows)["reworks"]["ids"] == ([2, 8] if rework else [2])  # 2: a rework of 1's repair
