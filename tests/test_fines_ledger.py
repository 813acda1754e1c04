"""The penalty ledger (records/fines/ledger.py): pure totals over case documents."""
from __future__ import annotations

from records.fines import ledger


def fine(status, final=None, decided_at=None, gm_at=None):
    return {"key": "k", "status": status, "final_amount": final, "decided_at": decided_at, "gm_at": gm_at}


def test_year_total_counts_the_rulings_of_that_year():
    cases = [
        {"fines": [fine("confirmed", 50, "2026-03-01T10:00:00+08:00"),
                   fine("waived", 0, "2026-03-02T10:00:00+08:00"),
                   fine("proposed")]},
        {"fines": [fine("gm_ruled", 300, "2025-12-30T10:00:00+08:00", "2026-01-05T09:00:00+08:00"),  # the GM's date
                   fine("confirmed", 200, "2025-12-31T10:00:00+08:00")]},
        {},
    ]
    assert ledger.year_total(cases, 2026) == 350
    assert ledger.year_total(cases, 2025) == 200
    assert ledger.year_total([], 2026) == 0
    assert ledger.ruled_on(fine("proposed")) == ""
