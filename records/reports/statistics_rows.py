"""The rows the 9.3 statistics read, kept per shard (records/core/digest.py): one small row per
case (``slim``: the fields statistics.compute reads, in the case's own shape) and per product
(model, customer, delivery date), so that a page over ten years does not parse whole documents.

A shard changed since the last use is summarized again; the rest are reused (in this process;
the scheduled runs need none of it). The category names come from records/catalog/categories.
"""
from __future__ import annotations

from records import policy
from records.calendar.workdays import parse_local, to_local
from records.cases.vocab import TABLE as CASES
from records.catalog import categories
from records.catalog.products import TABLE as PRODUCTS
from records.core.digest import ShardDigest
from records.core.store import Store

CLASSIFICATION_FIELDS = ("fault_category", "cause_category", "part", "repeat_fault", "repeat_of", "final")


def _day(value) -> str:
    moment = parse_local(value) if isinstance(value, str) and value else None
    return to_local(moment).date().isoformat() if moment else ""


def slim(case: dict) -> dict:
    """The fields of a case the statistics read (9.3), in the case's own shape, with its local
    received day ("YYYY-MM-DD"); a classification read defensively (what is not a dict is none)."""
    got = case.get("classification")
    onsite = case.get("onsite") or {}
    dispatch = case.get("dispatch") or {}
    return {
        "id": case["id"], "number": case.get("number", ""), "type": case.get("type"), "state": case.get("state"),
        "outcome": case.get("outcome"), "customer_id": case.get("customer_id"), "product_id": case.get("product_id"),
        "received_at": case.get("received_at"), "received_day": _day(case.get("received_at")),
        "classification": {k: got.get(k) for k in CLASSIFICATION_FIELDS} if isinstance(got, dict) else None,
        "deadlines": {k: {"due": e["due"], "done_at": e.get("done_at"), "clause": e.get("clause", "")}
                      for k, e in (case.get("deadlines") or {}).items() if isinstance(e, dict) and e.get("due")},
        "onsite": {"completed_at": onsite["completed_at"]} if onsite.get("completed_at") else None,
        "dispatch": {"technicians": list(dispatch.get("technicians") or [])} if dispatch else None,
    }


def _product(product: dict) -> dict:
    return {"id": product["id"], "model": product.get("model") or "", "customer_id": product.get("customer_id"),
            "delivery_date": product.get("delivery_date") or ""}


CASE_ROWS = ShardDigest(CASES, slim, version="stats-1")
PRODUCT_ROWS = ShardDigest(PRODUCTS, _product, version="stats-products-1")


def cases(store: Store) -> list[dict]:
    """Every case's statistics row (read-only: shared until a shard changes)."""
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
