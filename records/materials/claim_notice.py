"""The supplier notice (3.1 「通知外购件生产厂家」): an A4 PDF letter to the maker of a failed
bought-in or outsourced part, with the failure, the part, the case, the warranty, the evidence
listed and the compensation claimed (pdf_templates/supplier_notice.html + .css, records.core.pdf).

Archived when the claim is sent (records.materials.claims.send); before that it renders as a
draft. Plain Python.
"""
from __future__ import annotations

from decimal import Decimal

from records import policy
from records.calendar.workdays import now_local, parse_local
from records.catalog import categories
from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.users.accounts import display_names

from . import suppliers, warranty

LINE_KINDS = {"parts": "零部件", "labour": "人工", "travel": "差旅", "other": "其他损失"}


def _money(value) -> str:
    return f"{Decimal(str(value or 0)):,.2f}"


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def context(store: Store, claim: dict) -> dict:
    """The template context of the claim's supplier notice."""
    supplier = suppliers.get(store, claim["supplier_id"]) or {}
    contact = next(iter(supplier.get("contacts") or []), {})
    sent = parse_local(claim.get("sent_at"))
    names = display_names(store)
    w = claim.get("warranty") or {}
    days = policy.parameter(store, "claim_reply_days")
    return {
        "number": claim.get("number") or "", "draft": sent is None,
        "date": (sent or now_local()).date().isoformat(),
        "supplier": supplier.get("name", ""), "address": supplier.get("address", ""),
        "contact": " ".join(x for x in (contact.get("name"), contact.get("phone"), contact.get("email")) if x),
        "case_number": claim.get("case_number") or str(claim.get("case_id") or ""),
        "inspection_id": claim.get("inspection_id"),
        "part_code": claim.get("part_code") or "", "part_text": claim.get("part_text") or "",
        "failure": claim.get("failure") or "",
        "cause": categories.name_of(store, "cause", claim.get("cause_category")),
        "warranty_months": w.get("months", ""), "warranty_basis": warranty.BASES.get(w.get("basis"), ""),
        "warranty_start": w.get("start", ""), "warranty_until": w.get("until", ""), "failed_on": w.get("failed_on", ""),
        "lines": [{"no": i, "kind": LINE_KINDS.get(x["kind"], x["kind"]), "text": x["text"], "amount": _money(x["amount"])}
                  for i, x in enumerate(claim.get("lines") or [], 1)],
        "total": _money(claim.get("amount")),
        "evidence": [{"no": i, "name": e["filename"], "size": _size(e["size"]), "sha": e["sha256"][:16]}
                     for i, e in enumerate(claim.get("evidence") or [], 1)],
        "reply_days": days, "reply_due": claim.get("reply_due") or "",
        "sender": names.get(claim.get("sent_by") or claim.get("created_by"), ""),
    }


def render(store: Store, claim: dict) -> bytes:
    """The supplier notice of ``claim`` as PDF bytes (3.1)."""
    return render_template_pdf("supplier_notice.html", context(store, claim))


def filename(claim: dict) -> str:
    return f"供应商质量问题通知及索赔函-{claim.get('number') or claim['id']}.pdf"
