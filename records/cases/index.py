"""The case index: per case the few fields the lists filter and sort on (records.core.index).

One summary per case document: its type, state and outcome, customer, product, receiver, reply
assignee and technicians, received time, its final fault classification (9.3), the due time (epoch seconds) of its most urgent open
deadline, whether it is open (not closed) and live (open, or a fine proposal waiting for a ruling),
the steps it waits for from anyone (``duties``: the flow's 我的待办 steps its state and guards
allow, whoever takes them), its ruled fines, and the lower-cased text the list's search reads.
The lists, 我的待办 and the home page read this index and then only the documents they show.

Generic on purpose: a case leaves the work lists by its state ("closed", whatever its outcome)
and its pending fines, so later states and outcomes need no change here.
"""
from __future__ import annotations

from records.core.index import Rows, TableIndex
from records.core.store import Store
from records.fines.ledger import ruled_on
from records.fines.proposals import pending

from .deadlines import open_deadlines
from .flow import TRANSITIONS, guard_ok, technicians
from .vocab import TABLE, is_campaign

# the phone's digits too, so that a number typed with other separators is found (6.1.1)
SEARCHED = ("number", "customer_name", "product_serial", "product_label", "caller_name", "caller_phone",
            "caller_phone_digits", "description")


def duties(case: dict) -> list[str]:
    """The 我的待办 steps ``case`` waits for now, whoever takes them (state and guard allow)."""
    state = case.get("state")
    return [name for name, t in TRANSITIONS.items()
            if t.todo and not t.extra and state in t.states and guard_ok(case, name)]


def summarize(case: dict) -> dict:
    """The case's row of the index (JSON-ready)."""
    open_ = open_deadlines(case)
    ruled = [[ruled_on(f), f["final_amount"]] for f in case.get("fines") or []
             if f.get("status") != "proposed" and f.get("final_amount")]
    is_open = case.get("state") != "closed"
    waiting = len(pending(case))
    return {
        "id": case["id"], "type": case.get("type"), "state": case.get("state"), "outcome": case.get("outcome"),
        "customer_id": case.get("customer_id"), "product_id": case.get("product_id"),
        "serial": (case.get("product_serial") or "").lower(),
        "received_at": case.get("received_at") or "", "received_by": case.get("received_by"),
        "reply_assignee": case.get("reply_assignee"), "technicians": list(technicians(case)),
        "open": is_open, "live": is_open or waiting > 0, "pending_fines": waiting,
        "due": open_[0][1].due.timestamp() if open_ else None,
        "duties": duties(case) if is_open or waiting else [],
        "fines_ruled": ruled, "fined": bool(ruled),
        "hay": "\n".join(str(case.get(k) or "") for k in SEARCHED).lower(),
        "campaign": is_campaign(case),  # a 技术通报 campaign's case: the statistics never count it
        **classification_fields(case),
    }


def classification_fields(case: dict) -> dict:
    """The final fault classification the list filters on (9.3 statistics' drill-down): fault and
    cause category codes, 重复故障, and whether there is one ("classified"); read defensively."""
    got = case.get("classification")
    final = isinstance(got, dict) and bool(got.get("final"))
    return {"fault": got.get("fault_category") if final else None, "cause": got.get("cause_category") if final else None,
            "repeat": bool(final and got.get("repeat_fault")), "classified": final}


CASES = TableIndex(TABLE, summarize, version="cases-6",
                   order=lambda r: (r["received_at"], r["id"]),
                   fields=("type", "state", "outcome", "customer_id", "product_id", "received_by", "technicians",
                           "live", "fined"))


def rows(store: Store) -> Rows:
    """The case index, current with the shards."""
    return CASES.rows(store)


def live(store: Store) -> list[dict]:
    """The rows of the open cases and of those with a fine proposal waiting, newest first."""
    return rows(store).bucket("live", True)
