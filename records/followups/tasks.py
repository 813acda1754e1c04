"""跟踪服务 (8.1) and 电话巡访 (8.2): the follow-up call tasks and the calls recorded on them.

8.1: every customer with a delivered product gets one call task per period of
``policy.FOLLOW_UP.value`` months (a calendar quarter); 8.2: every customer using a reliability
product gets one per ``policy.ANNUAL_VISIT.value`` months (a calendar year). Periods are
aligned on the calendar year; a task is due on the last day of its period.

Table ``followups``, one document per task::

    {"key": "follow_up:12:2026Q1", "kind": "follow_up", "clause": "8.1", "customer_id": 12,
     "period": "2026Q1", "period_start": "2026-01-01", "due": "2026-03-31",
     "assignee": "li.gong", "status": "open", "created_at": "...", "call": null}

A recorded call (``status`` becomes ``done``)::

    "call": {"called_at", "called_by", "contact_name", "contact_phone", "usage", "guidance",
             "needs", "problems", "case_id", "recorded_at"}

Tasks are assigned to the least-loaded active 技质部 engineer (fewest open tasks; ties by
username, so equal loads go round-robin), with one rule first: the 8.1 and 8.2 calls of one
customer in one period go to one engineer (``partners``: the open task of the other kind whose
period overlaps; a new task takes its partner's engineer, a reassignment moves both), so that one
call can complete both. Attempts that did not reach the customer (未接通、改期) are kept in
``attempts`` without completing the task. Recording a call is records/followups/calls.py.
Plain Python: no Flask.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from records import policy
from records.calendar.periods import Period, parse_quarter, period_of
from records.calendar.workdays import to_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.errors import DomainError
from records.core.index import TableIndex
from records.core.store import Store
from records.core.transaction import Transaction, copy_doc
from records.users.accounts import users_with_role
from records.users.roles import TQ_ENGINEER

TABLE = "followups"
FOLLOW_UP, ANNUAL_VISIT = "follow_up", "annual_visit"
# A customer who has not acknowledged a 技术通报 within its days (company parameter notice_ack_days):
# a call made by records.technical_notices.deliveries, as a follow-up (8.1 跟踪服务); never planned here.
TECHNICAL_NOTICE = "technical_notice"
KINDS = {FOLLOW_UP: policy.FOLLOW_UP, ANNUAL_VISIT: policy.ANNUAL_VISIT,
         TECHNICAL_NOTICE: policy.Rule("8.1", 0, "顾客未在确认期限内确认收到技术通报，电话跟踪确认（公司参数：技术通报确认期限）")}
KIND_NAMES = {FOLLOW_UP: "季度电话跟踪", ANNUAL_VISIT: "年度电话巡访", TECHNICAL_NOTICE: "技术通报确认跟踪"}
OPEN, DONE = "open", "done"
STATUS_NAMES = {"due": "待回访", "overdue": "已逾期", "done": "已完成"}
# Not a regulation number: how many days before a task's due date its assignee is reminded.
REMIND_DAYS_BEFORE = 14
MAX_TEXT = 2000
CASE_TYPES = {"consultation": "咨询", "service_request": "质量问题（售后服务请求）"}


class FollowUpError(DomainError):
    pass


class FollowUpConflict(FollowUpError):
    """The task changed under the user (recorded or re-assigned by someone else)."""


def period_for(kind: str, d: date) -> Period:
    """The period of ``kind`` containing ``d`` (8.1: quarter; 8.2: year)."""
    rule = KINDS[kind]
    return period_of(int(rule.value), d, rule.clause)


def local_day(now: datetime) -> date:
    return to_local(now).date()


def task_key(kind: str, customer_id: int, period: str) -> str:
    return f"{kind}:{customer_id}:{period}"


def status_of(task: dict, today: date) -> str:
    """``done``, ``overdue`` (open after its due date) or ``due``."""
    if task["status"] == DONE:
        return "done"
    return "overdue" if today > date.fromisoformat(task["due"]) else "due"


# --- Planning and creating tasks --------------------------------------------------------------


def eligible_customers(store: Store, today: date) -> dict[str, set[int]]:
    """Customer ids per kind: with a delivered product (8.1); with a reliability one (8.2)."""
    out = {FOLLOW_UP: set(), ANNUAL_VISIT: set()}
    iso = today.isoformat()
    for p in store.scan(PRODUCTS):
        if p.get("delivery_date", "9999") > iso:
            continue  # not delivered yet
        out[FOLLOW_UP].add(p["customer_id"])
        if p.get("reliability"):
            out[ANNUAL_VISIT].add(p["customer_id"])
    existing = {c["id"] for c in store.scan(CUSTOMERS)}
    return {k: v & existing for k, v in out.items()}


def engineers(store: Store) -> list[str]:
    """The usernames of the active 技质部 engineers, sorted."""
    return sorted(u["username"] for u in users_with_role(store, TQ_ENGINEER))


def open_load(store_or_tx) -> Counter:
    return Counter(t.get("assignee") for t in store_or_tx.scan(TABLE) if t["status"] == OPEN)


class Assigner:
    """Least-loaded assignment (fewest open tasks, then username): round-robin on a tie."""

    def __init__(self, candidates: list[str], load: Counter):
        self.candidates = list(candidates)
        self.load = Counter({c: load.get(c, 0) for c in self.candidates})

    def next(self) -> str | None:
        if not self.candidates:
            return None
        who = min(self.candidates, key=lambda c: (self.load[c], c))
        self.load[who] += 1
        return who


def overlaps(a: dict, b: dict) -> bool:
    """Whether two tasks' periods share a day (a quarter of 8.1 lies in the year of 8.2)."""
    return a["period_start"] <= b["due"] and b["period_start"] <= a["due"]


def partners(tasks, task: dict) -> list[dict]:
    """The open tasks of the other kind for the same customer whose period overlaps ``task``'s:
    the calls one engineer makes together (8.1 and 8.2), and one call may complete."""
    return sorted((t for t in tasks if t["status"] == OPEN and t["customer_id"] == task["customer_id"]
                   and {t["kind"], task["kind"]} == {FOLLOW_UP, ANNUAL_VISIT} and overlaps(t, task)),
                  key=lambda t: t.get("id") or 0)


def plan_tasks(store: Store, now: datetime) -> list[dict]:
    """The tasks of the current periods that do not exist yet, each with its assignee: a quarterly
    call to every customer with a delivered product (8.1), a yearly one to every user of a
    reliability product (8.2). A customer's 8.1 and 8.2 calls of one period go to one engineer:
    the engineer of its open partner task (``partners``) when still active, else the least loaded."""
    today = local_day(now)
    existing = list(store.scan(TABLE))
    keys = {t["key"] for t in existing}
    active = set(engineers(store))
    assigner = Assigner(sorted(active), open_load(store))
    names = {c["id"]: c["name"] for c in store.scan(CUSTOMERS)}
    plans = []
    for kind, customer_ids in eligible_customers(store, today).items():
        period = period_for(kind, today)
        rule = KINDS[kind]
        for cid in sorted(customer_ids):
            key = task_key(kind, cid, period.label)
            if key in keys:
                continue
            plan = {
                "key": key, "kind": kind, "clause": rule.clause, "customer_id": cid,
                "customer_name": names.get(cid, ""), "period": period.label,
                "period_start": period.start.isoformat(), "due": period.end.isoformat(),
                "assignee": None, "status": OPEN, "call": None, "attempts": [],
            }
            paired = [t.get("assignee") for t in partners(existing + plans, plan) if t.get("assignee") in active]
            if paired:
                plan["assignee"] = paired[0]
                assigner.load[paired[0]] += 1
            else:
                plan["assignee"] = assigner.next()
            plans.append(plan)
    return plans


def create_tasks(tx: Transaction, plans: list[dict], now: datetime) -> list[dict]:
    """Insert the planned tasks whose key is still new (checked under the lock)."""
    if not plans:
        return []
    keys = {t["key"] for t in tx.scan(TABLE)}
    out = []
    for plan in plans:
        if plan["key"] in keys:
            continue
        keys.add(plan["key"])
        doc = {k: v for k, v in plan.items() if k != "customer_name"}
        out.append(tx.insert(TABLE, {**doc, "created_at": to_local(now).isoformat(timespec="seconds")}))
    return out


def plan_reassignments(store: Store) -> list[tuple[dict, str | None]]:
    """Open tasks whose assignee is gone (disabled, no longer an engineer, or none): new assignee."""
    active = set(engineers(store))
    tasks = list(store.scan(TABLE))
    stranded = [t for t in tasks if t["status"] == OPEN and t.get("assignee") not in active]
    if not stranded or not active:
        return []
    assigner = Assigner(sorted(active), open_load(store))
    moved: dict[int, str] = {}
    out = []
    for t in sorted(stranded, key=lambda t: t["id"]):  # partners stay together (one engineer)
        paired = [moved.get(p["id"], p.get("assignee")) for p in partners(tasks, t)]
        paired = [who for who in paired if who in active]
        who = paired[0] if paired else assigner.next()
        moved[t["id"]] = who
        out.append((dict(t), who))
    return out


def reassign(store: Store, task_id: int, username: str, actor: str, *, expect_rev: int) -> dict:
    """Give the open task to another engineer; ``expect_rev`` is the revision the page showed
    (required: a reassignment never skips the stale check)."""
    if username not in engineers(store):
        raise FollowUpError("只能指派给在职的技质部工程师", "assignee")
    with store.transaction(actor) as tx:
        task = tx.require(TABLE, task_id)
        if task["status"] != OPEN:
            raise FollowUpError("已完成的回访不能改派")
        done = tx.update(TABLE, task_id, {"assignee": username}, expect_rev=expect_rev, note="改派回访任务")
        for p in partners(tx.scan(TABLE), task):  # 8.1 and 8.2 of one period: one engineer
            if p.get("assignee") != username:
                tx.update(TABLE, p["id"], {"assignee": username},
                          note=f"随{KIND_NAMES[task['kind']]}（{task['clause']}）改派：同一顾客同期的回访由一人负责")
        return done


# --- Listing -----------------------------------------------------------------------------------


_INDEXED = ("id", "kind", "clause", "customer_id", "period", "period_start", "due", "assignee", "status")
_TASKS = TableIndex(TABLE, lambda t: {k: t.get(k) for k in _INDEXED}, version="followups-1",
                    order=lambda r: r["id"], fields=("assignee", "customer_id"))


def _matching(store: Store, now: datetime, engineer: str = "", customer_id: int | None = None,
              quarter: str = "", status: str = "") -> list[dict]:
    """The index rows of the matching tasks (records/core/index.py), with ``state`` and
    ``customer_name``, most urgent first: no task document is read."""
    today = local_day(now)
    span = parse_quarter(quarter) if quarter else None
    if quarter and span is None:
        return []
    names = {c["id"]: c["name"] for c in store.scan(CUSTOMERS)}
    rows = []
    for t in _TASKS.rows(store).select(assignee=engineer or None, customer_id=customer_id or None):
        # the task's period overlaps the quarter (an annual visit belongs to every quarter)
        if span and (t["due"] < span[0].isoformat() or t["period_start"] > span[1].isoformat()):
            continue
        state = status_of(t, today)
        if status and state != status:
            continue
        rows.append({**t, "state": state, "customer_name": names.get(t["customer_id"], f"#{t['customer_id']}")})
    order = {"overdue": 0, "due": 1, "done": 2}
    rows.sort(key=lambda r: (order[r["state"]], r["due"] if r["state"] != "done" else "",
                             -(r["id"]) if r["state"] == "done" else r["id"]))
    return rows


def _with_documents(store: Store, rows: list[dict]) -> list[dict]:
    docs = {d["id"]: d for d in store.docs(TABLE, [r["id"] for r in rows])}
    return [{**copy_doc(docs[r["id"]]), "state": r["state"], "customer_name": r["customer_name"]}
            for r in rows if r["id"] in docs]


def list_tasks(store: Store, now: datetime, engineer: str = "", customer_id: int | None = None,
               quarter: str = "", status: str = "") -> list[dict]:
    """Tasks (copies, with ``state`` and ``customer_name``), most urgent first."""
    return _with_documents(store, _matching(store, now, engineer, customer_id, quarter, status))


def task_page(store: Store, now: datetime, page: int, per_page: int, **filters) -> tuple[list[dict], dict, int]:
    """The list page: its tasks (as ``list_tasks``), the count per state of all matching tasks,
    and how many match; only the page's task documents are read."""
    rows = _matching(store, now, **filters)
    counts = {s: sum(1 for r in rows if r["state"] == s) for s in STATUS_NAMES}
    start = (max(page, 1) - 1) * per_page
    return _with_documents(store, rows[start:start + per_page]), counts, len(rows)


def todo(store: Store, user: dict, now: datetime) -> list[dict]:
    """我的待办 of the follow-up calls (8.1, 8.2): the open tasks assigned to ``user`` whose period
    has begun (index rows: id, kind, period, due, customer_name, state; overdue first, then by due)."""
    name = user.get("username")
    if not name:
        return []
    today = local_day(now).isoformat()
    return [r for r in _matching(store, now, engineer=name) if r["state"] != "done" and r["period_start"] <= today]


def get_task(store: Store, task_id: int, now: datetime) -> dict | None:
    t = store.get(TABLE, task_id)
    if t is None:
        return None
    c = store.get(CUSTOMERS, t["customer_id"]) or {}
    t["state"] = status_of(t, local_day(now))
    t["customer_name"] = c.get("name", f"#{t['customer_id']}")
    t["customer"] = c
    return t


def customer_products(store: Store, customer_id: int) -> list[dict]:
    return sorted((dict(p) for p in store.scan(PRODUCTS) if p["customer_id"] == customer_id),
                  key=lambda p: p["serial_no"])
