"""季度报告 (9.2): the quarterly report to the GM: the list of reports with their versions and
states, one version's page (its sections as on the PDF; the summary, refresh, issue and
correction for 技质部经理), the PDF and the workbook (an issued version's from the archive).
The rules and the records are records/reports/quarterly.py."""
from __future__ import annotations

import io
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for

from forms.base import SignatureCheckForm
from forms.quarterly import CorrectForm, CreateForm, RefreshForm, SummaryForm
from records.calendar.periods import quarter_label
from records.core import signing
from records.core.errors import DomainError
from records.core.files import StorageError
from records.core.xlsx import XLSX_MIMETYPE
from records.reports import quarterly as q
from records.reports import quarterly_documents as qd
from records.users.accounts import display_names

from . import todo
from .common import calendar, flash_signature_check, form_errors_to_fields, now, roles_required, store, user_doc

bp = Blueprint("quarterly", __name__, url_prefix="/quarterly")


def _last_quarter() -> str:
    today = now().date()
    return quarter_label(today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1) - timedelta(days=1))


@bp.get("/")
@roles_required(*q.READERS)
def index(form=None, status: int = 200):
    reports = q.all_reports(store())
    by_quarter: dict[str, list[dict]] = {}
    for doc in reports:
        by_quarter.setdefault(doc["quarter"], []).append(doc)
    manager = q.may_manage(user_doc())
    if manager and form is None:
        form = CreateForm(data={"quarter": _last_quarter()})
    return render_template("quarterly/index.html", by_quarter=by_quarter, form=form if manager else None,
                           statuses=q.STATUSES, names=display_names(store()), period_text=qd.period_text), status


@bp.post("/")
@roles_required(q.MANAGER)
def create():
    form = CreateForm()
    if not form.validate_on_submit():
        return index(form=form, status=400)
    try:
        doc, made = q.create_draft(store(), form.quarter.data.strip().upper(), calendar(), now(), user_doc()["username"])
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return index(form=form, status=400)
    flash("季度报告草稿已生成" if made else "该季度已有草稿，已打开", "success")
    return redirect(url_for(".show", report_id=doc["id"]))


def _doc(report_id: int) -> dict:
    return store().get(q.TABLE, report_id) or abort(404)


@bp.get("/<int:report_id>")
@roles_required(*q.READERS)
def show(report_id: int, forms: dict | None = None, status: int = 200):
    doc = _doc(report_id)
    manager = q.may_manage(user_doc())
    versions = q.versions(store(), doc["quarter"])
    draft = doc["status"] == q.DRAFT
    forms = forms or {}
    if manager and draft:
        forms.setdefault("summary", SummaryForm(data={"rev": doc["_rev"], "summary": doc.get("summary") or ""}))
        forms.setdefault("refresh", RefreshForm(data={"rev": doc["_rev"]}))
    if manager and doc["status"] == q.ISSUED and versions[-1]["id"] == doc["id"]:
        forms.setdefault("correct", CorrectForm())
    return render_template("quarterly/show.html", doc=doc, sections=q.sections(doc), versions=versions,
                           forms=forms, statuses=q.STATUSES, names=display_names(store()),
                           period_text=qd.period_text, cell=qd.cell_text, is_number=qd.is_number,
                           svg_uri=qd.svg_data_uri, describe=signing.describe,
                           check_form=SignatureCheckForm()), status


def _refused(report_id: int, name: str, form, exc: DomainError):
    form_errors_to_fields(form, exc)
    return show(report_id, forms={name: form}, status=400)


@bp.post("/<int:report_id>/summary")
@roles_required(q.MANAGER)
def summary(report_id: int):
    _doc(report_id)
    form = SummaryForm()
    if not form.validate_on_submit():
        return show(report_id, forms={"summary": form}, status=400)
    user = user_doc()
    try:
        saved = q.save_summary(store(), report_id, form.summary.data, user, now(), expect_rev=int(form.rev.data))
        form.rev.data = saved["_rev"]  # saved: a refused issue below must not leave the form a revision behind
        if form.issue.data:
            q.issue(store(), report_id, user, now(), expect_rev=saved["_rev"])
    except DomainError as exc:
        return _refused(report_id, "summary", form, exc)
    flash("已发布并归档，已通知总经理" if form.issue.data else "总结已保存", "success")
    return redirect(url_for(".show", report_id=report_id))


@bp.post("/<int:report_id>/refresh")
@roles_required(q.MANAGER)
def refresh(report_id: int):
    _doc(report_id)
    form = RefreshForm()
    if not form.validate_on_submit():
        return show(report_id, forms={"refresh": form}, status=400)
    try:
        q.refresh(store(), report_id, calendar(), user_doc(), now(), expect_rev=int(form.rev.data))
    except DomainError as exc:
        return _refused(report_id, "refresh", form, exc)
    flash("数据已按当前记录重新生成", "success")
    return redirect(url_for(".show", report_id=report_id))


@bp.post("/<int:report_id>/correct")
@roles_required(q.MANAGER)
def correct(report_id: int):
    _doc(report_id)
    form = CorrectForm()
    if not form.validate_on_submit():
        return show(report_id, forms={"correct": form}, status=400)
    try:
        new = q.correct(store(), report_id, form.reason.data, calendar(), user_doc(), now())
    except DomainError as exc:
        return _refused(report_id, "correct", form, exc)
    flash(f"已生成第 {new['version']} 版（更正草稿），发布后原版本标记为已更正", "success")
    return redirect(url_for(".show", report_id=new["id"]))


def _download(doc: dict, kind: str) -> bytes:
    if doc["status"] == q.DRAFT:  # a draft as it stands, never archived
        return qd.report_pdf(store(), doc) if kind == "pdf" else qd.report_workbook(store(), doc)
    return q.archived(store(), doc, kind)


@bp.get("/<int:report_id>/pdf")
@roles_required(*q.READERS)
def pdf(report_id: int):
    doc = _doc(report_id)
    return send_file(io.BytesIO(_download(doc, "pdf")), mimetype="application/pdf", max_age=0,
                     download_name=f"季度报告-{doc['quarter']}-第{doc['version']}版.pdf")


@bp.get("/<int:report_id>/xlsx")
@roles_required(*q.READERS)
def xlsx(report_id: int):
    doc = _doc(report_id)
    return send_file(io.BytesIO(_download(doc, "xlsx")), mimetype=XLSX_MIMETYPE, as_attachment=True, max_age=0,
                     download_name=f"季度报告-{doc['quarter']}-第{doc['version']}版.xlsx")


@bp.post("/<int:report_id>/check")
@roles_required(*q.READERS)
def check_signature(report_id: int):
    """Check the archived PDF's signature again (the page shows the result stored at signing)."""
    doc = _doc(report_id)
    if doc["status"] == q.DRAFT or not SignatureCheckForm().validate_on_submit():
        abort(400)
    try:
        result = q.check_signature(store(), doc)
    except (DomainError, StorageError, OSError) as exc:
        flash(f"无法验证：{exc}", "danger")
    else:
        flash_signature_check("归档 PDF", result)
    return redirect(url_for(".show", report_id=report_id))


def _todo_rows(source, user, at, cal) -> list[todo.Row]:
    """我的待办 of 技质部经理: the drafts to write and issue (9.2)."""
    if not q.may_manage(user):
        return []
    return [todo.Row(title=f"季度报告草稿：{qd.period_text(d['quarter'])}（第 {d['version']} 版）",
                     detail="填写技质部经理总结并发布报总经理（9.2）", url=url_for("quarterly.show", report_id=d["id"]),
                     due="", status="open") for d in q.drafts(source)]


todo.register(todo.Area("quarterly", "季度报告", 70, _todo_rows))
