"""报价单 (5.2.3—5.2.5, 6.2.4): the printable quotation of a paid on-site service, an A4 PDF in
the 技术服务单's fonts (records.core.pdf, pdf_templates/quotation.html + .css).

It shows the solution (6.2.2), the service fee (5.2.3), the parts at 财务部's prices (5.2.4), the
total and the validity (``policy.QUOTE_VALID_DAYS``, company practice): once sent, as sent (the
date, how and to whom, valid until the date fixed by the send step, records.cases.steps.quote);
before, as a draft dated today. Rendered from the case on each request: a sent quote never
changes (the quote step is open only before the sending). Plain Python: no Flask.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from records import policy
from records.calendar.workdays import parse_local, to_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.service_forms.fields import COMPANY
from records.users.accounts import display_names

from .flow import quote_priced, quote_total
from .steps.quote import SEND_METHODS
from .vocab import SOLUTIONS


def available(case: dict) -> bool:
    """Whether the case has a 报价单 to print: a quote whose every part 财务部 priced (5.2.4)."""
    return bool(case.get("quote")) and quote_priced(case)


def _money(v) -> str:
    return f"{float(v or 0):,.2f}"


def quotation_context(store: Store, case: dict, now: datetime) -> dict:
    """The template context of the case's 报价单 (``available`` must hold)."""
    q = case["quote"]
    customer = store.get(CUSTOMERS, case.get("customer_id") or 0) or {}
    product = store.get(PRODUCTS, case.get("product_id") or 0) or {}
    decision = case.get("decision") or {}
    names = display_names(store)
    sent = parse_local(q.get("sent_at")) if q.get("sent_at") else None
    day: date = (sent or to_local(now)).date()
    days = int(q.get("valid_days") or policy.QUOTE_VALID_DAYS)
    valid_until = q.get("valid_until") or (day + timedelta(days=days)).isoformat()
    parts = [{"no": i, "name": p["part"], "quantity": f"{float(p['quantity']):g}", "unit": _money(p["unit_price"]),
              "amount": _money(float(p["unit_price"]) * float(p["quantity"]))}
             for i, p in enumerate(q.get("parts") or [], 1)]
    return {
        "company": COMPANY, "number": case.get("number") or "", "date": day.isoformat(), "draft": sent is None,
        "customer_name": customer.get("name") or case.get("customer_name") or "",
        "customer_address": customer.get("address") or "",
        "recipient": q.get("recipient") or case.get("caller_name") or "",
        "contact_phone": case.get("caller_phone") or "",
        "product": " ".join(x for x in (product.get("model"), product.get("name")) if x),
        "serial_no": product.get("serial_no") or case.get("product_serial") or "",
        "warranty": decision.get("warranty_label") or "",
        "misuse": decision.get("misuse_reason") if decision.get("misuse") else "",
        "fault": case.get("description") or "", "analysis": decision.get("analysis") or "",
        "solution": SOLUTIONS.get(decision.get("solution") or "", ""), "note": q.get("note") or "",
        "service_fee": _money(q.get("service_fee")), "parts": parts, "discounted": bool(q.get("discounted_parts")),
        "total": _money(quote_total(case)), "valid_days": days, "valid_until": valid_until,
        "method": SEND_METHODS.get(q.get("method") or "", ""), "address": q.get("address") or "",
        "drafted_by": names.get(q.get("drafted_by"), q.get("drafted_by") or ""),
        "sent_by": names.get(q.get("sent_by"), q.get("sent_by") or ""),
        "valid_basis": "公司规定（公司参数）",
    }


def render_quotation(store: Store, case: dict, now: datetime) -> bytes:
    """The case's 报价单 (5.2.5, 6.2.4) as PDF bytes."""
    return render_template_pdf("quotation.html", quotation_context(store, case, now))


def filename(case: dict) -> str:
    return f"报价单-{case.get('number') or case['id']}.pdf"


def ascii_filename(case: dict) -> str:
    return f"quotation-{case.get('number') or case['id']}.pdf"
