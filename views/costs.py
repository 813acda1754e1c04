"""外部损失成本 (9.4): the quarter's external failure cost (the five GB/T 13339 items, the supplier
recoveries deducted, what is shown apart, the totals per model / cause / customer, the loss rate),
entering and correcting an item with its evidence, reversing one, 财务部's 工业总产值, a case's
cost breakdown and the quarter's workbook. Thin: the rules are records/reports/{case_costs,
failure_costs,failure_entries}.py."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms.costs import EntryForm, OutputForm, ReverseForm
from forms.reports import QuarterForm
from records import policy
from records.calendar.periods import parse_quarter, quarter_label
from records.cases.expenses import CATEGORIES
from records.cases.vocab import TABLE as CASES
from records.cases.vocab import is_live
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.errors import DomainError, RecordNotFound, StaleRecord
from records.core.files import StorageError
from records.core.xlsx import XLSX_MIMETYPE, Sheet, workbook
from records.reports import case_costs as cc
from records.reports import failure_costs as fc
from records.reports import failure_entries as fe
from records.users.accounts import display_names

from .common import calendar, file_response, form_errors_to_fields, now, roles_required, store, user_doc

bp = Blueprint("costs", __name__, url_prefix="/costs")
LABOUR_RATE_LABEL = f"公司参数：{policy.COMPANY_PARAMETERS[cc.LABOUR_RATE].label}（财务部设定，非本规定）"


def _quarter() -> tuple[QuarterForm, str]:
    form = QuarterForm(request.args)
    label = (form.quarter.data or "").strip().upper() if form.validate() else ""
    return form, label or quarter_label(now().date())


def _customer_choices() -> list[tuple[str, str]]:
    rows = sorted(store().scan(CUSTOMERS), key=lambda c: c["name"])
    return [("", "— 不关联 —")] + [(str(c["id"]), c["name"]) for c in rows]


def _entry_form(entry: dict | None = None, formdata=None) -> EntryForm:
    data = None
    if entry and formdata is None:
        case = store().get(CASES, entry["case_id"]) if entry.get("case_id") else None
        data = {**entry, "date": date.fromisoformat(entry["date"]), "amount": f"{entry['amount']:.2f}",
                "case_number": (case or {}).get("number", ""), "rev": entry["_rev"],
                "customer_id": "" if case else str(entry.get("customer_id") or "")}
    form = EntryForm(formdata=formdata, data=data)
    form.customer_id.choices = _customer_choices()
    return form


def _index(label: str, form: QuarterForm, entry_form=None, output_form=None, status: int = 200):
    q = fc.of_quarter(store(), label, calendar())
    output = fe.output_value(store(), label)
    if entry_form is None and fe.may_enter(user_doc()):
        entry_form = _entry_form(formdata=None)
    if output_form is None and fe.may_enter_output(user_doc()):
        output_form = OutputForm(formdata=None, data={"amount": f"{output['amount']:.2f}"} if output else None)
    cases = {c.case_id: c for c in (*q.free, *q.free_approved, *q.paid)}
    return render_template("costs/index.html", form=form, q=q, sections=fc.sections(q), items=fe.ITEMS,
                           entry_form=entry_form, output_form=output_form, output=output, names=display_names(store()),
                           cases=cases, kinds=cc.KINDS, unrated=_unrated(cases.values()), percent=fc.percent,
                           rate_label=LABOUR_RATE_LABEL,
                           numbers={c["id"]: c.get("number") for c in store().scan(CASES)},
                           customers={c["id"]: c["name"] for c in store().scan(CUSTOMERS)}), status


def _unrated(costs) -> list[str]:
    """The cases with a working day at a labour rate of 0 (公司参数 not set then): their labour counts 0."""
    return [c.number for c in costs if any(not d.rate for d in c.labour_days)]


@bp.get("/")
@roles_required(*fe.READERS)
def index():
    form, label = _quarter()
    if request.args.get("export") == "xlsx":
        return _export(label)
    return _index(label, form)


def _sheet(section) -> Sheet:
    rows = [tuple(r) for r in section.rows] + ([tuple(section.totals)] if section.totals else [])
    return Sheet(section.title[:31].replace("/", "-"), section.columns, rows,
                 widths=[28] + [16] * (len(section.columns) - 1), notes=[n for n in (section.note,) if n])


def _export(label: str):
    q = fc.of_quarter(store(), label, calendar())
    numbers = {c["id"]: c.get("number") for c in store().scan(CASES)}
    sheets = [_sheet(s) for s in fc.sections(q)]
    sheets.append(Sheet("案例成本", ("案例", "类别", "费用（元）", "零部件（元）", "工作日", "派出人数", "人工费（元）",
                                  "成本合计（元）", "收入（元）", "无目录成本的零部件"),
                        [(c.number, cc.KINDS[c.kind], c.expenses_total, c.parts_total, float(c.working_days),
                          c.technicians, c.labour, c.total, c.revenue, "、".join(c.missing))
                         for c in (*q.free, *q.free_approved, *q.paid)], notes=[LABOUR_RATE_LABEL]))
    sheets.append(Sheet("录入项目", ("项目", "金额（元）", "日期", "案例", "顾客单位", "说明", "状态"),
                        [(fe.ITEMS[e["item"]], cc.money(e["amount"]), e["date"], numbers.get(e.get("case_id"), ""),
                          e.get("customer_id") or "", e["description"],
                          f"已冲销：{e['reversed']['reason']}" if e.get("reversed") else "有效") for e in q.entries]))
    return file_response(workbook(sheets), XLSX_MIMETYPE, f"外部损失成本-{label}.xlsx", f"failure-costs-{label}.xlsx")


@bp.post("/entries")
@roles_required(*fe.ENTRY_ROLES)
def add_entry():
    form = EntryForm()
    form.customer_id.choices = _customer_choices()
    if form.validate_on_submit():
        try:
            entry = fe.add_entry(store(), user_doc(), form.to_data(), form.files(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已录入{fe.ITEMS[entry['item']]} {entry['amount']:.2f} 元", "success")
            return redirect(url_for("costs.index", quarter=entry["quarter"]))
    label = quarter_label(form.date.data) if form.date.data else quarter_label(now().date())
    return _index(label, QuarterForm(formdata=None, data={"quarter": label}), entry_form=form, status=400)


def _entry_or_404(entry_id: int) -> dict:
    return store().get(fe.TABLE, entry_id) or abort(404)


def _entry_page(entry: dict, form=None, reverse_form=None, status: int = 200):
    editable = fe.may_enter(user_doc()) and not entry.get("reversed")
    if editable:
        form = form or _entry_form(entry)
        reverse_form = reverse_form or ReverseForm(formdata=None)
    case = store().get(CASES, entry["case_id"]) if entry.get("case_id") else None
    customer = store().get(CUSTOMERS, entry["customer_id"]) if entry.get("customer_id") else None
    history = store().history(fe.TABLE, entry["id"])
    return render_template("costs/entry.html", e=entry, form=form if editable else None,
                           reverse_form=reverse_form if editable else None, case=case, customer=customer,
                           items=fe.ITEMS, history=history, names=display_names(store())), status


@bp.route("/entries/<int:entry_id>", methods=["GET", "POST"])
@roles_required(*fe.READERS)
def entry(entry_id: int):
    e = _entry_or_404(entry_id)
    if request.method == "GET":
        return _entry_page(e)
    if not fe.may_enter(user_doc()):
        abort(403)
    form = EntryForm()
    form.customer_id.choices = _customer_choices()
    if form.validate_on_submit():
        try:
            fe.correct_entry(store(), user_doc(), entry_id, form.to_data(), form.files(), form.reason.data or "",
                             now(), expect_rev=int(form.rev.data or 0) or None)
        except StaleRecord:
            flash("该记录已被他人修改，以下是最新内容，请重新填写", "warning")
            return redirect(url_for("costs.entry", entry_id=entry_id))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已更正（变更记录保留更正前后的内容）", "success")
            return redirect(url_for("costs.entry", entry_id=entry_id))
    return _entry_page(e, form=form, status=400)


@bp.post("/entries/<int:entry_id>/reverse")
@roles_required(*fe.ENTRY_ROLES)
def reverse(entry_id: int):
    e = _entry_or_404(entry_id)
    form = ReverseForm()
    if form.validate_on_submit():
        try:
            fe.reverse_entry(store(), user_doc(), entry_id, form.reason.data or "", now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已冲销：该记录保留，不再计入外部损失成本", "success")
            return redirect(url_for("costs.entry", entry_id=entry_id))
    return _entry_page(e, reverse_form=form, status=400)


@bp.get("/entries/<int:entry_id>/evidence/<int:number>")
@roles_required(*fe.READERS)
def evidence(entry_id: int, number: int):
    try:
        meta, data = fe.evidence_file(store(), entry_id, number)
    except RecordNotFound:
        abort(404)
    except (StorageError, OSError):
        abort(500)
    return file_response(data, meta["mime"], meta["filename"], f"evidence.{meta['type']}", sha256=meta["sha256"])


@bp.post("/output/<quarter>")
@roles_required(*fe.OUTPUT_ROLES)
def output(quarter: str):
    label = quarter.strip().upper()
    if parse_quarter(label) is None:
        abort(404)
    form = OutputForm()
    if form.validate_on_submit():
        try:
            fe.set_output_value(store(), user_doc(), label, form.amount.data, form.note.data or "", now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已保存 {label} 工业总产值", "success")
            return redirect(url_for("costs.index", quarter=label))
    return _index(label, QuarterForm(formdata=None, data={"quarter": label}), output_form=form, status=400)


@bp.get("/cases/<int:case_id>")
@roles_required(*fe.READERS)
def case(case_id: int):
    doc = store().get(CASES, case_id) or abort(404)
    cost = cc.cost_of(store(), doc, calendar())
    return render_template("costs/case.html", case=doc, c=cost, categories=CATEGORIES, kinds=cc.KINDS,
                           rate_label=LABOUR_RATE_LABEL, unrated=_unrated([cost]), counted=cc.confirmed_on(doc),
                           quarter=quarter_label(cc.confirmed_on(doc)) if cc.confirmed_on(doc) else None,
                           live=is_live(doc))


def may_see_costs() -> bool:
    """Whether the case page shows the link to the case's cost (技质部, 财务部, VP, GM)."""
    return current_user.is_authenticated and current_user.has_any(*fe.READERS)


@bp.app_context_processor
def _globals() -> dict:
    return {"may_see_costs": may_see_costs}
