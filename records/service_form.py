"""技术服务单 (service_form, 6.2.5–6.2.7): the printable form and the archive of signed forms.

* ``form_context`` builds the template context of a case's form from the case document
  (dispatch.form_no, the customer, the product, the decision, the technicians), optionally
  with the fields filled on a tablet and the signatures.
* The archive keeps every signed form exactly as it came: the bytes in
  ``<data>/files/<sha256>`` (written atomically, never rewritten), the metadata in the table
  ``service_form_files``. Its insert puts the SHA-256 into the hash-chained audit trail.
  Signed content is never edited: a correction is a new version with a reason, and the
  earlier versions stay.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
from datetime import date, datetime
from pathlib import Path

from . import products as products_mod
from .errors import DomainError
from .files import atomic_write
from .store import RecordNotFound, Store
from .users import TQ_ROLES, find_by_username
from .worktime import to_local, today_local

TABLE = "service_form_files"
CASES = "cases"
KINDS = {"scan": "纸质扫描件", "tablet": "平板签署"}
SOLUTIONS = {"phone_guidance": "电话指导", "onsite_free": "现场服务（免费）", "onsite_paid": "现场服务（有偿）"}
ASPECTS = [("attitude", "服务态度"), ("skill", "技术水平"), ("timeliness", "及时性"), ("overall", "总体评价")]
RATINGS = [("satisfied", "满意"), ("basically", "基本满意"), ("unsatisfied", "不满意")]  # as cases.EVALUATIONS
CHARGES = {"free": "免费", "paid": "有偿"}
PAPER_PART_ROWS = 4  # blank rows for parts on the printed form
MAX_PARTS = 30
COMPANY = "售后服务管理系统"


class ServiceFormError(DomainError):
    pass


# --- the form's content ----------------------------------------------------------------
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


def _display_names(store: Store, usernames: list[str]) -> list[str]:
    out = []
    for name in usernames or []:
        user = find_by_username(store, name)
        out.append((user.get("display_name") or name) if user else name)
    return out


def form_no_of(case: dict) -> str:
    return ((case.get("dispatch") or {}).get("form_no") or "").strip()


def load_case(store: Store, case_id: int) -> dict:
    case = store.get(CASES, case_id)
    if case is None:
        raise RecordNotFound(f"服务案例 #{case_id} 不存在")
    return case


FILLED_KEYS = ("arrived_at", "completed_at", "fault_found", "cause", "work_done", "charge", "amount",
               "remarks", "customer_signer", "technician_signer", "signed_on")


def complete_filled(filled: dict | None) -> dict:
    """Every key the template reads, empty where not filled (the paper form)."""
    out = {k: "" for k in FILLED_KEYS}
    out.update(ratings={}, parts=[])
    out.update({k: v for k, v in (filled or {}).items() if v is not None})
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
    """The template context of a case's form (raise ServiceFormError if not issued yet)."""
    form_no = form_no_of(case)
    if not form_no:
        raise ServiceFormError("该案例尚未签发技术服务单")
    customer = store.get("customers", case.get("customer_id") or 0) or {}
    product = store.get("products", case.get("product_id") or 0) or {}
    decision = case.get("decision") or {}
    dispatch = case.get("dispatch") or {}

    warranty_label = decision.get("warranty_label") or ""
    if not warranty_label and product.get("delivery_date"):
        try:
            warranty_label = products_mod.warranty(product, _date_of(case.get("received_at"))).label
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
        technicians=_display_names(store, dispatch.get("technicians") or []),
        parts=parts,
        filled=complete_filled(filled),
        customer_signature=png_data_url(customer_signature),
        technician_signature=png_data_url(technician_signature),
    )
    return ctx


def render_case_form(store: Store, case_id: int, **kwargs) -> bytes:
    from .pdf import render_template_pdf

    return render_template_pdf("service_form.html", form_context(store, load_case(store, case_id), **kwargs))


def render_blank_form() -> bytes:
    from .pdf import render_template_pdf

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


_MIME_EXT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


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
    pairs = list(zip(techs, _display_names(store, techs)))
    if username in techs:
        return pairs, username
    if len(techs) == 1:
        return pairs, techs[0]
    return pairs, ""


# --- who may do what -------------------------------------------------------------------
def may_sign(case: dict, username: str, roles: set[str] | frozenset[str]) -> bool:
    """Upload or use the tablet: the technicians sent on the case and 技质部."""
    if roles & set(TQ_ROLES):
        return True
    techs = (case.get("dispatch") or {}).get("technicians") or []
    return "technician" in roles and username in techs


# --- the archive -----------------------------------------------------------------------
def files_dir(store: Store) -> Path:
    return store.root / "files"


def _blob_path(store: Store, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("bad sha256")
    return files_dir(store) / sha256


def archived_versions(store: Store, case_id: int) -> list[dict]:
    """Every archived signed form of a case, oldest version first."""
    cid = int(case_id)
    return sorted(store.find(TABLE, lambda d: d.get("case_id") == cid), key=lambda d: d["version"])


def latest_version(store: Store, case_id: int) -> dict | None:
    versions = archived_versions(store, case_id)
    return versions[-1] if versions else None


def archive_form(store: Store, case_id: int, content: bytes, *, kind: str, mime: str, filename: str,
                 actor: str, reason: str = "", matched_by: str = "", fields: dict | None = None) -> dict:
    """Archive a signed form (already checked by records.uploads) as the case's next version.

    The bytes go to ``<data>/files/<sha256>`` first (content-addressed, written atomically,
    never replaced once there), then the metadata is inserted; the insert's audit entry holds
    the SHA-256. A second or later version needs a reason (a correction).
    """
    if kind not in KINDS:
        raise ServiceFormError("未知的归档类型")
    reason = (reason or "").strip()
    case = load_case(store, case_id)
    form_no = form_no_of(case)
    if not form_no:
        raise ServiceFormError("该案例尚未签发技术服务单")
    if not content:
        raise ServiceFormError("文件为空")
    if archived_versions(store, case_id) and not reason:
        raise ServiceFormError("该技术服务单已归档；更正需另存新版本并填写更正原因", "reason")
    if len(reason) > 500:
        raise ServiceFormError("更正原因不能超过 500 个字", "reason")

    digest = hashlib.sha256(content).hexdigest()
    path = _blob_path(store, digest)
    if not path.exists():
        atomic_write(path, content)
    elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        raise ServiceFormError("归档存储中已有同名文件但内容不符，请联系管理员")

    safe_name = Path(filename or "").name[:120] or f"{form_no}.{mime.split('/')[-1]}"
    with store.transaction(actor) as tx:
        existing = [d for d in tx.scan(TABLE) if d.get("case_id") == int(case_id)]
        version = max((d["version"] for d in existing), default=0) + 1
        if version > 1 and not reason:
            raise ServiceFormError("该技术服务单已归档；更正需另存新版本并填写更正原因", "reason")
        doc = tx.insert(TABLE, {
            "case_id": int(case_id),
            "form_no": form_no,
            "version": version,
            "sha256": digest,
            "size": len(content),
            "mime": mime,
            "kind": kind,
            "filename": safe_name,
            "uploaded_by": actor,
            "reason": reason,
            "matched_by": matched_by,
            "fields": fields or {},
        })
        tx.event(CASES, int(case_id), "service_form_archived",
                 note=f"技术服务单 {form_no} 第 {version} 版已归档（{KINDS[kind]}）" + (f"；更正原因：{reason}" if reason else ""),
                 data={"file_id": doc["id"], "sha256": digest, "version": version})
    return doc


def read_archived(store: Store, file_id: int) -> tuple[dict, bytes]:
    """The metadata and the exact stored bytes; refuse if they no longer match the SHA-256."""
    meta = store.get(TABLE, file_id)
    if meta is None:
        raise RecordNotFound(f"归档文件 #{file_id} 不存在")
    data = _blob_path(store, meta["sha256"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise ServiceFormError("归档文件校验失败（SHA-256 不符），文件可能已被改动，请联系管理员")
    return meta, data
