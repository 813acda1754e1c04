"""技术服务单 (附; 6.2.5–6.2.7): the printable form of a case, as a PDF, and its file names.

``form_context`` builds the template context of a case's form from the case document the
caller passes (dispatch.form_no, the customer, the product, the decision, the technicians),
optionally with the fields filled on a tablet and the signatures; ``render_case_form`` makes
the PDF with ``records.core.pdf``. The archive of signed forms is records/service_forms/archive.py.
"""
from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime
from pathlib import Path

from records.calendar.workdays import to_local, today_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.catalog.products import warranty
from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.users.accounts import find_by_username

from .fields import (
    ASPECTS,
    COMPANY,
    MAX_PARTS,
    PAPER_PART_ROWS,
    RATINGS,
    SOLUTIONS,
    ServiceFormError,
    complete_filled,
    form_no_of,
)

_MIME_EXT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def _fmt_time(value) -> str:
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return to_local(dt).strftime("%Y-%m-%d %H:%M")  # the company's wall clock (policy.TIMEZONE)


def _date_of(value) -> date:
    try:
        return to_local(datetime.fromisoformat(str(value))).date()
    except (TypeError, ValueError):
        return today_local()


def qr_data_url(text: str) -> str:
    """A QR code carrying ``text`` as a PNG data: URL (error correction M, crisp modules)."""
    import segno

    qr = segno.make_qr(text, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=8, border=4)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def png_data_url(png: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else None


def signer_names(store: Store, usernames: list[str]) -> list[str]:
    """The display names of ``usernames`` (the username itself when unknown)."""
    out = []
    for name in usernames or []:
        user = find_by_username(store, name)
        out.append((user.get("display_name") or name) if user else name)
    return out


def base_context() -> dict:
    return {
        "company": COMPANY, "aspects": ASPECTS, "ratings": RATINGS, "filled": complete_filled(None),
        "customer_signature": None, "technician_signature": None,
    }


def blank_context() -> dict:
    """An empty form for emergencies: every field left to fill by hand, no number, no QR."""
    ctx = base_context()
    ctx.update(form_no="", qr=None, case_no="", issued_at="", customer_name="", customer_address="",
               contact_name="", contact_phone="", product_model="", product_name="", serial_no="",
               delivery_date="", warranty_label="", fault="", plan="", precautions="", solution_label="",
               technicians=[], parts=[_empty_part()] * PAPER_PART_ROWS)
    return ctx


def _empty_part() -> dict:
    return {"name": "", "spec": "", "qty": "", "note": ""}


def form_context(store: Store, case: dict, filled: dict | None = None,
                 customer_signature: bytes | None = None, technician_signature: bytes | None = None) -> dict:
    """The template context of a case's 技术服务单 (附), as issued at the dispatch (6.2.5) and, with
    ``filled`` and the signatures, as completed on site (6.2.6); ServiceFormError if not issued yet."""
    form_no = form_no_of(case)
    if not form_no:
        raise ServiceFormError("该案例尚未签发技术服务单")
    customer = store.get(CUSTOMERS, case.get("customer_id") or 0) or {}
    product = store.get(PRODUCTS, case.get("product_id") or 0) or {}
    decision = case.get("decision") or {}
    dispatch = case.get("dispatch") or {}

    warranty_label = decision.get("warranty_label") or ""
    if not warranty_label and product.get("delivery_date"):
        try:
            warranty_label = warranty(product, _date_of(case.get("received_at"))).label
        except (KeyError, ValueError):
            warranty_label = ""
    if decision.get("misuse"):
        warranty_label += "；使用维护不当（按质保期外收费）"

    contacts = customer.get("contacts") or []
    contact_name = case.get("caller_name") or (contacts[0]["name"] if contacts else "")
    contact_phone = case.get("caller_phone") or (contacts[0]["phone"] if contacts else "")

    parts = list((filled or {}).get("parts") or [])[:MAX_PARTS]
    parts = [{**_empty_part(), **p} for p in parts]
    while len(parts) < PAPER_PART_ROWS:
        parts.append(_empty_part())

    ctx = base_context()
    ctx.update(
        form_no=form_no,
        qr=qr_data_url(form_no),
        case_no=case.get("number") or "",
        issued_at=_fmt_time(dispatch.get("issued_at")),
        customer_name=customer.get("name", ""),
        customer_address=customer.get("address", ""),
        contact_name=contact_name,
        contact_phone=contact_phone,
        product_model=product.get("model", ""),
        product_name=product.get("name", ""),
        serial_no=product.get("serial_no", ""),
        delivery_date=product.get("delivery_date", ""),
        warranty_label=warranty_label,
        fault=case.get("description") or "",
        plan=dispatch.get("plan") or "",
        precautions=dispatch.get("precautions") or "",
        solution_label=SOLUTIONS.get(decision.get("solution") or "", ""),
        technicians=signer_names(store, dispatch.get("technicians") or []),
        parts=parts,
        filled=complete_filled(filled),
        customer_signature=png_data_url(customer_signature),
        technician_signature=png_data_url(technician_signature),
    )
    return ctx


def render_case_form(store: Store, case: dict, **kwargs) -> bytes:
    """The PDF of ``case``'s 技术服务单, issued at the dispatch (6.2.5); ``form_context``'s keyword
    arguments (filled, signatures) give the version completed on site (6.2.6)."""
    return render_template_pdf("service_form.html", form_context(store, case, **kwargs))


def render_blank_form() -> bytes:
    return render_template_pdf("service_form.html", blank_context())


def pdf_filename(case: dict | None) -> str:
    no = form_no_of(case) if case else ""
    return f"技术服务单-{no}.pdf" if no else "技术服务单-空白.pdf"


def _ascii_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text or "").strip("._-")


def ascii_filename(form_no: str, suffix: str = "", ext: str = "pdf") -> str:
    """The plain-ASCII file name for old clients (``filename=``); the Chinese one goes in
    ``filename*`` (RFC 5987). E.g. ``service-form-JF2026-0001.pdf``, ``service-form-blank.pdf``."""
    stem = "service-form-" + (_ascii_part(form_no) or "blank")
    if suffix:
        stem += "-" + _ascii_part(suffix)
    return f"{stem}.{_ascii_part(ext) or 'bin'}"


def pdf_ascii_filename(case: dict | None) -> str:
    return ascii_filename(form_no_of(case) if case else "")


def archived_ascii_filename(meta: dict) -> str:
    """E.g. ``service-form-JF2026-0001-v2.jpg`` for the second archived version."""
    ext = _MIME_EXT.get(meta.get("mime") or "") or Path(meta.get("filename") or "").suffix.lstrip(".")
    return ascii_filename(meta.get("form_no") or "", f"v{meta.get('version', 1)}", (ext or "bin").lower())


def technician_signers(store: Store, case: dict, username: str) -> tuple[list[tuple[str, str]], str]:
    """Who may sign the form as its technician: ([(username, display name)], the default).

    The case's assigned technicians (dispatch.technicians). The default is the logged-in user
    when they are one of them, else the only one; with several and the user not among them
    (a 技质部 engineer filling it in for them), "" so that the name must be chosen. A case
    with no technician recorded (not reachable through the workflow) offers the user.
    """
    techs = [t for t in (case.get("dispatch") or {}).get("technicians") or [] if t]
    if not techs:
        techs = [username]
    pairs = list(zip(techs, signer_names(store, techs)))
    if username in techs:
        return pairs, username
    if len(techs) == 1:
        return pairs, techs[0]
    return pairs, ""
