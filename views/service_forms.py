"""技术服务单: print the form (per case, or blank), archive the signed one (scan or tablet).

Who may do what: a case's form (the PDF, the archive page, the archived files) is for those
who may see the case itself (records.cases.flow.may_read, the same check as the case page); the
blank form for every logged-in user. The technicians sent on the case and 技质部
(tq_engineer, tq_manager) may upload a scan and use the tablet path.

The tablet page keeps its session alive (signature.js posts to ``keepalive`` every few
minutes), so a form filled on site for longer than the idle limit keeps its CSRF token.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from forms.base import SignatureCheckForm, options
from forms.service_forms import TabletForm, UploadForm
from records.cases import onsite_record
from records.cases.flow import may_read
from records.cases.vocab import TABLE as CASES
from records.core import signing, uploads
from records.core.errors import DomainError, RecordNotFound
from records.materials import returns as returned
from records.materials import stock
from records.service_forms import archive as form_archive
from records.service_forms import document as form_document
from records.service_forms import fields as form_fields
from records.service_forms import uploads as form_uploads
from records.users.accounts import display_names

from .common import actor, file_response, flash_signature_check, form_errors_to_fields, now, store

bp = Blueprint("service_forms", __name__, url_prefix="/forms")


def _case_or_404(case_id: int) -> dict:
    case = store().get(CASES, case_id)
    if case is None:
        abort(404)
    return case


def _issued_case_or_404(case_id: int) -> dict:
    case = _case_or_404(case_id)
    if not form_fields.form_no_of(case):
        abort(404, "该案例尚未签发技术服务单")
    return case


def _require_reader(case: dict) -> None:
    if not may_read(case, current_user.doc):  # who may see a case: the case page's own check
        abort(403, "只有参与该案例的人员和有权查看全部案例的部门可以查看该案例的技术服务单")


def _require_signer(case: dict) -> None:
    if not form_archive.may_sign(case, current_user.username, frozenset(current_user.roles)):
        abort(403, "只有派往该案例的售后服务技术人员和技质部可以上传或签署技术服务单")


def case_url(case_id: int) -> str | None:
    try:
        return url_for("cases.show", case_id=case_id)
    except BuildError:
        return None


@bp.app_context_processor
def _helpers():
    return {"service_form_case_url": case_url}


@bp.get("/case/<int:case_id>.pdf")
@login_required
def pdf(case_id: int):
    case = _issued_case_or_404(case_id)
    _require_reader(case)
    data = form_document.render_case_form(store(), case)
    return file_response(data, "application/pdf", form_document.pdf_filename(case), form_document.pdf_ascii_filename(case),
                         attachment=request.args.get("download") == "1")


@bp.get("/blank.pdf")
@login_required
def blank():
    return file_response(form_document.render_blank_form(), "application/pdf", form_document.pdf_filename(None), form_document.pdf_ascii_filename(None),
                         attachment=request.args.get("download") == "1")


@bp.get("/case/<int:case_id>")
@login_required
def archive(case_id: int):
    case = _case_or_404(case_id)
    _require_reader(case)
    versions = form_archive.archived_versions(store(), case_id)
    can_sign = bool(form_fields.form_no_of(case)) and form_archive.may_sign(case, current_user.username, frozenset(current_user.roles))
    return render_template("service_forms/archive.html", case=case, form_no=form_fields.form_no_of(case),
                           versions=versions, kinds=form_fields.KINDS, can_sign=can_sign,
                           names=display_names(store()), describe=signing.describe, check_form=SignatureCheckForm())


@bp.route("/case/<int:case_id>/upload", methods=["GET", "POST"])
@login_required
def upload(case_id: int):
    case = _issued_case_or_404(case_id)
    _require_signer(case)
    form_no = form_fields.form_no_of(case)
    versions = form_archive.archived_versions(store(), case_id)
    form = UploadForm()
    if form.validate_on_submit():
        fs = form.file.data
        data = fs.stream.read(uploads.MAX_BYTES + 1)
        try:
            checked = uploads.check_upload(data, fs.filename or "", uploads.SCAN)
            matched_by = form_uploads.match_form_no(checked, form_no, form.confirm_no.data or "")
            doc = form_archive.archive_form(store(), case, checked.data, case_table=CASES, kind="scan", mime=checked.mime,
                                  filename=fs.filename or f"{form_no}.{checked.ext}", actor=actor(),
                                  reason=form.reason.data or "", matched_by=matched_by)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            how = "按二维码自动核对" if matched_by == "qr" else "按人工确认的编号"
            flash(f"技术服务单 {form_no} 第 {doc['version']} 版已归档（{how}）", "success")
            return redirect(url_for(".archive", case_id=case_id))
    return render_template("service_forms/upload.html", case=case, form=form, form_no=form_no, versions=versions)


def _kit(username: str) -> list[tuple[str, str, float]]:
    """The technician's kit as (code, name, qty): the parts issued to him at dispatch (6.2.5)."""
    return [(k["part_code"], (k["part"] or {}).get("name") or k["part_code"], k["qty"])
            for k in stock.kit(store(), username)]


@bp.route("/case/<int:case_id>/tablet", methods=["GET", "POST"])
@login_required
def tablet(case_id: int):
    case = _issued_case_or_404(case_id)
    _require_signer(case)
    form_no = form_fields.form_no_of(case)
    versions = form_archive.archived_versions(store(), case_id)
    form = TabletForm()
    pairs, default_signer = form_document.technician_signers(store(), case, current_user.username)
    form.technician_signer.choices = options(([] if default_signer else [("", "— 请选择签字的技术人员 —")]) + pairs)
    kit = _kit(current_user.username)  # parts used are picked from the kit; free text for the rest
    form.set_kit(returned.kit_choices(kit), returned.kit_names(kit))
    if request.method == "GET":
        form.technician_signer.data = default_signer
        pre = onsite_record.tablet_prefill(case)
        form.start_from({**pre, "completed_at": pre["completed_at"] or now()})  # signed right after the repair
    if form.validate_on_submit():
        try:  # the time rules of every path (维修完毕 and the report check the same)
            onsite_record.check_times(case, now(), arrived=form.arrived_at.data, completed=form.completed_at.data)
            customer_sig = form_uploads.signature_png(form.customer_signature.data, "顾客签名", required=True)
            tech_sig = form_uploads.signature_png(form.technician_signature.data, "技术人员签名", required=False,
                                             field="technician_signature")
            filled = form.to_data(dict(pairs), signed_on=now().date())
            pdf_bytes = form_document.render_case_form(store(), case, filled=filled, customer_signature=customer_sig,
                                            technician_signature=tech_sig)
            doc = form_archive.archive_form(store(), case, pdf_bytes, case_table=CASES, kind="tablet", mime="application/pdf",
                                  filename=f"{form_no}-签署.pdf", actor=actor(), reason=form.reason.data or "",
                                  matched_by="tablet", fields=filled)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"技术服务单 {form_no} 第 {doc['version']} 版已生成并归档", "success")
            return redirect(url_for(".archive", case_id=case_id))
    ctx = form_document.form_context(store(), case)
    return render_template("service_forms/tablet.html", case=case, form=form, form_no=form_no, ctx=ctx,
                           versions=versions, aspects=form_fields.ASPECTS)


@bp.post("/keepalive")
@login_required
def keepalive():
    """Keep the tablet page's session (and so its CSRF token) alive; changes no data.

    The login check on the way in refreshes the session's last-seen time; CSRF protection
    applies as to every POST (the page sends its token in the X-CSRFToken header).
    """
    resp = current_app.response_class(status=204)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/file/<int:file_id>")
@login_required
def download(file_id: int):
    meta = store().get(form_archive.TABLE, file_id)
    if meta is None:
        abort(404)
    _require_reader(_case_or_404(meta["case_id"]))
    try:
        meta, data = form_archive.read_archived(store(), file_id)
    except RecordNotFound:
        abort(404)
    except (DomainError, OSError) as exc:
        current_app.logger.error("archived file %s unreadable: %s", file_id, exc)
        abort(500)
    # ?inline=1: shown in the page or a tab (the scan beside its transcription at the confirmation, 6.2.8)
    return file_response(data, meta["mime"], meta["filename"], form_document.archived_ascii_filename(meta),
                         attachment=request.args.get("inline") != "1", sha256=meta["sha256"])


def _archived_or_404(file_id: int) -> dict:
    meta = store().get(form_archive.TABLE, file_id)
    if meta is None:
        abort(404)
    _require_reader(_case_or_404(meta["case_id"]))
    return meta


@bp.get("/file/<int:file_id>/signed")
@login_required
def signed_copy(file_id: int):
    """The signed PDF wrapper of a scanned image (the original stays the archived version)."""
    meta = _archived_or_404(file_id)
    try:
        copy = form_archive.signed_copy(store(), meta)
    except (DomainError, OSError) as exc:
        current_app.logger.error("signed copy of %s unreadable: %s", file_id, exc)
        abort(500)
    if copy is None:
        abort(404)
    sha, data = copy
    name = f"{meta.get('form_no', 'form')}-v{meta['version']}-签章.pdf"
    return file_response(data, "application/pdf", name, f"form-{file_id}-signed.pdf", sha256=sha)


@bp.post("/file/<int:file_id>/check")
@login_required
def check_signature(file_id: int):
    """Check an archived version's signature again, now (the stored result is the one at signing)."""
    meta = _archived_or_404(file_id)
    if not SignatureCheckForm().validate_on_submit():
        abort(400)
    try:
        result = form_archive.check_signature(store(), meta)
    except (DomainError, OSError) as exc:
        flash(f"第 {meta['version']} 版无法验证：{exc}", "danger")
    else:
        flash_signature_check(f"第 {meta['version']} 版", result)
    return redirect(url_for(".archive", case_id=meta["case_id"]))
