"""Correcting a case's intake fields with a reason (the ``correct`` action; housekeeping, no clause
of its own, but it applies again the rules that follow from the fields: the warranty of 6.2.2,
the deadlines of 6.1.3, 6.2.1, 6.2.2, and the 6.1.4 proposal of a late hand-over).

Before the case is decided (``flow.decided``) 技质部 may correct every intake field; a type
change (consultation ↔ service request) only then. After it 技质部经理 alone, and only the
caller, the phone and the description; anything else needs 作废 and a new record. Each
correction is one timeline entry (kind ``correction``) with every field before → after.

A changed call time (``received_at``) moves every deadline counted from it and re-evaluates
6.1.4: a hand-over now late gets its proposal; one now on time has its proposal withdrawn if
nobody ruled on it yet; a ruled one stays, and the 技质部 managers are told in their inbox.
"""
from __future__ import annotations

from datetime import datetime

from records import policy
from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.catalog.products import warranty
from records.core.transaction import Transaction
from records.fines.proposals import add_proposal, find
from records.fines.rulings import STATUSES as FINE_STATUSES
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import person_name, users_with_role
from records.users.roles import TQ_MANAGER

from .. import input as checked
from .. import timeline
from ..deadlines import recomputed, set_deadline
from ..flow import decided
from ..vocab import CHANNELS, TABLE, TYPES, CaseError

FIELDS = {"type": "类型", "customer_id": "顾客单位", "product_serial": "产品编号", "caller_name": "来电人姓名",
          "caller_phone": "来电人电话", "channel": "来源渠道", "description": "顾客反映的内容",
          "received_at": "收到时间"}
AFTER_DECISION = ("caller_name", "caller_phone", "description")  # what 技质部经理 may still correct
MAX_REASON = 500


def _minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def _read(tx: Transaction, case: dict, data: dict, now: datetime) -> dict:
    """{field: new value} of the fields in ``data`` that differ from the case, each checked as at
    intake (a customer is its document, a product its document or None, a time a datetime)."""
    new: dict = {}
    if "type" in data and data["type"] != case["type"]:
        if data["type"] not in TYPES:
            raise CaseError("请选择类型（咨询或质量问题）", "type")
        new["type"] = data["type"]
    if "channel" in data and data["channel"] != case["channel"]:
        if data["channel"] not in CHANNELS:
            raise CaseError("请选择来源渠道", "channel")
        new["channel"] = data["channel"]
    if "customer_id" in data:
        try:
            cid = int(data.get("customer_id") or 0)
        except (TypeError, ValueError):
            raise CaseError("请选择顾客单位", "customer_id") from None
        if cid != (case.get("customer_id") or 0):
            customer = tx.get(CUSTOMERS, cid) if cid else None
            if customer is None:
                raise CaseError("请选择顾客单位", "customer_id")
            new["customer_id"] = customer
    if "product_serial" in data:
        serial = checked.text(data, "product_serial", "产品编号", required=False, max_len=60)
        if serial != (case.get("product_serial") or ""):
            product = next((p for p in tx.scan(PRODUCTS) if p["serial_no"] == serial), None) if serial else None
            if serial and product is None:
                raise CaseError(f"没有产品编号为 {serial} 的产品", "product_serial")
            new["product_serial"] = product
    for field, max_len in (("caller_name", 40), ("caller_phone", 40), ("description", 4000)):
        if field in data:
            value = checked.text(data, field, FIELDS[field], max_len=max_len)
            if value != (case.get(field) or ""):
                new[field] = value
    if "received_at" in data:
        at = checked.when(data, "received_at", "收到时间", now)
        recorded = parse_local(case.get("recorded_at")) or now
        if _minute(at) > _minute(recorded):
            raise CaseError(f"收到时间不能晚于登记时间（{recorded:%Y-%m-%d %H:%M}）", "received_at")
        if _minute(at) != _minute(parse_local(case["received_at"])):
            new["received_at"] = at
    return new


def _check(tx: Transaction, case: dict, new: dict) -> tuple[int, dict | None]:
    """The customer and product the case will have, checked together; refuse what does not fit."""
    customer_id = new["customer_id"]["id"] if "customer_id" in new else case.get("customer_id")
    if "product_serial" in new:
        product = new["product_serial"]
    else:
        product = tx.get(PRODUCTS, case["product_id"]) if case.get("product_id") else None
    kind = new.get("type", case["type"])
    if kind == "service_request" and product is None:
        raise CaseError("质量问题须填写产品编号", "product_serial")
    if product is not None and product["customer_id"] != customer_id:
        customer = tx.get(CUSTOMERS, customer_id) or {}
        field = "product_serial" if "product_serial" in new else "customer_id"
        name = customer.get("name", "该顾客单位")
        raise CaseError(f"产品 {product['serial_no']} 不属于 {name}，请同时更正顾客单位和产品编号", field)
    return customer_id, product


def _shown(tx: Transaction, case: dict, field: str, value) -> str:
    """A field's value as the timeline shows it."""
    if field == "type":
        return TYPES.get(value, value or "")
    if field == "channel":
        return CHANNELS.get(value, value or "")
    if field == "customer_id":
        return (tx.get(CUSTOMERS, value) or {}).get("name", "") if value else ""
    if field == "received_at":
        return f"{parse_local(value):%Y-%m-%d %H:%M}" if value else ""
    return str(value or "")


def _rebase(case: dict, cal: WorkCalendar, new_at: datetime) -> None:
    """Move the call time and everything counted from it: the deadlines started at the call
    (6.1.3, 6.2.1, and 6.2.2 when 技质部 took the call), the times that were the call's own."""
    old = parse_local(case["received_at"])
    new_iso = iso_local(new_at)
    # 6.2.2 runs from the call only when 技质部 took it (no 6.1.3 deadline); else from the
    # recording, which the call time does not move (GLOSSARY)
    taken_by_tq = "handover" not in (case.get("deadlines") or {})
    for key, entry in (case.get("deadlines") or {}).items():
        if key == "decision" and not taken_by_tq:
            continue
        if parse_local(entry["start"]) == old:
            d = recomputed(key, entry, cal, new_at)
            if d is not None:
                case["deadlines"][key] = {**entry, **d.to_dict()}
        if key != "handover" and entry.get("done_at") and parse_local(entry["done_at"]) == old:
            # met at the call itself (a direct answer); the hand-over is met at the recording, which
            # the call time does not move (6.1.3)
            case["deadlines"][key]["done_at"] = new_iso
    if taken_by_tq and case.get("tq_received_at") and parse_local(case["tq_received_at"]) == old:
        case["tq_received_at"] = new_iso
    if case.get("direct_answer") and parse_local(case["direct_answer"]["at"]) == old:
        case["direct_answer"]["at"] = new_iso
    case["received_at"] = new_iso


def _retype(case: dict, kind: str, cal: WorkCalendar) -> None:
    """Consultation ↔ service request before any reply or decision: its deadline and state."""
    case["type"] = kind
    deadlines = case.setdefault("deadlines", {})
    if kind == "service_request":
        deadlines.pop("consult_reply", None)
        case["reply_assignee"] = None
        if case["state"] == "awaiting_reply":
            case["state"] = "awaiting_decision"
        if case.get("tq_received_at"):
            set_deadline(case, "decision", dl.decision_deadline(cal, parse_local(case["tq_received_at"])))
    else:
        deadlines.pop("decision", None)
        set_deadline(case, "consult_reply", dl.consult_reply_deadline(cal, parse_local(case["received_at"])))
        if case["state"] == "awaiting_decision":
            case["state"] = "awaiting_reply"


def reassess_handover(tx: Transaction, case: dict, by: str, now: datetime) -> str:
    """6.1.4 after the call time moved: add, withdraw or keep the late hand-over's proposal; the
    words for the timeline ("" when nothing changed)."""
    entry = (case.get("deadlines") or {}).get("handover")
    if entry is None:
        return ""
    done = parse_local(entry.get("done_at"))
    late = (done or now) > parse_local(entry["due"])
    fine = find(case, "handover")
    rule = policy.FINE_HANDOVER_LATE
    if late and fine is None:
        add_proposal(case, "handover", rule, case.get("received_by"), now, by=by)
        return f"传递技质部已超过 {policy.HANDOVER.value} 个工作小时，已提出 {rule.clause} 处罚建议"
    if late or fine is None:
        return ""
    if fine["status"] == "proposed":
        case["fines"].remove(fine)
        return f"传递技质部未超期，已撤回未处理的 {rule.clause} 处罚建议"
    status = FINE_STATUSES.get(fine["status"], fine["status"])
    title = f"{case.get('number') or '#' + str(case['id'])} {case.get('customer_name', '')}".strip()
    body = (f"案例 {title} 的收到时间已由 {person_name(tx, by)} 更正，按更正后的时间传递技质部未超期，"
            f"但该 {rule.clause} 处罚（{person_name(tx, fine['person'])}）已处理（{status}），保持不变。请复核。")
    managers = sorted(u["username"] for u in users_with_role(tx.store, TQ_MANAGER) if u["username"] != by)
    queue(tx, [Notice(m, "fine_review", f"【请复核处罚】{title}：收到时间已更正（{rule.clause}）", body,
                      key=f"fine_review:{case['id']}:handover:{case['_rev']}:{m}", link=f"/cases/{case['id']}",
                      ref={"table": TABLE, "id": case["id"]}) for m in managers], now)
    return f"{rule.clause} 处罚已处理（{status}），保持不变，已通知技质部经理复核"


def correct(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """Correct the intake fields with a reason (who and when: the module's docstring)."""
    by = user["username"]
    reason = checked.text(data, "reason", "更正理由", max_len=MAX_REASON)
    new = _read(tx, case, data, now)
    if not new:
        raise CaseError("没有需要更正的内容：请至少修改一项")
    if decided(case):
        if "type" in new:
            raise CaseError("已答复或已确定解决方案，不能更改类型；如登记有误，请作废后重新登记", "type")
        other = [f for f in FIELDS if f in new and f not in AFTER_DECISION]
        if other:
            raise CaseError("已确定解决方案，只能更正来电人、电话和顾客反映的内容；"
                            f"{FIELDS[other[0]]}有误须作废后重新登记", other[0])
    customer_id, product = _check(tx, case, new)
    changes = []
    for field in FIELDS:
        if field not in new:
            continue
        before = case.get(field)
        after = {"customer_id": customer_id, "product_serial": product["serial_no"] if product else "",
                 "received_at": iso_local(new["received_at"]) if "received_at" in new else None}.get(field, new[field])
        changes.append({"field": field, "label": FIELDS[field], "before": _shown(tx, case, field, before),
                        "after": _shown(tx, case, field, after)})
    if "customer_id" in new:
        case["customer_id"], case["customer_name"] = customer_id, new["customer_id"]["name"]
    if "product_serial" in new:
        case["product_id"] = product["id"] if product else None
        case["product_serial"] = product["serial_no"] if product else ""
        case["product_label"] = f"{product['model']} {product['name']}" if product else ""
    for field in ("caller_name", "caller_phone", "description", "channel"):
        if field in new:
            case[field] = new[field]
    if "received_at" in new:
        _rebase(case, cal, new["received_at"])
    if "type" in new:
        _retype(case, new["type"], cal)
    if "product_serial" in new or "received_at" in new:
        if product is None:
            case["warranty"] = None
        else:
            w = warranty(product, parse_local(case["received_at"]).date())
            case["warranty"] = {"in_warranty": w.in_warranty, "last_day": w.last_day.isoformat(), "label": w.label}
    text = "；".join(f"{c['label']}：{c['before'] or '（空）'} → {c['after'] or '（空）'}" for c in changes)
    text += f"。理由：{reason}"
    fine_text = reassess_handover(tx, case, by, now) if "received_at" in new else ""
    if fine_text:
        text += f"（{fine_text}）"
    timeline.add(case, "correction", by, now, "correct", text, changes=changes, reason=reason, fines=fine_text,
                 **({"fine_key": "handover"} if fine_text else {}))  # its fine's readers only (GLOSSARY 处罚)


HANDLERS = {"correct": correct}
