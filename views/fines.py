"""处罚台账 (the penalty register, 6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9): every proposal and ruling
across cases with filters and totals, the bulk ruling, and the months issued to payroll.

Who (GLOSSARY 处罚, records/fines/visibility.py): 技质部经理, the GM and 财务部 read every row;
the person concerned reads only their own rows; everyone else gets 403. Only 技质部经理 rules
(one reason for the ticked proposals), only 财务部 issues a month.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.base import options
from forms.fines import BulkRuleForm, IssueMonthForm, RegisterFilterForm
from records.cases import penalties
from records.core.errors import DomainError
from records.fines import months, register
from records.fines.visibility import sees_all_fines
from records.users.accounts import display_names

from .common import Pager, calendar, is_local_path, now, page_arg, store, user_doc
from .exports import export, export_format
from .filters import local_dt

bp = Blueprint("fines", __name__, url_prefix="/fines")
PER_PAGE = 100
# Who rules several proposals at once: 技质部经理 only (the GM rules one at a time on the case page,
# 6.2.8 特殊情况), unlike roles.FINE_RULERS, which also lets the GM in.
BULK_RULERS = ("tq_manager",)
HEADER = ["责任人", "部门", "条款", "案例", "依据", "建议金额", "确认金额", "免除金额", "总经理裁定", "计入金额", "月份",
          "状态", "建议时间", "裁定时间", "理由", "裁定人"]


def _rows_for_user() -> tuple[list[dict], bool]:
    """The register rows the user may read and whether they read all of them; 403 for someone
    who is neither a reader of every fine nor the person of any."""
    rows = penalties.register_rows(store())
    if sees_all_fines(user_doc()):
        return rows, True
    own = [r for r in rows if r["person"] == current_user.username]
    if not own:
        abort(403)
    return own, False


def _order(row: dict) -> tuple:
    # (sorted in reverse) waiting for a ruling first, then the newest month, then the newest case
    return (row["month"] == "", row["month"], row["case_id"], row["key"])


def _status_text(r: dict) -> str:
    text = r["status_label"] + ("（更正）" if r["kind"] == "correction" else "")
    return text + ("，已发放" if r["frozen"] else "")


def _who_decided(r: dict, names: dict) -> str:
    out = []
    if r["decided_by"]:
        out.append(names.get(r["decided_by"], r["decided_by"]))
    if r["gm_by"]:
        out.append(f"总经理 {names.get(r['gm_by'], r['gm_by'])}")
    return "；".join(out)


def _cells(r: dict, names: dict) -> list:
    """A row's cells, in ``HEADER``'s order (the page and its export)."""
    reason = "；".join(x for x in (r["reason"], r["gm_reason"] and f"总经理：{r['gm_reason']}") if x)
    return [r["person_name"], r["department"], r["clause"], r["case_number"], r["basis"], r["proposed"],
            r["confirmed"], r["waived"], r["gm_amount"], r["amount"], r["month"], _status_text(r),
            local_dt(r["proposed_at"]), local_dt(r["ruled_on"] or r["decided_at"]), reason, _who_decided(r, names)]


@bp.get("/")
@login_required
def index():
    rows, everyone = _rows_for_user()
    who = register.people(store())
    f = RegisterFilterForm(request.args)
    people = sorted({r["person"] for r in rows}, key=lambda u: (who[u].name if u in who else u))
    f.person.choices = options([("", "全部人员")] + [(u, who[u].name if u in who else u) for u in people])
    f.department.choices = options([("", "全部部门")] + [(d, d) for d in sorted({p.department for p in who.values()} - {""})])
    f.validate()
    dept = f.department.data or ""
    chosen = register.select(rows, person=f.person.data or "", month=f.month_value(), clause=f.clause.data or "",
                             status=f.status.data or "",
                             persons=[u for u, p in who.items() if p.department == dept] if dept else None)
    chosen.sort(key=_order, reverse=True)
    names = display_names(store())
    fmt = export_format()
    if fmt:
        return export("处罚台账", HEADER, (_cells(r, names) for r in chosen), fmt)
    paging = Pager(page_arg(), PER_PAGE, len(chosen))
    paging.page = min(paging.page, paging.pages)
    shown = chosen[(paging.page - 1) * PER_PAGE:paging.page * PER_PAGE]
    ruler = current_user.has_any(*BULK_RULERS)
    return render_template("fines/index.html", f=f, rows=[(r, _cells(r, names)) for r in shown], paging=paging,
                           totals=register.totals(chosen), who=who, everyone=everyone, HEADER=HEADER,
                           rule_form=BulkRuleForm() if ruler else None, filters=_filter_args(f))


def _filter_args(f: RegisterFilterForm) -> dict:
    """The filters in force, for the totals' links (which add a person and a period)."""
    return {k: v for k, v in (("department", f.department.data), ("clause", f.clause.data),
                              ("status", f.status.data)) if v}


@bp.post("/rule")
@login_required
def rule():
    """技质部经理 rules the ticked proposals with one reason (records.cases.penalties.rule_many)."""
    if not current_user.has_any(*BULK_RULERS):
        abort(403)
    form = BulkRuleForm()
    back = request.args.get("next") or ""
    target = back if is_local_path(back) and back.startswith("/fines/") else url_for(".index")
    if not form.validate_on_submit():
        for field in (form.fines, form.decision, form.reason):
            for e in field.errors:
                flash(f"{field.label.text}：{e}", "danger")
        return redirect(target)
    try:
        outcomes = penalties.rule_many(store(), calendar(), form.items(), user_doc(), form.decision.data,
                                       form.reason.data, now())
    except DomainError as exc:
        flash(str(exc), "danger")
        return redirect(target)
    done = [o for o in outcomes if o.ok]
    if done:
        flash(f"已{'确认' if form.decision.data == 'confirmed' else '免除'} {len(done)} 条处罚建议", "success")
    for o in outcomes:
        if not o.ok:
            flash(f"{o.number}（{o.key}）未处理：{o.message}", "warning")
    return redirect(target)


# --- Months issued to payroll ------------------------------------------------------------------


def _readers_only() -> None:
    if not sees_all_fines(user_doc()):
        abort(403)


@bp.get("/months")
@login_required
def month_list():
    _readers_only()
    summary = register.month_summary(penalties.register_rows(store()), months.issued(store()),
                                     now().strftime("%Y-%m"))
    return render_template("fines/months.html", summary=summary, names=display_names(store()),
                           issue_form=IssueMonthForm() if months.may_issue(user_doc()) else None)


@bp.post("/months/<month>/issue")
@login_required
def issue(month: str):
    if not months.may_issue(user_doc()):
        abort(403)
    form = IssueMonthForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        doc = penalties.issue_month(store(), month, user_doc(), now())
    except DomainError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"{doc['month']} 已发放并冻结：{len(doc['lines'])} 条，合计 {doc['total']} 元", "success")
    return redirect(url_for(".month_list"))


PAYROLL_HEADER = ["责任人", "部门", "条款", "案例", "类别", "金额（元）", "裁定时间", "依据"]


@bp.get("/months/<month>/payroll")
@login_required
def payroll(month: str):
    """The month for payroll (Excel; ``?export=csv`` for CSV): the amounts per person with the
    clause and case of each line, a subtotal per person; an issued month as frozen."""
    _readers_only()
    try:
        month = months.check_month(month)
    except DomainError:
        abort(404)
    issued = months.issued(store())
    if month in issued:  # frozen: the lines as issued
        lines = sorted(issued[month]["lines"], key=lambda r: (r["person"], r["case_number"], r["key"]))
    else:
        lines = register.month_lines(penalties.register_rows(store()), month)
    fmt = export_format() or "xlsx"
    name = f"处罚发放-{month}" + ("" if month in issued else "-未发放")
    return export(name, PAYROLL_HEADER, _payroll_rows([r for r in lines if r["amount"]]), fmt)


def _payroll_rows(lines: list[dict]):
    person, subtotal = None, 0
    for r in lines:
        if person is not None and r["person"] != person:
            yield ["", "", "", "", "小计", subtotal, "", ""]
            subtotal = 0
        person = r["person"]
        subtotal += r["amount"]
        yield [r["person_name"], r["department"], r["clause"], r["case_number"], register.KINDS[r["kind"]],
               r["amount"], local_dt(r["ruled_on"]), r["basis"]]
    if person is not None:
        yield ["", "", "", "", "小计", subtotal, "", ""]
