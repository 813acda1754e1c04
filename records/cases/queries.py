"""The lists of cases: 我的待办 (the cases waiting for a user), the search of the case list, and
the home page's overview."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from records.calendar.workdays import to_local
from records.core.store import Store
from records.fines.proposals import pending

from .deadlines import is_overdue, most_urgent_due
from .flow import technicians, todo_actions
from .vocab import TABLE


def my_work(store: Store, user: dict, now: datetime) -> list[dict]:
    """The cases waiting for ``user``: [{case, actions, due}], most urgent first."""
    out = []
    for case in store.scan(TABLE):
        if case.get("state") == "closed" and not pending(case):
            continue
        acts = todo_actions(case, user)
        if acts:
            out.append({"case": case, "actions": acts, "due": most_urgent_due(case)})
    far = datetime.max.replace(tzinfo=to_local(now).tzinfo)
    out.sort(key=lambda r: (r["due"] or far, r["case"]["id"]))
    return out


def search(store: Store, now: datetime, *, q: str = "", type: str = "", state: str = "",
           customer_id: int | None = None, product: str = "", technician: str = "",
           overdue: bool = False, date_from: date | None = None, date_to: date | None = None,
           page: int = 1, per_page: int = 50):
    """One page of cases matching the filters (newest first) and the total count."""
    q = (q or "").strip().lower()
    product = (product or "").strip().lower()

    def match(c):
        if type and c.get("type") != type:
            return False
        if state and c.get("state") != state:
            return False
        if customer_id and c.get("customer_id") != customer_id:
            return False
        if product and product not in (c.get("product_serial") or "").lower():
            return False
        if technician and technician not in technicians(c):
            return False
        if date_from or date_to:
            day = (c.get("received_at") or "")[:10]
            if date_from and day < date_from.isoformat():
                return False
            if date_to and day > date_to.isoformat():
                return False
        if q:
            hay = " ".join(str(c.get(k) or "") for k in (
                "number", "customer_name", "product_serial", "product_label", "caller_name", "caller_phone",
                "description")).lower()
            if q not in hay:
                return False
        if overdue and not is_overdue(c, now):
            return False
        return True

    return store.page(TABLE, match, key=lambda c: (c.get("received_at") or "", c["id"]), reverse=True,
                      page=page, per_page=per_page)


def overview(cases: Iterable[dict], username: str, now: datetime, tq: bool) -> dict:
    """The home page's lists and counts over ``cases`` (the caller scans the store).

    ``mine_open``: the open cases ``username`` took (接收人); ``late_cases``: how many open cases
    have a deadline past due; ``pending_fines``: [(case, proposal)] waiting for a ruling.
    ``counts`` has the length of each list and ``late_cases``. (``tq`` is kept for the callers;
    recording a call hands it over, 6.1.3, so no list of calls waits for a hand-over.)
    """
    mine_open, pending_fines, late_cases = [], [], 0
    for case in cases:
        closed = case.get("state") == "closed"
        if not closed and case.get("received_by") == username:
            mine_open.append(case)
        if not closed and is_overdue(case, now):
            late_cases += 1
        pending_fines.extend((case, fine) for fine in pending(case))
    return {"mine_open": mine_open, "pending_fines": pending_fines,
            "counts": {"mine_open": len(mine_open), "late_cases": late_cases, "pending_fines": len(pending_fines)}}
