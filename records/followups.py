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
username, so equal loads go round-robin). Plain Python: no Flask.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from . import policy
from .customers import TABLE as CUSTOMERS
from .errors import DomainError
from .products import TABLE as PRODUCTS
from .products import add_months
from .store import Store, Transaction
from .users import users_with_role
from .worktime import to_local

TABLE = "followups"
FOLLOW_UP, ANNUAL_VISIT = "follow_up", "annual_visit"
KINDS = {FOLLOW_UP: policy.FOLLOW_UP, ANNUAL_VISIT: policy.ANNUAL_VISIT}
KIND_NAMES = {FOLLOW_UP: "季度电话跟踪", ANNUAL_VISIT: "年度电话巡访"}
ENGINEER_ROLE = "tq_engineer"
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


@dataclass(frozen=True)
class Period:
    label: str  # "2026Q1" (quarters), "2026" (years), else "2026-01" (first month)
    start: date
    end: date  # inclusive; the due date


def period_for(kind: str, d: date) -> Period:
    """The period of ``kind`` containing ``d`` (8.1: quarter; 8.2: year)."""
    months = int(KINDS[kind].value)
    if months <= 0 or 12 % months:
        raise ValueError(f"{KINDS[kind].clause} 的周期 {months} 个月不能整除一年")
    first_month = (d.month - 1) // months * months + 1
    start = date(d.year, first_month, 1)
    end = date.fromordinal(add_months(start, months).toordinal() - 1)
    if months == 12:
        label = f"{d.year}"
    elif months == 3:
        label = f"{d.year}Q{(first_month - 1) // 3 + 1}"
    else:
        label = f"{d.year}-{first_month:02d}"
    return Period(label, start, end)


def quarter_label(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def parse_quarter(label: str) -> tuple[date, date] | None:
    """``"2026Q2"`` → (2026-04-01, 2026-06-30); ``"2026"`` → the whole year; else None."""
    label = (label or "").strip().upper()
    try:
        if "Q" in label:
            year, q = label.split("Q")
            y, q = int(year), int(q)
            if not 1 <= q <= 4:
                return None
            start = date(y, 3 * q - 2, 1)
            return start, date.fromordinal(add_months(start, 3).toordinal() - 1)
        y = int(label)
        return date(y, 1, 1), date(y, 12, 31)
    except ValueError:
        return None


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
    return sorted(u["username"] for u in users_with_role(store, ENGINEER_ROLE))


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


def plan_tasks(store: Store, now: datetime) -> list[dict]:
    """The tasks of the current periods that do not exist yet, each with its assignee."""
    today = local_day(now)
    keys = {t["key"] for t in store.scan(TABLE)}
    assigner = Assigner(engineers(store), open_load(store))
    names = {c["id"]: c["name"] for c in store.scan(CUSTOMERS)}
    plans = []
    for kind, customer_ids in eligible_customers(store, today).items():
        period = period_for(kind, today)
        rule = KINDS[kind]
        for cid in sorted(customer_ids):
            key = task_key(kind, cid, period.label)
            if key in keys:
                continue
            plans.append({
                "key": key, "kind": kind, "clause": rule.clause, "customer_id": cid,
                "customer_name": names.get(cid, ""), "period": period.label,
                "period_start": period.start.isoformat(), "due": period.end.isoformat(),
                "assignee": assigner.next(), "status": OPEN, "call": None,
            })
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
    stranded = [t for t in store.scan(TABLE) if t["status"] == OPEN and t.get("assignee") not in active]
    if not stranded or not active:
        return []
    assigner = Assigner(sorted(active), open_load(store))
    return [(dict(t), assigner.next()) for t in sorted(stranded, key=lambda t: t["id"])]


def reassign(store: Store, task_id: int, username: str, actor: str, expect_rev: int | None = None) -> dict:
    if username not in engineers(store):
        raise FollowUpError("只能指派给在职的技质部工程师", "assignee")
    with store.transaction(actor) as tx:
        task = tx.require(TABLE, task_id)
        if task["status"] != OPEN:
            raise FollowUpError("已完成的回访不能改派")
        return tx.update(TABLE, task_id, {"assignee": username}, expect_rev=expect_rev, note="改派回访任务")


# --- Listing -----------------------------------------------------------------------------------


def list_tasks(store: Store, now: datetime, engineer: str = "", customer_id: int | None = None,
               quarter: str = "", status: str = "") -> list[dict]:
    """Tasks (copies, with ``state`` and ``customer_name``), most urgent first."""
    today = local_day(now)
    span = parse_quarter(quarter) if quarter else None
    names = {c["id"]: c["name"] for c in store.scan(CUSTOMERS)}
    rows = []
    for t in store.scan(TABLE):
        if engineer and t.get("assignee") != engineer:
            continue
        if customer_id and t["customer_id"] != customer_id:
            continue
        if quarter:
            if span is None:
                return []
            # the task's period overlaps the quarter (an annual visit belongs to every quarter)
            if t["due"] < span[0].isoformat() or t["period_start"] > span[1].isoformat():
                continue
        state = status_of(t, today)
        if status and state != status:
            continue
        rows.append({**t, "state": state, "customer_name": names.get(t["customer_id"], f"#{t['customer_id']}")})
    order = {"overdue": 0, "due": 1, "done": 2}
    rows.sort(key=lambda r: (order[r["state"]], r["due"] if r["state"] != "done" else "",
                             -(r["id"]) if r["state"] == "done" else r["id"]))
    return rows


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


# --- Recording a call --------------------------------------------------------------------------


def _text(data: dict, name: str, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = (data.get(name) or "").strip()
    if required and not value:
        raise FollowUpError(f"请填写{label}", name)
    if len(value) > limit:
        raise FollowUpError(f"{label}不能超过 {limit} 个字", name)
    return value


def clean_call(task: dict, data: dict, now: datetime) -> dict:
    """Check a call's fields against its task (8.1 needs guidance, 8.2 the customer's needs)."""
    called_at = data.get("called_at")
    if isinstance(called_at, str) and called_at.strip():
        try:
            called_at = datetime.fromisoformat(called_at.strip())
        except ValueError:
            raise FollowUpError("通话时间格式不正确", "called_at") from None
    if not isinstance(called_at, datetime):
        raise FollowUpError("请填写通话时间", "called_at")
    called_at = to_local(called_at)
    if called_at > to_local(now):
        raise FollowUpError("通话时间不能晚于现在", "called_at")
    call = {
        "called_at": called_at.isoformat(timespec="minutes"),
        "contact_name": _text(data, "contact_name", "被访人", required=True, limit=40),
        "contact_phone": _text(data, "contact_phone", "电话", required=True, limit=40),
        "usage": _text(data, "usage", "产品使用情况", required=True),
        "guidance": _text(data, "guidance", "保养和维护指导", required=task["kind"] == FOLLOW_UP),
        "needs": _text(data, "needs", "顾客的服务需求", required=task["kind"] == ANNUAL_VISIT),
        "problems": _text(data, "problems", "顾客反映的问题"),
    }
    if data.get("create_case"):
        if not call["problems"]:
            raise FollowUpError("要建立服务案例，请填写顾客反映的问题", "problems")
        if data.get("case_type") not in CASE_TYPES:
            raise FollowUpError("请选择案例类型（咨询或质量问题）", "case_type")
        if data.get("case_type") == "service_request" and not (data.get("serial_no") or "").strip():
            raise FollowUpError("质量问题须选择产品", "serial_no")
    return call


def record_call(store: Store, task_id: int, data: dict, user: dict, now: datetime,
                expect_rev: int | None = None) -> dict:
    """Record the call on the task (it becomes done); with ``create_case`` the problem raised
    becomes a new case (``records.cases.intake_tx``) in the same transaction, linked both ways:
    the call keeps ``case_id`` / ``case_number``, the case keeps ``source`` = {"type":
    "followup", "id": task id} (and its description names the task). Both are written or
    neither: a refused or failed intake leaves the call unrecorded, and a failure in recording
    the call leaves no case behind.

    ``data``: called_at, contact_name, contact_phone, usage, guidance, needs, problems,
    create_case (bool), case_type ("consultation" / "service_request"), serial_no.
    ``user``: the stored user document of the 技质部 member recording it.
    """
    actor = user["username"]
    task = store.require(TABLE, task_id)
    if task["status"] != OPEN:
        raise FollowUpConflict("该回访已记录，不能重复记录")
    if expect_rev is not None and int(expect_rev) != task["_rev"]:
        raise FollowUpConflict("该回访任务已被他人修改，请刷新后重试")
    call = clean_call(task, data, now)
    call.update(called_by=actor, recorded_at=to_local(now).isoformat(timespec="seconds"), case_id=None,
                case_number=None)
    cal = None
    if data.get("create_case"):
        from .calendar_store import current_calendar  # late: the list pages do not need it
        cal = current_calendar(store)
    with store.transaction(actor) as tx:
        fresh = tx.require(TABLE, task_id)
        if fresh["status"] != OPEN:  # recorded by someone else meanwhile
            raise FollowUpConflict("该回访已由他人记录")
        if expect_rev is not None and int(expect_rev) != fresh["_rev"]:
            raise FollowUpConflict("该回访任务已被他人修改，请刷新后重试")
        if data.get("create_case"):
            case = _make_case(tx, cal, fresh, call, data, user, now)
            call.update(case_id=case["id"], case_number=case.get("number"))
        return tx.update(TABLE, task_id, {"status": DONE, "call": call},
                         note=f"记录{KIND_NAMES[task['kind']]}（{task['clause']}）"
                              + (f"，建立服务案例 {call['case_number']}" if call["case_id"] else ""))


# --- The link to the case workflow (records/cases.py) -----------------------------------------


def _make_case(tx: Transaction, cal, task: dict, call: dict, data: dict, user: dict, now: datetime) -> dict:
    """The problem raised becomes a case through the workflow's own intake (6.1.1, 6.1.2),
    inside the transaction that records the call."""
    from . import cases  # late: the case workflow imports much; the list pages do not need it

    serial = (data.get("serial_no") or "").strip()
    title = f"{KIND_NAMES[task['kind']]}（{task['clause']}，{task['period']}）"
    source = f"（来自{title}，回访任务 #{task['id']}）"
    fields = {
        "type": data["case_type"],
        "customer_id": task["customer_id"],
        "product_serial": serial,
        "caller_name": call["contact_name"],
        "caller_phone": call["contact_phone"],
        "channel": "phone",
        "description": f"{call['problems']}\n{source}",
        "received_at": datetime.fromisoformat(call["called_at"]),
        "source": {"type": "followup", "id": task["id"], "label": title},
    }
    try:
        return cases.intake_tx(tx, cal, fields, user, now=now)
    except cases.CaseError as exc:
        field = {"product_serial": "serial_no", "type": "case_type", "description": "problems",
                 "caller_name": "contact_name", "caller_phone": "contact_phone",
                 "received_at": "called_at"}.get(exc.field or "", None)
        raise FollowUpError(f"建立服务案例失败：{exc}", field) from exc
