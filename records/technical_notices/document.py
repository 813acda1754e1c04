"""The 技术通报 as an A4 PDF (WeasyPrint, pdf_templates/technical_notice.html with the 技术服务单's
fonts), and its archiving when issued: ``archive`` is the ONE place the PDF's bytes are made and
kept (content-addressed under the data folder's files/, immutable; the issuing transaction records
its SHA-256 in the audit trail). The company's signature (issue 18) is added here."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import iso_local
from records.core import signing
from records.core.files import put_blob, read_blob
from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.service_forms.fields import COMPANY
from records.users.accounts import display_name, find_by_username

from . import selection
from .vocab import KINDS, METHODS


def _name(source, username: str | None) -> str:
    user = find_by_username(source, username) if username else None
    return display_name(user) if user else (username or "")


def notice_pdf(source, notice: dict) -> bytes:
    """The A4 PDF of an issued notice: number, model, kind, text, the products covered, the
    acknowledgement asked for, the on-site work and its due date."""
    affected = notice.get("affected") or []
    context = {
        "company": COMPANY, "n": notice, "kind": KINDS.get(notice["kind"], notice["kind"]),
        "scope": selection.describe(notice["selection"]), "count": len(affected),
        "serials": [p["serial_no"] for p in affected][:200], "more": max(0, len(affected) - 200),
        "issuer_name": _name(source, notice.get("issued_by")),
        "issued_at": (notice.get("issued_at") or "")[:16].replace("T", " "),
        "methods": "、".join(METHODS.values()),
    }
    return render_template_pdf("technical_notice.html", context)


def archive(store: Store, notice: dict, now: datetime) -> dict:
    """Render and keep the PDF of ``notice`` as issued; return what the notice records of it
    ({sha256, size, archived_at, signature}). The bytes are never changed afterwards. The PDF
    carries the company's PAdES signature when the key is configured (issue 18; unsigned, never
    refused, without one: the result is kept in ``signature``)."""
    label = f"技术通报 {notice.get('number', '')}"
    signed = signing.sign_for_archive(store.root, notice_pdf(store, notice), "application/pdf",
                                      reason=label, title=label)
    pdf = signed.content
    return {"sha256": put_blob(store.root / "files", pdf), "size": len(pdf), "archived_at": iso_local(now),
            "signature": signed.record}


def check_signature(store: Store, notice: dict) -> signing.SignatureCheck:
    """The archived PDF's company signature checked again, now."""
    return signing.check_pdf(archived_pdf(store, notice), signing.kept_fingerprints(store.root))


def archived_pdf(store: Store, notice: dict) -> bytes:
    """The archived bytes of an issued notice's PDF."""
    return read_blob(store.root / "files", notice["pdf"]["sha256"])
