"""技术通报 in the 9.3 statistics (issue 18): a campaign's own cases are never faults (nor in the
case list's "counted" drill-down); faults on products a notice covers are marked."""
from __future__ import annotations

import copy

import pytest

from records.calendar.periods import Period, parse_quarter
from records.reports.statistics import compute
from records.reports.statistics_rows import slim
from tests.fixtures.statistics import NOW, PRODUCTS, stat_cases

Q3 = Period("2026Q3", *parse_quarter("2026Q3"))


def with_campaign_case(docs: list[dict]) -> list[dict]:
    campaign = copy.deepcopy(docs[0])  # on product 1 (SA-1), received in Q3, classified
    campaign.update(id=99, number="T2026-0099", source={"type": "technical_notice", "id": 1, "label": "TB2026-0001"})
    return [*docs, campaign]


@pytest.mark.parametrize("as_rows", [False, True], ids=["documents", "slim rows"])
def test_campaign_cases_are_not_faults_and_covered_products_are_marked(as_rows):
    docs = with_campaign_case(stat_cases())
    docs = [slim(c) for c in docs] if as_rows else docs
    plain = compute(stat_cases(), PRODUCTS, Q3, NOW)
    stats = compute(docs, PRODUCTS, Q3, NOW, covered={"SA-1": ["TB2026-0001"], "SB-9": ["TB2026-0002"]})
    assert stats["faults"]["count"] == plain["faults"]["count"] == 5  # the campaign's case 99 is no fault
    assert 99 not in stats["faults"]["ids"]
    # faults 1 and 2 are on SA-1, which TB2026-0001 covers; SB-9 is no product of the period's faults
    assert stats["noticed"]["ids"] == [1, 2]
    assert [(r["number"], r["serial"], r["notices"]) for r in stats["noticed_rows"]] == [
        ("T2026-0001", "SA-1", ["TB2026-0001"]), ("T2026-0002", "SA-1", ["TB2026-0001"])]
    assert compute(docs, PRODUCTS, Q3, NOW)["noticed"]["count"] == 0  # no notice: nothing marked
