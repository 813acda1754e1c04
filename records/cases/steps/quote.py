"""Paid on-site service (5.2.3—5.2.5, 6.2.4): the quote, its prices, the customer's answer, the VP."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.transaction import Transaction

from .. import input as checked
from ..flow import log, quote_total
from ..vocab import CaseError
from .decision import arrival_from


def quote(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """5.2.3, 5.2.4: 技质部 drafts the quote: the service fee and the parts to price (at a discount
    for a misuse in warranty, 5.1.1.2)."""
    by = user["username"]
    fee = checked.money(data.get("service_fee"), "service_fee", "服务费")
    parts = []
    for row in checked.lines(data, "parts"):
        name = checked.row_text(row, "part", "备件名称", "parts")
        qty = checked.quantity(row.get("quantity"), f"备件 {name} ", "parts")
        parts.append({"part": name, "quantity": qty, "unit_price": None, "priced_by": None, "priced_at": None})
    note = checked.text(data, "note", "报价说明", required=False)
    misuse = bool((case.get("decision") or {}).get("misuse"))
    case["quote"] = {"service_fee": fee, "parts": parts, "note": note, "discounted_parts": misuse,
                     "drafted_by": by, "drafted_at": iso_local(now), "sent_by": None, "sent_at": None}
    log(case, by, now, "quote", f"服务费 {fee:.2f} 元，备件 {len(parts)} 项" + ("，待财务部报价" if parts else ""))


def price(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """5.2.4: 财务部 prices every part of the quote."""
    by = user["username"]
    parts = case["quote"]["parts"]
    prices = data.get("prices") or []
    if len(prices) != len(parts):
        raise CaseError("备件价格的行数与报价不符，请刷新页面", "prices")
    for p, price in zip(parts, prices):
        p["unit_price"] = checked.money(price, "prices", f"备件 {p['part']} 的单价")
        p["priced_by"], p["priced_at"] = by, iso_local(now)
    log(case, by, now, "price", "；".join(f"{p['part']} {p['unit_price']:.2f} 元" for p in parts))


def send_quote(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """5.2.5, 6.2.4: the solution and the fees are told to the customer."""
    by = user["username"]
    q = case["quote"]
    q["sent_by"], q["sent_at"], q["total"] = by, iso_local(now), quote_total(case)
    case["state"] = "awaiting_customer"
    log(case, by, now, "send_quote", f"已将解决方案和费用通知顾客，合计 {q['total']:.2f} 元")


def customer_response(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.4: the customer accepts the fees (arrival from the confirmation, 5.2.5) or refuses;
    销售部 may record it (3.2: coordination with the customer)."""
    by = user["username"]
    accepted = checked.yes_no(data, "accepted", "请选择顾客确认或拒绝")
    sent = parse_local(case["quote"]["sent_at"])
    at = checked.when(data, "responded_at", "顾客答复时间", now, not_before=sent, before_label="通知费用的时间")
    person = checked.text(data, "person", "顾客方答复人", max_len=40)
    note = checked.text(data, "note", "备注", required=False)
    case["customer_response"] = {"accepted": accepted, "responded_at": iso_local(at), "person": person,
                                 "note": note, "recorded_by": by, "recorded_at": iso_local(now)}
    if accepted:
        case["state"] = "awaiting_dispatch"
        arrival_from(case, at, tx)  # 5.2.5: from the confirmation
        log(case, by, now, "customer_response", f"{person} 确认承担费用（{at:%Y-%m-%d %H:%M}）")
    else:
        case["state"] = "awaiting_vp"
        log(case, by, now, "customer_response", f"{person} 拒绝承担费用（{at:%Y-%m-%d %H:%M}），报分管副总")


def vp_decision(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.4: after a refusal, the VP approves the service (arrival from the approval) or not."""
    by = user["username"]
    approved = checked.yes_no(data, "approved", "请选择批准或不批准")
    reason = checked.text(data, "reason", "审批意见")
    case["vp_approval"] = {"approved": approved, "by": by, "at": iso_local(now), "reason": reason}
    if approved:
        case["state"] = "awaiting_dispatch"
        arrival_from(case, now, tx)  # 6.2.4: from the approval
        log(case, by, now, "vp_decision", f"批准提供售后服务：{reason}")
    else:
        case["state"], case["outcome"] = "closed", "refused"
        log(case, by, now, "vp_decision", f"不批准，结案：{reason}")


HANDLERS = {"quote": quote, "price": price, "send_quote": send_quote, "customer_response": customer_response, "vp_decision": vp_decision}
