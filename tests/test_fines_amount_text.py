"""A fine's amount in words (6.2.8, 6.2.9): one function for every page, notice, dossier and register."""
from __future__ import annotations

import pytest

from records import policy
from records.fines.proposals import fine_amount_text, per_day_text


@pytest.mark.parametrize("fine, kwargs, text", [
    ({"amount": 50, "range": None}, {}, "50 元"),
    ({"amount": 50, "range": None}, {"unit": False}, "50"),
    ({"amount": None, "range": [50, 500]}, {}, "50—500 元"),
    ({"amount": None, "range": [50, 500]}, {"note": True}, "50—500 元（由技质部经理确定）"),
    ({"amount": None, "range": [50, 500]}, {"unit": False}, "50—500"),
    ({"amount": None, "range": None}, {}, ""),
    ({"amount": None, "range": [50, 500], "final_amount": 200.0}, {"final": True}, "200 元"),  # 6.2.9 ruled
    ({"amount": 100, "final_amount": 0}, {"final": True}, "0 元"),
    ({"amount": 100, "final_amount": None}, {"final": True}, "100 元"),
])
def test_fine_amount_text(fine, kwargs, text):
    assert fine_amount_text(fine, **kwargs) == text


@pytest.mark.parametrize("fine, text", [
    ({"amount": 150, "days": 3, "per_day": 50}, "50 元 × 3 个工作日"),
    ({"amount": 150, "days": 3}, f"{policy.FINE_CONFIRM_LATE_PER_DAY.value} 元 × 3 个工作日"),  # 6.2.8, before per_day
    ({"amount": 50}, ""),
])
def test_per_day_text(fine, text):
    assert per_day_text(fine) == text
