"""Paid on-site service (5.2.3—5.2.5, 6.2.4): the quote, its prices, the customer's answer, the VP.

Sending (5.2.5, 6.2.4) records how (``SEND_METHODS``), when and to whom the 报价单
(records/cases/quotation.py) went, and fixes its validity (``policy.QUOTE_VALID_DAYS``, company
practice). The customer's answer may attach their written confirmation: checked as every upload
(records.cases.notes.check_attachment), its bytes kept by SHA-256 and a ``case_notes`` attachment
(category ``confirmation``) written in the step's own transaction, so it is listed on the case page.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from records import policy
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.errors import DomainError
from records.core.files import put_blob
from records.core.transaction import Transaction
from records.materials import parts as parts_catalogue

from .. import classification, notes
from .. import input as checked
from ..flow import log, quote_total
from ..vocab import CaseError
from .decision import arrival_from

SEND_METHODS = {"mail": "邮寄", "fax": "传真", "email": "电子邮件", "in_person": "面交", "phone": "电话"}


def quote(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """5.2.3, 5.2.4: 技质部 drafts the quote: the service fee and the parts to price (at a discount
    for a misuse in warranty, 5.1.1.2)."""
    by = user["username"]
    fee = checked.money(data.get("service_fee"), "service_fee", "服务费")
    parts = []
    for row in checked.lines(data, "parts"):
        part = catalogue_part(tx, row)
        if part and not str(row.get("part") or "").strip():
            row = {**row, "part": part["name"]}  # picked from the catalogue: its name
        name = checked.row_text(row, "part", "备件名称", "parts")
        qty = checked.quantity(row.get("quantity"), f"备件 {name} ", "parts")
        parts.append({"part": name, "quantity": qty, "unit_price": None, "priced_by": None, "priced_at": None,
                      **({"part_code": part["code"], "catalogue_price": part.get("sale_price")} if part else {})})
    note = checked.text(data, "note", "报价说明", required=False)
    misuse = bool((case.get("decision") or {}).get("misuse"))
    case["quote"] = {"service_fee": fee, "parts": parts, "note": note, "discounted_parts": misuse,
                     "drafted_by": by, "drafted_at": iso_local(now), "sent_by": None, "sent_at": None}
    log(case, by, now, "quote", f"服务费 {fee:.2f} 元，备件 {len(parts)} 项" + ("，待财务部报价" if parts else ""))


def catalogue_part(tx: Transaction, row: dict) -> dict | None:
    """5.2.4: the catalogue part a quote line names by its code (records.materials.parts), whose
    sale price (set by 财务部) the pricing step starts from; None for a line typed by hand."""
    code = str(row.get("code") or "").strip()
    if not code:
        return None
    part = parts_catalogue.get_by_code(tx, code)
    if part is None:
        raise CaseError(f"物料目录中没有编码 {code}", "parts")
    return part


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
    method = data.get("method")
    if method not in SEND_METHODS:
        raise CaseError("请选择通知方式", "method")
    drafted = parse_local(q.get("drafted_at"))
    at = checked.when(data, "sent_at", "发出时间", now, not_before=drafted, before_label="编制报价的时间",
                      default_now=True)
    recipient = checked.text(data, "recipient", "顾客方接收人", max_len=40)
    address = checked.text(data, "address", "传真号、邮箱或地址", required=False, max_len=200)
    days = int(policy.parameter(tx, "quote_valid_days"))  # company parameter (公司参数)
    q.update(sent_by=by, sent_at=iso_local(at), recorded_at=iso_local(now), total=quote_total(case),
             method=method, recipient=recipient, address=address, valid_days=days,
             valid_until=(at.date() + timedelta(days=days)).isoformat())
    case["state"] = "awaiting_customer"
    log(case, by, now, "send_quote", f"已将解决方案和费用以{SEND_METHODS[method]}通知顾客 {recipient}"
        f"（{at:%Y-%m-%d %H:%M}），合计 {q['total']:.2f} 元，报价有效期至 {q['valid_until']}")


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
                                 "note": note, "recorded_by": by, "recorded_at": iso_local(now),
                                 "confirmation_note_id": None}
    if data.get("confirmation"):
        attached = _attach_confirmation(tx, case, by, now, data["confirmation"], data.get("confirmation_filename"))
        case["customer_response"]["confirmation_note_id"] = attached["id"]
    if accepted:
        case["state"] = "awaiting_dispatch"
        arrival_from(case, at, tx)  # 5.2.5: from the confirmation
        log(case, by, now, "customer_response", f"{person} 确认承担费用（{at:%Y-%m-%d %H:%M}）")
    else:
        case["state"] = "awaiting_vp"
        log(case, by, now, "customer_response", f"{person} 拒绝承担费用（{at:%Y-%m-%d %H:%M}），报分管副总")


def _attach_confirmation(tx: Transaction, case: dict, by: str, now: datetime, content: bytes,
                         filename: str | None) -> dict:
    """The customer's written confirmation (5.2.5) as a case attachment, in the step's transaction."""
    try:
        file = notes.check_attachment(content, str(filename or ""))
    except DomainError as exc:
        raise CaseError(str(exc), "confirmation") from exc
    name = Path(str(filename or "").replace("\\", "/")).name.strip()[:notes.MAX_FILENAME] or f"顾客书面确认.{file.ext}"
    sha = put_blob(notes.files_dir(tx.store), file.data)  # the bytes first: a note never names a missing file
    return tx.insert(notes.TABLE, {
        "case_id": case["id"], "kind": "attachment", "text": "顾客书面确认（随顾客答复上传，5.2.5）", "by": by,
        "at": iso_local(now), "file": {"sha256": sha, "size": len(file.data), "mime": file.mime, "type": file.kind,
                                       "filename": name, "category": "confirmation"}})


def vp_decision(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.4: after a refusal, the VP approves the service (arrival from the approval) or not."""
    by = user["username"]
    approved = checked.yes_no(data, "approved", "请选择批准或不批准")
    reason = checked.text(data, "reason", "审批意见")
    (classification.provisional if approved else classification.finalize)(tx, case, data, by, now)  # 9.3
    case["vp_approval"] = {"approved": approved, "by": by, "at": iso_local(now), "reason": reason}
    if approved:
        case["state"] = "awaiting_dispatch"
        arrival_from(case, now, tx)  # 6.2.4: from the approval
        log(case, by, now, "vp_decision", f"批准提供售后服务：{reason}")
    else:
        case["state"], case["outcome"] = "closed", "refused"
        log(case, by, now, "vp_decision", f"不批准，结案：{reason}")


HANDLERS = {"quote": quote, "price": price, "send_quote": send_quote, "customer_response": customer_response, "vp_decision": vp_decision}
