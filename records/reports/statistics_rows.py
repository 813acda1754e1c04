"""The rows the 9.3 statistics read, kept per shard (records/core/digest.py): one small row per
case (``slim``: the fields statistics.compute reads, in the case's own shape) and per product
(model, customer, delivery date), so that a page over ten years does not parse whole documents.

A shard changed since the last use is summarized again; the rest are reused (in this process;
the scheduled runs need none of it). The category names come from records/catalog/categories.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, datetime

from records import policy
from records.calendar.workdays import parse_local, to_local
from records.cases.vocab import TABLE as CASES
from records.cases.vocab import is_campaign, is_live
from records.catalog import categories
from records.catalog.products import TABLE as PRODUCTS
from records.core.digest import ShardDigest
from records.core.store import Store

from .figures import Span, deadline_count

CLASSIFICATION_FIELDS = ("fault_category", "cause_category", "part", "repeat_fault", "repeat_of", "final")


ALL_TIME = Span("", date.min, date.max)


def local_day(value) -> str:
    """The local day ("YYYY-MM-DD") of a stored time; "" for none."""
    moment = parse_local(value) if isinstance(value, str) and value else None
    return to_local(moment).date().isoformat() if moment else ""


def _deadline(case: dict, key: str, entry: dict) -> dict:
    """A deadline's fields with its local due day and, once met, whether on time (the verdict of
    figures.deadline_count, which for a met deadline does not depend on the period or the time)."""
    met = deadline_count(case, key, ALL_TIME, datetime.min) if entry.get("done_at") else None
    return {"due": entry["due"], "done_at": entry.get("done_at"), "clause": entry.get("clause", ""),
            "due_day": local_day(entry["due"]), "met": met}


def slim(case: dict) -> dict:
    """The fields of a case the statistics read (9.3), in the case's own shape, with its local
    received day ("YYYY-MM-DD"); a classification read defensively (what is not a dict is none)."""
    got = case.get("classification")
    onsite = case.get("onsite") or {}
    dispatch = case.get("dispatch") or {}
    return {
        "id": case["id"], "number": case.get("number", ""), "type": case.get("type"), "state": case.get("state"),
        "outcome": case.get("outcome"), "customer_id": case.get("customer_id"), "product_id": case.get("product_id"),
        "received_at": case.get("received_at"), "received_day": local_day(case.get("received_at")),
        "campaign": is_campaign(case),
        "classification": {k: got.get(k) for k in CLASSIFICATION_FIELDS} if isinstance(got, dict) else None,
        "deadlines": {k: _deadline(case, k, e) for k, e in (case.get("deadlines") or {}).items()
                      if isinstance(e, dict) and e.get("due")},
        "onsite": {"completed_at": onsite["completed_at"], "completed_day": local_day(onsite["completed_at"])}
        if onsite.get("completed_at") else None,
        "dispatch": {"technicians": list(dispatch.get("technicians") or [])} if dispatch else None,
    }


def _product(product: dict) -> dict:
    return {"id": product["id"], "model": product.get("model") or "", "customer_id": product.get("customer_id"),
            "delivery_date": product.get("delivery_date") or "", "serial_no": product.get("serial_no") or ""}


def received_day(case: dict) -> str:
    return case.get("received_day") or local_day(case.get("received_at"))


def completed_day(case: dict) -> str:
    onsite = case.get("onsite") or {}
    return onsite.get("completed_day") or (local_day(onsite["completed_at"]) if onsite.get("completed_at") else "")


class Indexed:
    """The live cases (neither cancelled nor merged) sorted by their received day, and their
    deadlines by due day and repairs by completion day, so that a period's share is found by
    bisection instead of a scan (a quarter of ten years). Callers must not mutate it."""

    def __init__(self, cases: Iterable[dict]):
        live = sorted(((received_day(c), c["id"], c) for c in cases if is_live(c)), key=lambda t: t[:2])
        self.live = [c for _, _, c in live]
        self._received = [day for day, _, _ in live]
        due = sorted(((e.get("due_day") or local_day(e.get("due")), c["id"], key, c) for c in self.live
                      for key, e in (c.get("deadlines") or {}).items() if isinstance(e, dict) and e.get("due")),
                     key=lambda t: t[:3])
        self._due = [t[0] for t in due]
        self._deadlines = [(t[3], t[2]) for t in due]
        done = sorted(((completed_day(c), c["id"], c) for c in self.live if completed_day(c)), key=lambda t: t[:2])
        self._completed = [t[0] for t in done]
        self._repairs = [t[2] for t in done]
        self.memo: dict = {}  # what the statistics derive from every case at once (records/reports/statistics.py)

    def received_in(self, first: str, last: str) -> list[dict]:
        """The live cases received from day ``first`` to ``last`` ("YYYY-MM-DD", inclusive)."""
        return self.live[bisect_left(self._received, first):bisect_right(self._received, last)]

    def due_in(self, first: str, last: str) -> list[tuple[dict, str]]:
        """(case, deadline key) of the live cases' deadlines due in those days."""
        return self._deadlines[bisect_left(self._due, first):bisect_right(self._due, last)]

    def completed_in(self, first: str, last: str) -> list[dict]:
        """The live cases whose on-site work was completed in those days."""
        return self._repairs[bisect_left(self._completed, first):bisect_right(self._completed, last)]


CASE_ROWS = ShardDigest(CASES, slim, version="stats-3", combine=Indexed)
PRODUCT_ROWS = ShardDigest(PRODUCTS, _product, version="stats-products-2")


def cases(store: Store) -> Indexed:
    """Every case's statistics row, indexed (read-only: shared until a shard changes)."""
    return CASE_ROWS.collect(store)


def products(store: Store) -> list[dict]:
    return PRODUCT_ROWS.collect(store)


def names(store: Store) -> dict[str, dict[str, str]]:
    """{"fault" | "cause": {code: the name people read (「（已停用）」 after a retired one)}}."""
    return {kind: {code: categories.name_of(store, kind, code) for code in categories.names(store, kind)}
            for kind in categories.KINDS}


def models(store: Store) -> list[str]:
    """The models of the products, sorted (the page's filter)."""
    return sorted({p["model"] for p in products(store) if p["model"]})


def rework_days(store: Store) -> int:
    """返修认定天数 (公司参数, GLOSSARY 返修)."""
    return policy.parameter(store, "rework_days")
