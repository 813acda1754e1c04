"""The cases a 技术通报 (technical notice) creates: one per affected product, when the notice needs
work on site (issue 18; records/technical_notices/campaign.py calls ``create_for_products``).

GLOSSARY (binding): a case created from a technical notice is free whatever the warranty, starts
at dispatch (``awaiting_dispatch``, 待派出) with the notice's own due date (deadline
``notice_due``) and has none of the customer-request clocks — no 6.1.3 hand-over, 6.2.1 reply,
6.2.2 decision or 5.1.1.3 arrival deadline. From the dispatch on it is any on-site service:
6.2.5–6.2.8 and the 技术服务单 apply. The case links the notice (``source``: type
``technical_notice``); one case per notice and product, so a second run creates nothing new.

The cases sit below the technical notices (import-linter): the notice comes in as a plain dict
``{"id", "number", "title", "onsite_due"}`` (``onsite_due``: an ISO date, the last day).
"""
from __future__ import annotations

from datetime import date, datetime, time

from records.calendar.time_limits import Deadline
from records.calendar.workdays import iso_local, now_local, to_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.transaction import Transaction

from .flow import log
from .numbers import next_number
from .steps.decision import warranty_of
from .vocab import CAMPAIGN_SOURCE, TABLE, CaseError

SOURCE = CAMPAIGN_SOURCE  # the case's source type (records.cases.vocab.SOURCES)
DEADLINE = "notice_due"  # met when the on-site work is completed (records.cases.steps.onsite.complete)
CLAUSE = "技术通报"  # no clause of the regulation: the notice's own due date


def notice_deadline(notice: dict, now: datetime) -> Deadline:
    """The notice's own due date as the case's deadline: the end of its last day."""
    due_day = date.fromisoformat(notice["onsite_due"])
    due = to_local(datetime.combine(due_day, time(23, 59)))
    return Deadline(CLAUSE, f"技术通报 {notice['number']} 要求 {due_day:%Y-%m-%d} 前完成现场工作", to_local(now), due)


def existing(source, notice_id: int) -> dict[int, dict]:
    """{product id: case} of the cases already created for the notice (``source``: Store or Transaction)."""
    return {c["product_id"]: c for c in source.scan(TABLE)
            if (c.get("source") or {}).get("type") == SOURCE and c["source"].get("id") == notice_id}


def create_tx(tx: Transaction, notice: dict, product: dict, by: str, now: datetime) -> dict:
    """One case for ``product`` under ``notice``, at dispatch, free, with only the notice's deadline."""
    now = now_local(now)
    customer = tx.get(CUSTOMERS, product["customer_id"])
    if customer is None:
        raise CaseError(f"产品 {product['serial_no']} 的顾客单位不存在")
    w = warranty_of(product, now)
    text = f"技术通报 {notice['number']}：{notice['title']}"
    case = {
        "type": "service_request", "state": "awaiting_dispatch", "outcome": None,
        "customer_id": customer["id"], "customer_name": customer["name"],
        "product_id": product["id"], "product_serial": product["serial_no"],
        "product_label": f"{product['model']} {product['name']}", "unverified": None,
        "caller_name": "", "caller_phone": "", "caller_phone_digits": "", "channel": "other",
        "description": f"按{text}到现场实施", "received_at": iso_local(now), "received_by": by,
        "recorded_at": iso_local(now), "recorded_by": by,
        "source": {"type": SOURCE, "id": notice["id"], "label": notice["number"]},
        "technical_notice": {"id": notice["id"], "number": notice["number"]},
        "tq_received_at": iso_local(now), "tq_owner": by, "direct_answer": None, "reply_assignee": None,
        "reply": None, "warranty": w,
        # Free whatever the warranty (GLOSSARY): the company's own retrofit or check, decided by the notice.
        "decision": {"in_warranty": bool(w.get("in_warranty")), "warranty_label": w.get("label", ""),
                     "misuse": False, "misuse_reason": "", "analysis": text, "participants": "",
                     "solution": "onsite_free", "guidance": "", "guidance_solved": None,
                     "decided_by": by, "decided_at": iso_local(now), "technical_notice": notice["number"]},
        "quote": None, "customer_response": None, "vp_approval": None, "dispatch": None, "onsite": None,
        "report": None, "audit": None, "deadlines": {}, "fines": [], "timeline": [],
    }
    case["deadlines"][DEADLINE] = {**notice_deadline(notice, now).to_dict(), "done_at": None, "responsible": by}
    log(case, by, now, "technical_notice",
        f"由{text}建立，免费现场服务（不论是否在质保期内），待派出；"
        f"完成期限 {notice['onsite_due']}（无 6.1.3、6.2.1、6.2.2、5.1.1.3 期限）")
    case["timeline"][-1]["label"] = "由技术通报建立"
    case["number"] = next_number(tx, "FW", now.year, lambda: (c.get("number") for c in tx.scan(TABLE)))
    return tx.insert(TABLE, case)


def create_for_products(tx: Transaction, notice: dict, product_ids: list[int], by: str,
                        now: datetime) -> tuple[list[dict], list[dict]]:
    """(created, already there): a case per product of ``product_ids`` that has none for the notice
    yet (idempotent per notice and product), waiting for its dispatch (6.2.5); 6.2.5–6.2.8 and the
    技术服务单 then apply as to any on-site service. A product no longer in the ledger is skipped."""
    if not notice.get("onsite_due"):
        raise CaseError("该技术通报没有现场工作完成期限", "onsite_due")
    have = existing(tx, notice["id"])
    created, there = [], []
    for pid in product_ids:
        if pid in have:
            there.append(have[pid])
            continue
        product = tx.get(PRODUCTS, pid)
        if product is None:
            continue
        made = create_tx(tx, notice, product, by, now)
        have[pid] = made
        created.append(made)
    return created, there
