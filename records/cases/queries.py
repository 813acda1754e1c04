"""The lists of cases: 我的待办 (the cases waiting for a user), the search of the case list, the
home page's overview, and each technician's open cases (the dispatch picker).

All read the case index (records/cases/index.py) first and then only the documents they show or
check: the open cases for 我的待办 and the home page, one page of rows for the list.
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.workdays import parse_local, to_local
from records.catalog.products import TABLE as PRODUCTS
from records.core.store import Store
from records.fines.proposals import pending, referred

from . import index
from .deadlines import most_urgent_due
from .flow import may, todo_actions
from .vocab import TABLE, VOID_OUTCOMES


def _may_be_mine(row: dict, user: dict) -> bool:
    """Whether one of the steps the case waits for can be ``user``'s (a quick check on the index
    row; ``todo_actions`` on the document decides)."""
    if not row["duties"]:
        return False
    part = {"received_by": row["received_by"], "reply_assignee": row["reply_assignee"],
            "dispatch": {"technicians": row["technicians"]}}
    return any(may(part, user, a) for a in row["duties"])


def my_work(store: Store, user: dict, now: datetime) -> list[dict]:
    """The cases waiting for ``user``: [{case, actions, due}], most urgent first."""
    ids = [r["id"] for r in index.live(store) if _may_be_mine(r, user)]
    out = []
    for case in store.docs(TABLE, ids):
        if case.get("state") == "closed" and not pending(case):
            continue
        acts = todo_actions(case, user)
        if acts:
            out.append({"case": case, "actions": acts, "due": most_urgent_due(case)})
    far = datetime.max.replace(tzinfo=to_local(now).tzinfo)
    out.sort(key=lambda r: (r["due"] or far, r["case"]["id"]))
    return out


def todo(store: Store, user: dict, now: datetime) -> list[dict]:
    """我的待办 of the cases (the area's entry in the page's registry, views/todo.py): ``my_work``."""
    return my_work(store, user, now)


def open_cases_by_technician(store: Store) -> dict[str, int]:
    """{username: how many open cases they are sent on} from the case index (6.2.5: the dispatch
    picker shows each technician's load); a technician on no open case is not in it."""
    counts: dict[str, int] = {}
    for r in index.live(store):
        if r["open"]:
            for name in r["technicians"]:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _local_day(stored: str) -> str:
    """The local day ("YYYY-MM-DD") of a stored time: its own prefix when stored in local time."""
    moment = parse_local(stored) if stored else None
    return to_local(moment).date().isoformat() if moment else ""


def search_words(q: str) -> list[str]:
    """The words of a search, lower-cased: a case matches when it holds every one (AND)."""
    return (q or "").lower().split()


def parse_ids(text: str) -> set[int] | None:
    """"3,7-9" → {3, 7, 8, 9} (case ids, ranges allowed); None when ``text`` is not such a list."""
    out: set[int] = set()
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return None
        first, last = int(low), int(high or low)
        if last < first or last - first > 10**6:
            return None
        out.update(range(first, last + 1))
    return out


def format_ids(ids) -> str:
    """{3, 7, 8, 9} → "3,7-9": case ids as the list's ``ids`` filter takes them (short in a URL)."""
    out, run = [], []
    for i in sorted(set(ids)):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [i]
    if run:
        out.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(out)


def _classified(rows: list[dict], fault: str, cause: str, repeat: bool, unclassified: bool) -> list[dict]:
    """The rows matching the final classification's filters (9.3 statistics' drill-down)."""
    if fault:
        rows = [r for r in rows if r.get("fault") == fault]
    if cause:
        rows = [r for r in rows if r.get("cause") == cause]
    if repeat:
        rows = [r for r in rows if r.get("repeat")]
    if unclassified:
        rows = [r for r in rows if not r.get("classified")]
    return rows


def search(store: Store, now: datetime, *, q: str = "", type: str = "", state: str = "",
           customer_id: int | None = None, product: str = "", technician: str = "",
           overdue: bool = False, date_from: date | None = None, date_to: date | None = None,
           model: str = "", fault: str = "", cause: str = "", repeat: bool = False, unclassified: bool = False,
           counted: bool = False, ids: set[int] | None = None,
           page: int = 1, per_page: int = 50) -> tuple[list[dict], int, int]:
    """One page of cases matching the filters (newest first; read-only documents), the total count
    and the page shown (a page past the end shows the last one).

    The filters of the 9.3 statistics' drill-down: ``model`` (the product's model), the final
    classification's ``fault`` / ``cause`` category, ``repeat`` (重复故障), ``unclassified`` (no
    final classification), ``counted`` (neither cancelled nor merged nor a 技术通报 campaign's: the cases statistics count)
    and ``ids`` (exactly these cases)."""
    words = search_words(q)
    product = (product or "").strip().lower()
    start, end = (date_from.isoformat() if date_from else ""), (date_to.isoformat() if date_to else "")
    late_before = to_local(now).timestamp()
    rows = index.rows(store).select(type=type, state=state, customer_id=customer_id or None,
                                    technicians=technician)
    if ids is not None:
        rows = [r for r in rows if r["id"] in ids]
    if counted:  # as the 9.3 statistics count: no cancelled or merged case, no 技术通报 campaign's case
        rows = [r for r in rows if r["outcome"] not in VOID_OUTCOMES and not r.get("campaign")]
    if model:
        units = {p["id"] for p in store.scan(PRODUCTS) if p.get("model") == model}
        rows = [r for r in rows if r["product_id"] in units]
    rows = _classified(rows, fault, cause, repeat, unclassified)
    if product:
        rows = [r for r in rows if product in r["serial"]]
    if start or end:
        rows = [r for r in rows if (not start or _local_day(r["received_at"]) >= start)
                and (not end or _local_day(r["received_at"]) <= end)]
    if words:
        rows = [r for r in rows if all(w in r["hay"] for w in words)]
    if overdue:
        rows = [r for r in rows if r["due"] is not None and r["due"] < late_before]
    total = len(rows)
    last = max(1, -(-total // per_page))
    page = min(max(page, 1), last)
    shown = rows[(page - 1) * per_page:page * per_page]
    return store.docs(TABLE, [r["id"] for r in shown]), total, page


def _urgent_first(row: dict) -> tuple:
    return (row["due"] is None, row["due"] or 0, row["id"])


def overview(store: Store, username: str, now: datetime, tq: bool, show: int | None = None) -> dict:
    """The home page's lists and counts, from the case index (only the documents listed are read).

    ``mine_open``: the open cases ``username`` took (接收人); ``late_cases``: how many open cases
    have a deadline past due; ``pending_fines``: [(case, proposal)] waiting for a ruling. The case
    lists are most urgent first, cut to ``show`` rows; ``counts`` has the length of each whole
    list and ``late_cases``. (``tq`` is kept for the callers; recording a call hands it over,
    6.1.3, so no list of calls waits for a hand-over.)
    """
    late_before = to_local(now).timestamp()
    mine, fined, late = [], [], 0
    for r in index.live(store):
        if r["open"]:
            if r["received_by"] == username:
                mine.append(r)
            if r["due"] is not None and r["due"] < late_before:
                late += 1
        if r["pending_fines"]:
            fined.append(r)

    def cases(rows):
        return store.docs(TABLE, [r["id"] for r in sorted(rows, key=_urgent_first)[:show]])

    fined.sort(key=lambda r: r["id"])
    pending_fines = [(case, fine) for case in store.docs(TABLE, [r["id"] for r in fined]) for fine in pending(case)]
    return {"mine_open": cases(mine), "pending_fines": pending_fines[:show],
            "counts": {"mine_open": len(mine), "late_cases": late, "pending_fines": len(pending_fines)}}


def fines_year_total(store: Store, year: int) -> int:
    """``records.fines.ledger.year_total`` over every case, from the index."""
    prefix = f"{year:04d}-"
    return sum(amount for r in index.rows(store).bucket("fined", True)
               for on, amount in r["fines_ruled"] if on.startswith(prefix))


def referred_fines(store: Store) -> list[tuple[dict, dict]]:
    """[(case, proposal)] of the proposals referred to the GM and waiting for his ruling (6.2.8
    特殊情况，报总经理指示执行), oldest referral first; from the index (cases with a fine waiting)."""
    ids = [r["id"] for r in index.live(store) if r["pending_fines"]]
    out = [(case, fine) for case in store.docs(TABLE, ids) for fine in referred(case)]
    return sorted(out, key=lambda cf: (cf[1].get("referred_at") or "", cf[0]["id"]))
