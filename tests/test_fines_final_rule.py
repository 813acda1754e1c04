"""One rule for a fine's final amount (records/fines/ledger.py ``final_amount``, ``ruled_on``): the
penalty register's month, the year total on the home page and the 9.1 "fines confirmed" figure
agree. A line counts in the period its amount became final (its last ruling); waived = 0; a
proposal still proposed, counting (6.2.8) or referred to the GM is not final."""
from __future__ import annotations

import pytest

from records.fines import ledger, register
from records.reports.figures import quarter_span, technician_figures
from tests.fixtures.assessments import NOW, fine, onsite_case, with_ids


def gm_reruled(amount: int, confirmed_at: str, gm_amount: int, gm_at: str) -> dict:
    """Confirmed by the tq_manager, then ruled otherwise by the GM (6.2.8 特殊情况)."""
    return {**fine("tech", "gm_ruled", gm_amount, confirmed_at), "key": f"gm{confirmed_at}",
            "gm_at": gm_at + ":00+08:00", "confirmed_amount": amount}


def referred(at: str) -> dict:
    return {**fine("tech", "proposed", 0, at), "key": f"ref{at}", "status": "referred"}


def running(at: str) -> dict:
    return {**fine("tech", "proposed", 0, at), "key": f"run{at}", "running": True}


@pytest.mark.parametrize("fines, q3, q4, y2026", [
    ([fine("tech", "confirmed", 200, "2026-08-21T10:00")], 200, 0, 200),
    ([fine("tech", "waived", 0, "2026-08-21T10:00")], 0, 0, 0),                       # waived = 0
    ([fine("tech", "proposed", 0, "2026-08-21T10:00")], 0, 0, 0),                     # not final
    ([referred("2026-08-21T10:00")], 0, 0, 0),                                        # waiting for the GM
    ([running("2026-08-21T10:00")], 0, 0, 0),                                         # 6.2.8 still counting
    # confirmed in Q3 (100 元), re-ruled by the GM in Q4 (400 元): final in Q4, at the GM's amount
    ([gm_reruled(100, "2026-09-10T10:00", 400, "2026-10-05T09:00")], 0, 400, 400),
    # confirmed in 2026, re-ruled by the GM in 2027: the year of his ruling
    ([gm_reruled(100, "2026-12-30T10:00", 0, "2027-01-04T09:00")], 0, 0, 0),
])
def test_figures_register_and_year_total_agree(fines, q3, q4, y2026):
    cases = with_ids([onsite_case("F1", ["tech"], 1, "2026-07-06T10:00", None, fines=fines)])
    quarters = {label: technician_figures(cases, "tech", quarter_span(label), NOW)["fine_total"]
                for label in ("2026Q3", "2026Q4")}
    assert quarters == {"2026Q3": q3, "2026Q4": q4}
    assert ledger.year_total(cases, 2026) == y2026
    rows = register.build(cases, {}, {})
    by_quarter = {"2026Q3": 0, "2026Q4": 0}
    for r in rows:
        if r["month"][:7] in ("2026-07", "2026-08", "2026-09"):
            by_quarter["2026Q3"] += r["amount"] or 0
        elif r["month"][:7] in ("2026-10", "2026-11", "2026-12"):
            by_quarter["2026Q4"] += r["amount"] or 0
    assert by_quarter == quarters  # the register's months say the same
