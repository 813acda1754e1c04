"""The entry points of the case workflow (5, 6): intake (6.1.1, 6.1.2) and ``perform``, which takes
one transition of ``records.cases.flow.TRANSITIONS`` with the handler of its row.

A case is one document in table ``cases``; its ``state`` moves by the transitions, each allowed
to certain people and recorded with who and when in ``timeline`` (and in the audit trail by the
store). Deadlines (``records.cases.deadlines``) are computed with the calendar passed in; fine
proposals live on the case (``records.fines``). Every function takes ``now`` (tests pin time)
and a WorkCalendar ``cal``; no Flask here.
"""
from __future__ import annotations

import copy
from datetime import datetime

from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, now_local
from records.catalog import phones
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.catalog.products import serial_key
from records.core.errors import DomainError, StaleRecord
from records.core.store import Store
from records.core.transaction import Transaction
from records.notifications.outbox import queue
from records.users.accounts import find_by_username
from records.users.roles import is_tq

from . import classification, notices
from . import input as checked
from .deadlines import meet, set_deadline
from .flow import TRANSITIONS, guard_message, guard_ok, log, may
from .numbers import next_number
from .steps import closure, conduct, corrections, decision, fine_decisions, onsite, quote, report, unknown
from .steps import intake as intake_steps
from .steps.intake import hand_over_at_recording
from .vocab import CHANNELS, SOURCE_TABLES, SOURCES, STATES, TABLE, TYPES, UNVERIFIED, CaseError, NotPermitted

# One handler per transition, from the steps modules named by the sections of the regulation.
HANDLERS = {**intake_steps.HANDLERS, **decision.HANDLERS, **quote.HANDLERS, **onsite.HANDLERS, **report.HANDLERS,
            **fine_decisions.HANDLERS, **corrections.HANDLERS, **closure.HANDLERS, **unknown.HANDLERS,
            **conduct.HANDLERS, **classification.HANDLERS}
assert HANDLERS.keys() == TRANSITIONS.keys(), sorted(HANDLERS.keys() ^ TRANSITIONS.keys())


# --- Intake (6.1.1, 6.1.2) ---------------------------------------------------------------


def intake(store: Store, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """Record a consultation (5.2.1, 6.1.1) or a service request (6.1.2); any employee who takes
    a customer's call may. Recording it is its hand-over to 技质部 (6.1.3, GLOSSARY).

    ``data``: type, customer_id, product_serial (required for a service request), unverified +
    unit_text (a unit or serial not in the system, 待核实), caller_name, caller_phone, channel,
    description, received_at (default now; never in the future), received_by (the 接收人 who took
    the call, default ``user``: 技质部 may record a call someone else took), answered_directly +
    direct_answer (consultation only), source (optional: where the case came from, e.g.
    ``{"type": "followup", "id": 7}``, a problem raised on a follow-up call).
    """
    with store.transaction(user["username"]) as tx:
        return intake_tx(tx, cal, data, user, now=now)


def _receiver(tx: Transaction, data: dict, user: dict) -> dict:
    """The 接收人 (6.1.1): who took the call, ``user`` unless another active user is named; only
    技质部 records a call on someone else's behalf (6.1.3, GLOSSARY), who then stays responsible."""
    name = str(data.get("received_by") or "").strip()
    if not name or name == user["username"]:
        return user
    if not is_tq(user):
        raise CaseError("只有技质部可以代他人登记来电；请以本人为接收人登记", "received_by")
    other = find_by_username(tx, name)
    if other is None or not other.get("active", True):
        raise CaseError(f"没有可用的用户 {name}", "received_by")
    return other


def _unit_and_product(tx: Transaction, data: dict, kind: str) -> tuple[dict | None, dict | None, dict | None]:
    """(customer, product, unverified) of an intake: the records found, and what the receiver
    typed that is not in the system ({unit, serial}, 待核实) when ``unverified`` is ticked."""
    unverified = bool(data.get("unverified"))
    serial = checked.text(data, "product_serial", "产品编号", required=(kind == "service_request"), max_len=60)
    product = None
    if serial:
        key = serial_key(serial)
        product = next((p for p in tx.scan(PRODUCTS) if serial_key(p["serial_no"]) == key), None)
        if product is None and not unverified:
            raise CaseError(f"没有产品编号为 {serial} 的产品（确认不在系统中的，请勾选「{UNVERIFIED}」）",
                            "product_serial")
    try:
        customer_id = int(data.get("customer_id") or 0)
    except (TypeError, ValueError):
        raise CaseError("请选择顾客单位", "customer_id") from None
    if not customer_id and product is not None:
        customer_id = product["customer_id"]  # the caller gave the serial number only: its customer
    customer = None
    if customer_id:
        customer = tx.get(CUSTOMERS, customer_id)
        if customer is None:
            raise CaseError("顾客单位不存在", "customer_id")
    if product is not None and customer is not None and product["customer_id"] != customer["id"]:
        raise CaseError(f"产品 {serial} 不属于 {customer['name']}", "product_serial")
    unit = ""
    if customer is None:
        if not unverified:
            raise CaseError("请选择顾客单位（或填写产品编号，由系统带出顾客单位）", "customer_id")
        unit = checked.text(data, "unit_text", f"顾客单位名称（{UNVERIFIED}）", max_len=100)
    missing_serial = serial if product is None else ""
    if not (unit or missing_serial):
        return customer, product, None
    return customer, product, {"unit": unit, "serial": missing_serial}


def intake_tx(tx: Transaction, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """``intake`` inside a transaction the caller holds, so that the case commits (or not)
    together with the caller's own changes (a follow-up call and the case it raised)."""
    now = now_local(now)
    kind = data.get("type")
    if kind not in TYPES:
        raise CaseError("请选择类型（咨询或质量问题）", "type")
    channel = data.get("channel") or "phone"
    if channel not in CHANNELS:
        raise CaseError("请选择来源渠道", "channel")
    customer, product, unverified = _unit_and_product(tx, data, kind)
    caller_name = checked.text(data, "caller_name", "来电人姓名", max_len=40)
    try:
        caller_phone = phones.normalise(checked.text(data, "caller_phone", "来电人电话", max_len=40), "来电人电话",
                                        "caller_phone")
    except DomainError as exc:
        raise CaseError(str(exc), "caller_phone") from None
    description = checked.text(data, "description", "顾客反映的内容")
    received_at = checked.when(data, "received_at", "收到时间", now, default_now=True)
    answered = bool(data.get("answered_directly"))
    answer = checked.text(data, "direct_answer", "直接答复的内容", required=answered) if answered else ""
    if answered and kind != "consultation":
        raise CaseError("只有咨询可以由接收人直接答复（6.1.1）", "answered_directly")
    source = _source(tx, data.get("source"))
    receiver = _receiver(tx, data, user)

    by = user["username"]
    taken_by_tq = is_tq(receiver)
    unit_name = customer["name"] if customer else unverified["unit"]
    case = {
        "type": kind,
        "state": None,  # set by the hand-over at recording (steps.intake)
        "outcome": None,
        "customer_id": customer["id"] if customer else None,
        "customer_name": unit_name,
        "product_id": product["id"] if product else None,
        "product_serial": product["serial_no"] if product else (unverified or {}).get("serial", ""),
        "product_label": f"{product['model']} {product['name']}" if product else "",
        "unverified": unverified,
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "caller_phone_digits": phones.digits(caller_phone),
        "channel": channel,
        "description": description,
        "received_at": iso_local(received_at),
        "received_by": receiver["username"],
        "recorded_at": iso_local(now),
        "recorded_by": by,
        "source": source,
        "tq_received_at": None,
        "tq_owner": receiver["username"] if taken_by_tq else (by if is_tq(user) else None),
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
        case["warranty"] = decision.warranty_of(product, received_at)
    if kind == "consultation":
        set_deadline(case, "consult_reply", dl.consult_reply_deadline(cal, received_at))
    parts = [f"{TYPES[kind]}，{CHANNELS[channel]}，{unit_name}，{caller_name} {caller_phone}"]
    if unverified:
        parts.append(f"{UNVERIFIED}：" + "，".join(f"{k}「{v}」" for k, v in (("单位", unverified["unit"]),
                                                                       ("产品编号", unverified["serial"])) if v))
    if receiver["username"] != by:
        parts.append(f"接收人 {receiver.get('display_name') or receiver['username']}，由他人代为登记")
    if source:
        parts.append(f"来自{SOURCES[source['type']]} #{source['id']}" + (f"（{source['label']}）" if source["label"] else ""))
    if answered:
        case["direct_answer"] = {"text": answer, "by": receiver["username"], "at": iso_local(received_at)}
        meet(case, "consult_reply", received_at)
        parts.append("接收人已直接答复")
    handed = hand_over_at_recording(case, cal, by, now, taken_by_tq)
    log(case, by, now, "intake", "；".join(parts + [handed]))
    told = notices.plan(tx, case, "intake", by)  # 6.1.3: the call recorded is told to 技质部
    notices.record(case, case["timeline"][0], told)
    case["number"] = next_number(tx, "FW", received_at.year, lambda: (c.get("number") for c in tx.scan(TABLE)))
    stored = tx.insert(TABLE, case)
    queue(tx, notices.build(tx, stored, "intake", by, 0, told), now)
    return stored


def _source(tx: Transaction, value) -> dict | None:
    """The checked ``source`` of an intake: {type, id, label} or None.

    The record it names must exist (``SOURCE_TABLES``): a follow-up task, for a problem raised
    on a follow-up call (``records.followups.calls``).
    """
    if not value:
        return None
    if not isinstance(value, dict) or value.get("type") not in SOURCES:
        raise CaseError("案例来源不正确", "source")
    try:
        source_id = int(value.get("id"))
    except (TypeError, ValueError):
        raise CaseError("案例来源不正确", "source") from None
    table, noun = SOURCE_TABLES[value["type"]]
    if tx.get(table, source_id) is None:
        raise CaseError(f"{noun} #{source_id} 不存在", "source")
    label = " ".join(str(value.get("label") or "").split())[:200]
    return {"type": value["type"], "id": source_id, "label": label}


# --- The actions after intake (their handlers: records.cases.steps) -------------------------


def perform(store: Store, cal: WorkCalendar, case_id: int, action: str, user: dict, data: dict | None = None,
            expect_rev: int | None = None, now: datetime | None = None) -> dict:
    """Take one workflow action on a case; return the updated case.

    Raises NotPermitted (the user's role or part forbids it: 403), CaseError (not allowed in
    the current state, or bad input, with the field), StaleRecord (``expect_rev`` is not the
    stored revision: someone else changed the case first; nothing is applied).

    Those the row's ``notify`` names (and those of the fines the step proposed or ruled) get
    their notices in the same transaction (``records.cases.notices``); the step's timeline entry
    says who. The caller sends their mail after the commit (the app does, within a minute).
    """
    if action not in TRANSITIONS:
        raise CaseError(f"未知操作：{action}")
    with store.transaction(user["username"]) as tx:
        return perform_tx(tx, cal, case_id, action, user, data, expect_rev=expect_rev, now=now)


def perform_tx(tx: Transaction, cal: WorkCalendar, case_id: int, action: str, user: dict, data: dict | None = None,
               expect_rev: int | None = None, now: datetime | None = None) -> dict:
    """``perform`` inside the caller's transaction (several actions committed together, e.g. the
    penalty register's bulk ruling). A refusal raised here has changed nothing of the case."""
    if action not in TRANSITIONS:
        raise CaseError(f"未知操作：{action}")
    t = TRANSITIONS[action]
    now = now_local(now)
    data = data or {}
    case = tx.require(TABLE, case_id)
    if expect_rev is not None and int(expect_rev) != case["_rev"]:
        raise StaleRecord(TABLE, case_id, int(expect_rev), case["_rev"])
    if not may(case, user, action):
        raise NotPermitted(f"您无权执行「{t.label}」")
    before = case["state"]
    if before not in t.states:
        raise CaseError(f"案例当前状态为「{STATES[before]}」，不能执行「{t.label}」")
    if not guard_ok(case, action):
        raise CaseError(guard_message(action))
    fines_before = copy.deepcopy(case.get("fines") or [])
    entries = len(case.get("timeline") or [])
    HANDLERS[action](tx, case, user, data, cal, now)
    after = case["state"]
    if after not in (t.to if t.to is not None else {before}):
        # A handler that leaves the table's edges is a bug: nothing of it is committed.
        raise RuntimeError(f"{action}: {before} → {after} 不在状态表中（records.cases.flow）")
    by = user["username"]
    told = notices.plan(tx, case, action, by, fines_before)
    index = len(case["timeline"]) - 1 if len(case.get("timeline") or []) > entries else -1
    notices.record(case, case["timeline"][index] if index >= 0 else None, told)
    stored = tx.update(TABLE, case_id, case, expect_rev=case["_rev"], action=action, note=t.label)
    queue(tx, notices.build(tx, stored, action, by, index, told, fines_before), now)
    return stored
