"""考核 (9.1, 9.5): the technicians' quarterly assessments and the after-sales managers' monthly
ones: the lists, one assessment's figures with its opinion or evaluation, sending, the PDF and
the month's Excel export. The rules and the records are records/reports/."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required

from forms.base import options
from forms.reports import ManagerAssessmentForm, MonthForm, QuarterForm, TechnicianAssessmentForm
from records.calendar.periods import quarter_label
from records.core.errors import DomainError
from records.core.xlsx import XLSX_MIMETYPE
from records.fines.visibility import HIDDEN_TEXT, may_see_fine
from records.reports import assessments as a
from records.reports.documents import month_workbook, percent, period_text
from records.users.accounts import display_name, display_names, find_by_username
from records.users.departments import departments

from .common import form_errors_to_fields, now, roles_required, store, user_doc

bp = Blueprint("reports", __name__, url_prefix="/assessments")  # section 9 (9.1, 9.5 now); users read 考核
PAGES = {a.TECHNICIAN: "technician", a.MANAGER: "manager"}  # the endpoint of each kind's page


def _last_month() -> str:
    today = now().date()
    return f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"


def _last_quarter() -> str:
    today = now().date()
    q = (today.month - 1) // 3
    return f"{today.year}Q{q}" if q else f"{today.year - 1}Q4"


@bp.get("/")
@roles_required(*a.MENU_ROLES)
def index():
    user = user_doc()
    form = QuarterForm(request.args)
    quarter = (form.quarter.data or "").strip().upper() if form.validate() else ""
    span = a.span_of(a.TECHNICIAN, quarter or _last_quarter())
    rows = []
    if a.may_list(user, a.TECHNICIAN):
        docs = a.stored(store(), a.TECHNICIAN, span.label)
        people = a.subjects(store(), a.TECHNICIAN)
        figures = a.compute_all(store(), a.TECHNICIAN, span, [p["username"] for p in people], now())
        rows = [{"person": p, "f": figures[p["username"]], "doc": docs.get(p["username"])} for p in people]
    return render_template("reports/index.html", form=form, span=span, rows=rows, period_text=period_text,
                           percent=percent, mine=a.sent_to_me(store(), user["username"]), kinds=a.KINDS,
                           names=display_names(store()), statuses=a.STATUSES,
                           may_list=a.may_list(user, a.TECHNICIAN), may_list_managers=a.may_list(user, a.MANAGER),
                           this_quarter=quarter_label(now().date()))


@bp.get("/managers")
@roles_required(*a.MANAGER_READERS)
def managers():
    form = MonthForm(request.args)
    month = (form.month.data or "").strip() if form.validate() else ""
    span = a.span_of(a.MANAGER, month or _last_month())
    docs = a.stored(store(), a.MANAGER, span.label)
    people = a.subjects(store(), a.MANAGER)
    figures = a.compute_all(store(), a.MANAGER, span, [p["username"] for p in people], now())
    rows = [{"person": p, "f": figures[p["username"]], "doc": docs.get(p["username"])} for p in people]
    return render_template("reports/managers.html", form=form, span=span, rows=rows, period_text=period_text,
                           percent=percent, statuses=a.STATUSES)


@bp.get("/managers/<period>.xlsx")
@roles_required(*a.MANAGER_READERS)
def export_month(period: str):
    span = a.span_of(a.MANAGER, period) or abort(404)
    docs = a.stored(store(), a.MANAGER, span.label)
    people = [p["username"] for p in a.subjects(store(), a.MANAGER)]
    live = a.compute_all(store(), a.MANAGER, span, people, now())
    rows = []
    for name in people:  # a sent assessment keeps the figures it was sent with
        doc = docs.get(name)
        rows.append((name, doc["figures"] if doc and doc["status"] == a.SENT else live[name], doc))
    return send_file(io.BytesIO(month_workbook(store(), span.label, rows)), as_attachment=True,
                     download_name=f"管理人员月度考核-{span.label}.xlsx", mimetype=XLSX_MIMETYPE)


def _recipient_choices(person: str) -> list[tuple[str, str]]:
    depts = {d["id"]: d["name"] for d in departments(store())}
    users = sorted((u for u in store().scan("users") if u.get("active", True) and u["username"] != person),
                   key=lambda u: (depts.get(u.get("department_id"), "~"), u["username"]))
    return [(u["username"], f"{depts.get(u.get('department_id'), '未分部门')} · {display_name(u)}")
            for u in users]


def _form(kind: str, person: str, doc: dict | None, formdata=None):
    if kind == a.TECHNICIAN:
        form = TechnicianAssessmentForm(formdata=formdata, data=None if formdata else doc)
        form.recipients.choices = options(_recipient_choices(person))
        return form
    return ManagerAssessmentForm(formdata=formdata, data=None if formdata else doc)


def _page(kind: str, period: str, username: str, form=None, status: int = 200):
    user = user_doc()
    span = a.span_of(kind, period) or abort(404)
    person = find_by_username(store(), username) or abort(404)
    doc = a.find(store(), kind, span.label, person["username"])
    if not a.may_read(user, kind, person["username"], doc):
        abort(403)
    sent = bool(doc) and doc["status"] == a.SENT
    figures = doc["figures"] if sent else a.compute(store(), kind, span, person["username"], now())
    editable = not sent and a.may_edit(user, kind, person)
    if editable and form is None:
        form = _form(kind, person["username"], doc)
    fines_shown = may_see_fine(user, {"person": person["username"]})
    return render_template("reports/show.html", kind=kind, span=span, person=person, doc=doc, f=figures,
                           form=form if editable else None, sent=sent, title=a.KINDS[kind],
                           period_text=period_text, percent=percent, fines_shown=fines_shown, hidden_text=HIDDEN_TEXT,
                           names=display_names(store()), statuses=a.STATUSES, endpoint=PAGES[kind]), status


def _post(kind: str, period: str, username: str):
    user = user_doc()
    span = a.span_of(kind, period) or abort(404)
    person = find_by_username(store(), username) or abort(404)
    if not a.may_edit(user, kind, person):
        abort(403)
    form = _form(kind, person["username"], None, formdata=request.form)
    if not form.validate_on_submit():
        return _page(kind, period, username, form=form, status=400)
    sending = bool(form.send.data)
    try:
        if sending:
            a.send(store(), kind, span, person["username"], form.to_data(), user, now())
        else:
            a.save(store(), kind, span, person["username"], form.to_data(), user, now())
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return _page(kind, period, username, form=form, status=400)
    flash("已发送，考核表已归档" if sending else "草稿已保存", "success")
    return redirect(url_for(f".{PAGES[kind]}", period=span.label, username=person["username"]))


@bp.get("/technicians/<period>/<username>")
@login_required
def technician(period: str, username: str):
    return _page(a.TECHNICIAN, period, username)


@bp.post("/technicians/<period>/<username>")
@login_required
def technician_post(period: str, username: str):
    return _post(a.TECHNICIAN, period, username)


@bp.get("/managers/<period>/<username>")
@login_required
def manager(period: str, username: str):
    return _page(a.MANAGER, period, username)


@bp.post("/managers/<period>/<username>")
@login_required
def manager_post(period: str, username: str):
    return _post(a.MANAGER, period, username)


def _doc_or_404(assessment_id: int) -> dict:
    doc = store().get(a.TABLE, assessment_id) or abort(404)
    if not a.may_read(user_doc(), doc["kind"], doc["person"], doc):
        abort(403)
    return doc


@bp.get("/<int:assessment_id>")
@login_required
def show(assessment_id: int):
    doc = _doc_or_404(assessment_id)
    return redirect(url_for(f".{PAGES[doc['kind']]}", period=doc["period"], username=doc["person"]))


@bp.get("/<int:assessment_id>/pdf")
@login_required
def pdf(assessment_id: int):
    doc = _doc_or_404(assessment_id)
    if doc["status"] != a.SENT:
        abort(404)
    data = a.pdf_for(store(), doc, user_doc())
    return send_file(io.BytesIO(data), mimetype="application/pdf", max_age=0,
                     download_name=f"考核-{doc['period']}-{doc['person']}.pdf")

