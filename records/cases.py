"""服务案例: one customer consultation (咨询) or fault report (质量问题) through sections 5 and 6.

A case is one document in table ``cases``; its ``state`` moves by the TRANSITIONS
(``records.case_model``), each allowed to certain people (a role, or the case's own receiver /
assigned technicians / reply assignee), each recorded with who and when in ``timeline`` (and in
the audit trail by the store). Deadlines are computed from ``records.deadlines`` with the
calendar passed in and stored in ``deadlines`` (``Deadline.to_dict()`` plus ``done_at`` and
``responsible``); whether one is overdue is decided when it is read (``deadline_status``). Fine
proposals live in ``fines`` (see ``records.fines``).

This module holds the entry points: ``intake`` / ``intake_tx``, ``perform`` (one workflow
action), ``report_prefill``, the lists (``my_work``, ``search``) and ``bench_transition``. The
rest is in modules named for what they hold, whose public names are importable from here too
(``cases.TABLE``, ``cases.may``, ``cases.overdue_items`` …):

- ``records.case_model``: vocabularies, states, the transitions table (with the state machine)
  and who may take each action or read a case; small pure helpers;
- ``records.case_input``: the typed input of intake and the actions, checked;
- ``records.case_deadlines``: deadlines set, met, read (status, overdue, responsible), recomputed;
- ``records.case_actions``: the handler of each action after intake.

Every function takes ``now`` (tests pin time) and a WorkCalendar ``cal``; no Flask here.
"""
from __future__ import annotations

import time as _time
from datetime import date, datetime
from typing import Callable, Iterator

from . import deadlines as dl
from . import fines
from . import service_form as sf

# Besides what this module uses, the public names of the case modules, importable from here
# (cases.TABLE, cases.may_read, cases.overdue_items …): callers import from records.cases,
# whichever module holds the name.
from .case_actions import FORM_NOT_ARCHIVED, HANDLERS, _handover_into  # noqa: F401
from .case_deadlines import (OverdueItem, _meet, _set_deadline, deadline_row, deadline_rows,  # noqa: F401
                             deadline_status, is_overdue, most_urgent_due, next_deadline_row, open_deadlines,
                             overdue_in, overdue_items, plan_recompute, recompute_open_deadlines,
                             recompute_open_deadlines_tx, responsible, time_left)
from .case_input import _text, _when
from .case_model import (ANY_STATE, ASPECTS, CHANNELS, CHARGES, CONDITIONS, COUNTERS,  # noqa: F401
                         DEADLINE_LABELS, EVALUATIONS, MAX_REPORT_PARTS, OUTCOMES, RATINGS, READERS, ROLE_LABELS,
                         SOLUTIONS, SOURCES, STATES, TABLE, TQ, TRANSITIONS, TYPES, CaseError, NotPermitted,
                         Transition, _guard_message, _guard_ok, _iso, _log, _now, allowed_actions, collects_fee,
                         extra_actions, is_paid, is_tq, may, may_read, next_steps, parse_dt, quote_priced,
                         quote_total, rule_text, technicians, todo_actions)
from .customers import TABLE as CUSTOMERS
from .followups import TABLE as FOLLOWUPS
from .products import TABLE as PRODUCTS
from .products import warranty
from .store import StaleRecord, Store, Transaction
from .worktime import WorkCalendar, to_local


# --- Numbers -----------------------------------------------------------------------------------


def _next_number(tx, prefix: str, year: int, existing: Callable[[], Iterator[str]]) -> str:
    """The next number ``<prefix><year>-0001`` of a yearly series, kept in the counters table."""
    name = f"{prefix}{year}"
    counter = next((c for c in tx.scan(COUNTERS) if c["name"] == name), None)
    if counter is None:
        # First number of the year in this data folder: start after any number already used.
        last = 0
        for number in existing():
            if number and number.startswith(name + "-"):
                try:
                    last = max(last, int(number.rsplit("-", 1)[1]))
                except ValueError:
                    pass
        value = last + 1
        tx.insert(COUNTERS, {"name": name, "value": value})
    else:
        value = counter["value"] + 1
        tx.update(COUNTERS, counter["id"], {"value": value})
    return f"{name}-{value:04d}"


# --- Intake (6.1.1, 6.1.2) ---------------------------------------------------------------


def intake(store: Store, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """Record a consultation or service request; any logged-in employee may.

    ``data``: type, customer_id, product_serial (required for a service request), caller_name,
    caller_phone, channel, description, received_at (default now; never in the future),
    answered_directly + direct_answer (consultation only), source (optional: where the case
    came from, e.g. ``{"type": "followup", "id": 7}``, a problem raised on a follow-up call).
    """
    with store.transaction(user["username"]) as tx:
        return intake_tx(tx, cal, data, user, now=now)


def intake_tx(tx: Transaction, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """``intake`` inside a transaction the caller holds, so that the case commits (or not)
    together with the caller's own changes (a follow-up call and the case it raised)."""
    now = _now(now)
    kind = data.get("type")
    if kind not in TYPES:
        raise CaseError("请选择类型（咨询或质量问题）", "type")
    channel = data.get("channel") or "phone"
    if channel not in CHANNELS:
        raise CaseError("请选择来源渠道", "channel")
    serial = _text(data, "product_serial", "产品编号", required=(kind == "service_request"), max_len=60)
    product = None
    if serial:
        product = next((p for p in tx.scan(PRODUCTS) if p["serial_no"] == serial), None)
        if product is None:
            raise CaseError(f"没有产品编号为 {serial} 的产品", "product_serial")
    try:
        customer_id = int(data.get("customer_id") or 0)
    except (TypeError, ValueError):
        raise CaseError("请选择顾客单位", "customer_id") from None
    if not customer_id and product is not None:
        customer_id = product["customer_id"]  # the caller gave the serial number only: its customer
    if not customer_id:
        raise CaseError("请选择顾客单位（或填写产品编号，由系统带出顾客单位）", "customer_id")
    customer = tx.get(CUSTOMERS, customer_id)
    if customer is None:
        raise CaseError("顾客单位不存在", "customer_id")
    if product is not None:
        if product["customer_id"] != customer_id:
            raise CaseError(f"产品 {serial} 不属于 {customer['name']}", "product_serial")
    caller_name = _text(data, "caller_name", "来电人姓名", max_len=40)
    caller_phone = _text(data, "caller_phone", "来电人电话", max_len=40)
    description = _text(data, "description", "顾客反映的内容")
    received_at = _when(data, "received_at", "收到时间", now, default_now=True)
    answered = bool(data.get("answered_directly"))
    answer = _text(data, "direct_answer", "直接答复的内容", required=answered) if answered else ""
    if answered and kind != "consultation":
        raise CaseError("只有咨询可以由接收人直接答复（6.1.1）", "answered_directly")
    source = _source(tx, data.get("source"))

    by = user["username"]
    tq = is_tq(user)
    case = {
        "type": kind,
        "state": "awaiting_handover",
        "outcome": None,
        "customer_id": customer_id,
        "customer_name": customer["name"],
        "product_id": product["id"] if product else None,
        "product_serial": product["serial_no"] if product else "",
        "product_label": f"{product['model']} {product['name']}" if product else "",
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "channel": channel,
        "description": description,
        "received_at": _iso(received_at),
        "received_by": by,
        "recorded_at": _iso(now),
        "source": source,
        "tq_received_at": None,
        "handed_over_by": None,
        "tq_owner": by if tq else None,
        "direct_answer": None,
        "reply_assignee": None,
        "reply": None,
        "warranty": None,
        "decision": None,
        "quote": None,
        "customer_response": None,
        "vp_approval": None,
        "dispatch": None,
        "onsite": None,
        "report": None,
        "audit": None,
        "deadlines": {},
        "fines": [],
        "timeline": [],
    }
    if product:
        w = warranty(product, received_at.date())
        case["warranty"] = {"in_warranty": w.in_warranty, "last_day": w.last_day.isoformat(), "label": w.label}
    _set_deadline(case, "handover", dl.handover_deadline(cal, received_at), by)
    if kind == "consultation":
        _set_deadline(case, "consult_reply", dl.consult_reply_deadline(cal, received_at))
    parts = [f"{TYPES[kind]}，{CHANNELS[channel]}，{customer['name']}，{caller_name} {caller_phone}"]
    if source:
        parts.append(f"来自{SOURCES[source['type']]} #{source['id']}" + (f"（{source['label']}）" if source["label"] else ""))
    if answered:
        case["direct_answer"] = {"text": answer, "by": by, "at": _iso(received_at)}
        _meet(case, "consult_reply", received_at)
        parts.append("接收人已直接答复")
    _log(case, by, now, "intake", "；".join(parts))
    if tq:  # a 技质部 user's intake is handed over at once (6.1.3)
        _handover_into(case, cal, by, received_at, now, automatic=True)
    case["number"] = _next_number(tx, "FW", received_at.year, lambda: (c.get("number") for c in tx.scan(TABLE)))
    return tx.insert(TABLE, case)


def _source(tx: Transaction, value) -> dict | None:
    """The checked ``source`` of an intake: {type, id, label} or None."""
    if not value:
        return None
    if not isinstance(value, dict) or value.get("type") not in SOURCES:
        raise CaseError("案例来源不正确", "source")
    try:
        source_id = int(value.get("id"))
    except (TypeError, ValueError):
        raise CaseError("案例来源不正确", "source") from None
    if value["type"] == "followup":
        if tx.get(FOLLOWUPS, source_id) is None:
            raise CaseError(f"回访任务 #{source_id} 不存在", "source")
    label = " ".join(str(value.get("label") or "").split())[:200]
    return {"type": value["type"], "id": source_id, "label": label}


# --- The actions after intake (their handlers: records.case_actions) -----------------------


def perform(store: Store, cal: WorkCalendar, case_id: int, action: str, user: dict, data: dict | None = None,
            expect_rev: int | None = None, now: datetime | None = None) -> dict:
    """Take one workflow action on a case; return the updated case.

    Raises NotPermitted (the user's role or part forbids it: 403), CaseError (not allowed in
    the current state, or bad input, with the field), StaleRecord (``expect_rev`` is not the
    stored revision: someone else changed the case first; nothing is applied).
    """
    if action not in TRANSITIONS:
        raise CaseError(f"未知操作：{action}")
    t = TRANSITIONS[action]
    now = _now(now)
    data = data or {}
    with store.transaction(user["username"]) as tx:
        case = tx.require(TABLE, case_id)
        if expect_rev is not None and int(expect_rev) != case["_rev"]:
            raise StaleRecord(TABLE, case_id, int(expect_rev), case["_rev"])
        if not may(case, user, action):
            raise NotPermitted(f"您无权执行「{t.label}」")
        if case["state"] not in t.states:
            raise CaseError(f"案例当前状态为「{STATES[case['state']]}」，不能执行「{t.label}」")
        if not _guard_ok(case, action):
            raise CaseError(_guard_message(case, action))
        HANDLERS[action](case, user, data, cal, now, store)
        if action == "dispatch":
            case["dispatch"]["form_no"] = _next_number(
                tx, "JF", now.year, lambda: ((c.get("dispatch") or {}).get("form_no") for c in tx.scan(TABLE)))
            case["timeline"][-1]["text"] += f"，技术服务单 {case['dispatch']['form_no']}"
        return tx.update(TABLE, case_id, case, expect_rev=case["_rev"], action=action, note=t.label)


# --- The report form -------------------------------------------------------------------------


def _form_time(value) -> datetime | None:
    """A time as the tablet form keeps it ("2026-03-03 10:20", local) or an ISO one."""
    if not value:
        return None
    try:
        return to_local(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def report_prefill(store: Store, case: dict) -> dict:
    """What the report form starts with (the fields as ``perform("report")`` takes them).

    From the on-site steps (arrival, completion, work done, the quick evaluation), the quote
    (paid or free, the amount), and, when the latest archived version of the 技术服务单 was
    signed on the tablet, from the fields and ratings filled there, which win. ``source``
    names that version, or is None.
    """
    onsite = case.get("onsite") or {}
    collect = collects_fee(case)
    quick = (onsite.get("evaluation") or {})
    out = {
        "arrived_at": parse_dt(onsite.get("arrived_at")),
        "completed_at": parse_dt(onsite.get("completed_at")),
        "fault_found": "", "cause": "", "work_done": onsite.get("work_done") or "", "parts": [],
        "charge": "paid" if collect else "free",
        "amount": ((case.get("quote") or {}).get("total") if collect else None),
        "ratings": {"overall": quick["rating"]} if quick.get("rating") in RATINGS else {},
        "remarks": quick.get("remarks") or "",
        "source": None,
    }
    latest = sf.latest_version(store, case["id"])
    fields = (latest or {}).get("fields") or {}
    if not fields:
        return out
    for key in ("arrived_at", "completed_at"):
        out[key] = _form_time(fields.get(key)) or out[key]
    for key in ("fault_found", "cause", "work_done", "remarks"):
        if str(fields.get(key) or "").strip():
            out[key] = str(fields[key]).strip()
    parts = []
    for p in fields.get("parts") or []:
        name = " ".join(x for x in (str(p.get("name") or "").strip(), str(p.get("spec") or "").strip()) if x)
        if name:
            parts.append({"part": name, "quantity": p.get("qty") or ""})
    if parts:
        out["parts"] = parts
    if fields.get("charge") in CHARGES:
        out["charge"] = fields["charge"]
        try:
            out["amount"] = float(fields.get("amount")) if fields["charge"] == "paid" else None
        except (TypeError, ValueError):
            out["amount"] = None
    ratings = {k: v for k, v in (fields.get("ratings") or {}).items() if k in ASPECTS and v in RATINGS}
    if ratings:
        out["ratings"] = ratings
    out["source"] = {"id": latest["id"], "version": latest["version"], "kind": latest["kind"]}
    return out


# --- Lists -------------------------------------------------------------------------------------


def my_work(store: Store, user: dict, now: datetime) -> list[dict]:
    """The cases waiting for ``user``: [{case, actions, due}], most urgent first."""
    out = []
    for case in store.scan(TABLE):
        if case.get("state") == "closed" and not fines.pending(case):
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


# --- Benchmark --------------------------------------------------------------------------------


def bench_transition(store: Store, n: int, cal: WorkCalendar | None = None) -> list[float]:
    """Seconds per workflow transition, ``n`` of them, on whatever data ``store`` holds.

    Adds ``n`` service requests (a 技质部 user's intake, so they wait for the decision) to the
    first product found, then times ``perform("decide")`` on each: a full transition with its
    transaction, guards, deadline and audit entry. Run it on a copy of the data set.
    """
    cal = cal or WorkCalendar.default()
    product = store.first(PRODUCTS, lambda p: True)
    if product is None:
        raise CaseError("基准测试需要至少一个产品")
    user = {"username": "bench", "roles": ["tq_engineer"]}
    now = datetime.now()
    times = []
    for i in range(n):
        case = intake(store, cal, {
            "type": "service_request", "customer_id": product["customer_id"],
            "product_serial": product["serial_no"], "caller_name": "基准", "caller_phone": "000",
            "channel": "phone", "description": f"基准测试 {i}",
        }, user, now=now)
        t0 = _time.perf_counter()
        perform(store, cal, case["id"], "decide", user, {
            "solution": "phone_guidance", "analysis": "基准", "guidance": "基准",
        }, expect_rev=case["_rev"], now=now)
        times.append(_time.perf_counter() - t0)
    return times
