"""服务案例: intake, my work, the 技质部 list, the case page and one POST endpoint per action.

Thin: validate the WTForm, call ``records.cases``, flash, redirect. The domain decides who may
do what (``flow.may`` → 403 here) and when (a refusal is shown with its reason). Each action's
form is prepared by views/case_forms.py (defaults, choices, title, help).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.base import options
from forms.case_actions import rule_line
from forms.cases import CaseFilterForm, IntakeForm
from records import policy
from records.cases import classification, flow, idle, onsite_record, queries, quotation, vocab, workflow
from records.cases import deadlines as case_deadlines
from records.cases import timeline as case_timeline
from records.cases.duplicates import possible_duplicates
from records.catalog import categories
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.errors import DomainError, StaleRecord
from records.fines import proposals, rulings, visibility
from records.service_forms import archive as form_archive
from records.service_forms import fields as form_fields
from records.users import accounts, roles
from records.users.accounts import TABLE as USERS
from records.users.roles import CASE_READERS as READERS

from . import case_forms, case_notes, todo
from .common import Pager, calendar, file_response, form_errors_to_fields, input_now, now, page_arg, store, user_doc
from .exports import export, export_format
from .filters import local_dt

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
STATUS_LABELS = {"met": "按时完成", "met_late": "逾期完成", "overdue": "已逾期", "soon": "即将到期",
                 "open": "进行中", "closed": "未发生（已结案）", "provisional": "暂定（如需现场服务）"}
STATUS_CLASSES = {"overdue": "overdue", "met_late": "overdue", "soon": "due-soon"}
# The regulation's numbers in words, from records.policy (never written here): for the pages.
RULES = {
    "handover": rule_line(policy.HANDOVER),
    "fine_handover": rule_line(policy.FINE_HANDOVER_LATE),
    "warn_hours": f"{policy.WARN_WITHIN_WORKING_HOURS} 个工作小时",
}


def _get_case(case_id: int) -> dict:
    case = store().get(vocab.TABLE, case_id)
    if case is None:
        abort(404)
    return case


def _available(case: dict, user: dict) -> list[str]:
    """Every action the user may take on the case now: the flow's, then the extra ones."""
    return flow.allowed_actions(case, user) + flow.extra_actions(case, user)


def _service_form_info(case: dict) -> dict | None:
    form_no = form_fields.form_no_of(case)
    if not form_no:
        return None
    versions = form_archive.archived_versions(store(), case["id"])
    latest = versions[-1] if versions else None
    reported_id = ((case.get("report") or {}).get("form_version") or {}).get("id")
    return {"form_no": form_no, "versions": len(versions), "latest": latest,
            "reported": next((v for v in versions if v["id"] == reported_id), None),  # the version the report names
            "differences": onsite_record.differences(case),
            "latest_kind": form_fields.KINDS.get(latest["kind"], latest["kind"]) if latest else "",
            "prefilled": bool(latest and latest.get("fields")),
            "can_sign": form_archive.may_sign(case, current_user.username, frozenset(current_user.roles))}


def _source_info(case: dict) -> dict | None:
    """Where the case came from (a follow-up call), with a link to it when the page exists."""
    src = case.get("source")
    if not src:
        return None
    link = None
    if src.get("type") == "followup" and "followups.show" in current_app.view_functions:
        link = url_for("followups.show", task_id=src["id"])
    elif src.get("type") == "technical_notice" and "technical_notices.show" in current_app.view_functions:
        link = url_for("technical_notices.show", notice_id=src["id"])
    return {**src, "kind": vocab.SOURCES.get(src.get("type"), src.get("type")), "link": link}


def _render_show(case: dict, failed: dict | None = None, error: str = ""):
    user = user_doc()
    cal, at = calendar(), now()
    extras = flow.extra_actions(case, user)
    forms = {a: case_forms.form_for(a, case) for a in flow.allowed_actions(case, user) + extras}  # extras once
    forms.update(failed or {})
    deadlines = case_deadlines.deadline_rows(case, cal, at)
    deadlines += idle.idle_rows(case, cal, at, idle.step_hours(store()))  # company limits (公司规定)
    open_rows = [d for d in deadlines if d["status"] in ("open", "soon", "overdue")]
    urgent = min(open_rows, key=lambda d: d["due"]) if open_rows else None
    customer = (store().get(CUSTOMERS, case["customer_id"]) if case.get("customer_id") else None) or {}
    fines, fines_hidden = case_fines(case, user, cal, at)
    provisional = case_deadlines.provisional_row(case, customer.get("distance_km"))  # shown, never counted
    deadlines += [provisional] if provisional else []
    return render_template(
        "cases/show.html", case=case, forms=forms, actions=[a for a in forms],
        titles={a: case_forms.title(a, case, user) for a in forms},
        helps={a: case_forms.help_text(a, case, user) for a in forms},
        extras=extras,
        next_steps=flow.next_steps(case), urgent=urgent, customer=customer,
        service_form=_service_form_info(case), source=_source_info(case),
        printed_at=at, printed_by=current_user.display_name,
        timeline=case_timeline.for_reader(case_notes.timeline_rows(case), case, user),
        fines=fines, fines_hidden=fines_hidden, HIDDEN_TEXT=visibility.HIDDEN_TEXT,
        note_form=case_notes.note_form(), live=vocab.is_live(case),
        deadlines=deadlines, provisional=provisional, departure=case_deadlines.departure_label(case, at),
        error=error, names=accounts.display_names(store()),
        classification=classification.text(store(), case["classification"]) if case.get("classification") else "",
        T=flow.TRANSITIONS, STATES=vocab.STATES, TYPES=vocab.TYPES, CHANNELS=vocab.CHANNELS,
        SOLUTIONS=vocab.SOLUTIONS, OUTCOMES=vocab.OUTCOMES, EVALUATIONS=vocab.EVALUATIONS,
        ASPECTS=vocab.ASPECTS, RATINGS=vocab.RATINGS, CHARGES=vocab.CHARGES,
        CONDITIONS=vocab.CONDITIONS, FINE_STATUSES=rulings.STATUSES, STATUS_LABELS=STATUS_LABELS,
        STATUS_CLASSES=STATUS_CLASSES, quote_total=flow.quote_total(case), fine_label=case_forms.fine_label,
        has_quotation=quotation.available(case), SEND_METHODS=quotation.SEND_METHODS,
        serials=_serial_options() if "resolve_unknown" in forms else [])


def case_fines(case: dict, user: dict, cal, at) -> tuple[list[dict], int]:
    """The case's fines ``user`` may read (GLOSSARY 处罚; records.fines.visibility), a running
    6.2.8 count as of now, and how many others there are (shown as ``HIDDEN_TEXT``)."""
    running = proposals.confirm_late_now(case, cal, at)
    rows = [running if running and f["key"] == running["key"] else f for f in case.get("fines") or []]
    return visibility.visible_fines(user, rows)


def _serial_options() -> list[tuple[str, str]]:
    """The product numbers offered in a serial's list: (serial, "model name · customer")."""
    customers = {c["id"]: c["name"] for c in store().scan(CUSTOMERS)}
    return sorted((p["serial_no"], f"{p['model']} {p['name']} · {customers.get(p['customer_id'], '')}")
                  for p in store().scan(PRODUCTS))


# --- Pages -------------------------------------------------------------------------------------


@bp.get("/my")
@login_required
def my_work():
    cal, at = calendar(), now()
    areas = todo.gather(store(), user_doc(), at, cal)
    rows = areas.pop("cases")
    paging = Pager(page_arg(), PER_PAGE, len(rows))
    paging.page = min(paging.page, paging.pages)  # a page past the end shows the last
    shown = fill_deadlines(rows[(paging.page - 1) * PER_PAGE:paging.page * PER_PAGE], cal, at)
    return render_template("cases/my_work.html", rows=shown, paging=paging, counts=todo.counts({"cases": rows}),
                           others=areas, AREAS=todo.AREAS, T=flow.TRANSITIONS, STATES=vocab.STATES, TYPES=vocab.TYPES,
                           STATUS_LABELS=STATUS_LABELS, STATUS_CLASSES=STATUS_CLASSES, RULES=RULES)


def next_deadline(case: dict, cal, now) -> tuple[dict | None, str]:
    """The case's most urgent open deadline as a row (with its label and time left), and its status."""
    row = case_deadlines.next_deadline_row(case, cal, now)
    return row, (row["status"] if row else "")


def work_rows(s, user: dict, cal, now) -> list[dict]:
    """我的待办 of ``user``: [{case, actions, due, deadline, status}], most urgent first.

    Every row has its ``status`` (the counts need them all); the deadline cell (``deadline``)
    is left None for ``fill_deadlines``, which the pages call on the rows they show: a 技质部
    engineer may have hundreds of rows, and a status costs a count of working hours, done once
    per due time and clause here (many rows share them)."""
    memo: dict[tuple, str] = {}
    return [{**r, "deadline": None, "status": case_deadlines.next_deadline_status(r["case"], cal, now, memo)}
            for r in queries.todo(s, user, now)]


def fill_deadlines(rows: list[dict], cal, now) -> list[dict]:
    """Fill the deadline cell that ``work_rows`` left out on ``rows`` (those a page shows)."""
    for r in rows:
        if r["deadline"] is None and r["status"]:
            r["deadline"], r["status"] = next_deadline(r["case"], cal, now)
    return rows


todo.register(todo.Area("cases", "服务案例", 10, lambda s, user, now, cal: work_rows(s, user, cal, now)))


def with_deadlines(cases, cal, now) -> list[dict]:
    """The rows of a list of cases: [{case, deadline, status}] (the most urgent open deadline)."""
    rows = []
    for c in cases:
        dl_row, status = next_deadline(c, cal, now)
        rows.append({"case": c, "deadline": dl_row, "status": status})
    return rows


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = IntakeForm()
    s = store()
    customers = {c["id"]: c for c in s.scan(CUSTOMERS)}
    form.customer_id.choices = options([(0, "— 请选择 —")] + sorted(
        ((cid, c["name"]) for cid, c in customers.items()), key=lambda x: x[1]))
    if roles.is_tq(user_doc()):  # 技质部 may record a call someone else took (6.1.3)
        form.received_by.choices = options(sorted(
            ((u["username"], f"{u.get('display_name') or u['username']}（{u['username']}）")
             for u in s.scan(USERS) if u.get("active", True) or u["username"] == current_user.username),
            key=lambda x: (x[0] != current_user.username, x[0])))
        if not form.is_submitted():
            form.received_by.data = current_user.username
    else:  # anyone else records their own call
        del form.received_by
    if not form.is_submitted():
        if not form.received_at.data:
            form.received_at.data = input_now()
    duplicates, warned = [], False
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit", "confirm_duplicate")}
        duplicates = possible_duplicates(s, data.get("product_serial") or "", data.get("caller_phone") or "", now())
        if duplicates and not form.confirm_duplicate.data:
            warned = True
            flash("可能与已有案例重复，请先查看；确认不是重复的，勾选「仍要登记」后再提交", "warning")
        else:
            try:
                case = workflow.intake(s, calendar(), data, user_doc())
            except DomainError as exc:
                form_errors_to_fields(form, exc)
            else:
                flash(f"已登记 {case['number']}（{vocab.STATES[case['state']]}）；登记即传递技质部（6.1.3）", "success")
                return redirect(url_for(".show", case_id=case["id"]))
    status = 400 if request.method == "POST" and not warned else 200
    contacts = {str(cid): c.get("contacts") or [] for cid, c in customers.items() if c.get("contacts")}
    product_customers = {p["serial_no"]: str(p["customer_id"]) for p in s.scan(PRODUCTS)}
    chosen = customers.get(form.customer_id.data or 0) or {}
    return render_template("cases/new.html", form=form, serials=_serial_options(), RULES=RULES,
                           duplicates=duplicates, contacts=contacts, product_customers=product_customers,
                           chosen_contacts=chosen.get("contacts") or [], STATES=vocab.STATES, TYPES=vocab.TYPES), status


@bp.get("/")
@login_required
def index():
    if not current_user.has_any(*READERS):
        abort(403)
    s = store()
    f = CaseFilterForm(request.args)
    f.customer_id.choices = options([("", "全部顾客单位")] + sorted(
        ((c["id"], c["name"]) for c in s.scan(CUSTOMERS)), key=lambda x: x[1]))
    f.technician.choices = options([("", "全部技术人员")] + sorted(
        (u["username"], accounts.display_name(u)) for u in s.scan(USERS)
        if "technician" in u.get("roles", [])))
    f.validate()

    def ok(field):  # a field with an error is shown with its message and not filtered on
        return field.data if not field.errors else None

    at, cal = now(), calendar()
    args = dict(q=f.q.data or "", type=ok(f.type) or "", state=ok(f.state) or "", customer_id=ok(f.customer_id),
                product=f.product.data or "", technician=ok(f.technician) or "", overdue=bool(f.overdue.data),
                **({"date_from": f.date_from.data, "date_to": f.date_to.data}
                   if not (f.date_from.errors or f.date_to.errors) else {}),  # a reversed range: neither
                model=f.model.data or "", fault=f.fault.data or "", cause=f.cause.data or "",  # 9.3 drill-down
                repeat=bool(f.repeat.data), unclassified=bool(f.unclassified.data), counted=bool(f.counted.data),
                ids=f.id_set())
    fmt = export_format()
    if fmt:  # every matching case, the page's columns (issue 14)
        rows, _, _ = queries.search(s, at, page=1, per_page=10**9, **args)
        return export("服务案例", ["编号", "类型", "状态", "顾客单位", "产品编号", "来电人", "收到时间", "下一期限", "期限状态"],
                      _export_rows(rows, cal, at), fmt)
    rows, total, page = queries.search(s, at, page=page_arg(), per_page=PER_PAGE, **args)
    return render_template("cases/index.html", rows=with_deadlines(rows, cal, at), f=f,
                           paging=Pager(page, PER_PAGE, total), stat_filters=_stat_filters(f),
                           STATES=vocab.STATES, TYPES=vocab.TYPES, VOID=vocab.VOID_OUTCOMES, OUTCOMES=vocab.OUTCOMES,
                           STATUS_CLASSES=STATUS_CLASSES, STATUS_LABELS=STATUS_LABELS)


def _stat_filters(f: CaseFilterForm) -> list[tuple[str, str]]:
    """The 9.3 statistics' filters this list carries (views/statistics.py's links), as words."""
    out = []
    for name in f.STAT_FIELDS:
        field = f[name]
        if not field.data:
            continue
        value = "是" if field.type == "BooleanField" else str(field.data)
        if name in ("fault", "cause"):
            value = categories.name_of(store(), name, field.data)
        elif name == "ids":
            value = f"{len(f.id_set() or ())} 个指定案例"
        out.append((field.label.text, value))
    return out


def _export_rows(cases, cal, at):
    """The list's columns of each case; the next deadline as its due time and name, its status
    counted once per due time and clause (``next_deadline_status``'s memo)."""
    memo: dict = {}
    for c in cases:
        open_ = case_deadlines.open_deadlines(c)
        status = case_deadlines.next_deadline_status(c, cal, at, memo) if open_ else ""
        state = vocab.OUTCOMES[c["outcome"]] if c.get("outcome") in vocab.VOID_OUTCOMES else vocab.STATES[c["state"]]
        yield [c["number"], vocab.TYPES.get(c["type"], c["type"]), state, c.get("customer_name") or "",
               c.get("product_serial") or "", c.get("caller_name") or "", local_dt(c.get("received_at")),
               f"{local_dt(open_[0][1].due)} {vocab.DEADLINE_LABELS.get(open_[0][0], open_[0][0])}"
               if open_ else "", STATUS_LABELS.get(status, "")]


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int):
    case = _get_case(case_id)
    if not flow.may_read(case, user_doc()):
        abort(403)
    return _render_show(case)


@bp.get("/<int:case_id>/quotation.pdf")
@login_required
def quotation_pdf(case_id: int):
    """The case's 报价单 (5.2.5, 6.2.4): A4 PDF, as sent (or a draft before)."""
    case = _get_case(case_id)
    if not flow.may_read(case, user_doc()):
        abort(403)
    if not quotation.available(case):
        abort(404)
    data = quotation.render_quotation(store(), case, now())
    return file_response(data, "application/pdf", quotation.filename(case), quotation.ascii_filename(case),
                         attachment=request.args.get("download") == "1")


# --- One POST endpoint per action --------------------------------------------------------------


def _make_action_view(action: str):
    label = flow.TRANSITIONS[action].label

    @login_required
    def view(case_id: int):
        case = _get_case(case_id)
        user = user_doc()
        if not flow.may(case, user, action):
            abort(403)
        form = case_forms.form_for(action, case, bound=True)
        if form.validate_on_submit():
            rev = form.rev.data or ""
            if not rev.isdigit():
                abort(400)
            try:
                workflow.perform(store(), calendar(), case_id, action, user, form.to_data(), expect_rev=int(rev))
            except StaleRecord:
                flash("该案例已被他人更新，以下是最新状态；您的操作未执行，请核对后再操作", "warning")
                return redirect(url_for(".show", case_id=case_id))
            except vocab.NotPermitted:
                abort(403)
            except DomainError as exc:
                if exc.field is None and action not in _available(case, user):
                    return _render_show(case, error=str(exc)), 409
                form_errors_to_fields(form, exc)
            else:
                flash(f"已完成：{label}", "success")
                return redirect(url_for(".show", case_id=case_id))
        elif action not in _available(case, user):
            t = flow.TRANSITIONS[action]
            msg = f"案例当前状态为「{vocab.STATES[case['state']]}」，不能执行「{t.label}」"
            return _render_show(case, error=msg), 409
        return _render_show(case, failed={action: form}), 400

    view.__name__ = f"action_{action}"
    return view


for _action in flow.TRANSITIONS:
    bp.add_url_rule(f"/<int:case_id>/{_action.replace('_', '-')}", endpoint=_action,
                    view_func=_make_action_view(_action), methods=["POST"])
