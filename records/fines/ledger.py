"""The penalty ledger: the fines as ruled, totalled (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9).

Pure functions over the case documents the caller passes in (each case keeps its proposals and
their rulings in ``case["fines"]``, records/fines/proposals.py): no store, no cases import.
"""
from __future__ import annotations

from collections.abc import Iterable


def ruled_on(fine: dict) -> str:
    """When the fine was last ruled on (ISO): the GM's ruling, else the tq_manager's; "" if not yet."""
    return fine.get("gm_at") or fine.get("decided_at") or ""


def year_total(cases: Iterable[dict], year: int) -> int:
    """The fines ruled in ``year`` (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), in 元: the sum of the final
    amounts of the proposals confirmed or ruled by the GM that year (a waived one counts 0)."""
    prefix = f"{year:04d}-"
    return sum(fine["final_amount"] for case in cases for fine in case.get("fines") or []
               if fine["status"] != "proposed" and fine.get("final_amount") and ruled_on(fine).startswith(prefix))
