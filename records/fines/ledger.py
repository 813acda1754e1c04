"""The penalty ledger: the fines as ruled, totalled (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9).

Pure functions over the case documents the caller passes in (each case keeps its proposals and
their rulings in ``case["fines"]``, records/fines/proposals.py): no store, no cases import.
"""
from __future__ import annotations

from collections.abc import Iterable

FINAL = ("confirmed", "waived", "gm_ruled")  # a ruled proposal: its amount is final (until the GM rules)


def final_amount(fine: dict) -> int | None:
    """The fine's amount once final (confirmed, ruled by the GM; waived: 0), None while it is not
    (proposed, still counting, referred to the GM). The penalty register's rule: a line counts in
    the month its amount became final (``ruled_on``)."""
    if (fine.get("status") or "proposed") not in FINAL:
        return None
    return fine.get("final_amount") or 0


def ruled_on(fine: dict) -> str:
    """When the fine was last ruled on (ISO): the GM's ruling, else the tq_manager's; "" if not yet."""
    return fine.get("gm_at") or fine.get("decided_at") or ""


def year_total(cases: Iterable[dict], year: int) -> int:
    """The fines ruled in ``year`` (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), in 元: the sum of the final
    amounts (``final_amount``) of the proposals whose amount became final that year (a waived one
    counts 0; one the GM re-ruled counts in the year of his ruling, at his amount)."""
    prefix = f"{year:04d}-"
    return sum(final_amount(fine) or 0 for case in cases for fine in case.get("fines") or []
               if ruled_on(fine).startswith(prefix))
