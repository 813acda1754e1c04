"""服务案例: intake, my work, the 技质部 list, the case page and one POST endpoint per action.

Thin: validate the WTForm, call ``records.cases``, flash, redirect. The domain decides who may
do what (``cases.may`` → 403 here) and when (a refusal is shown with its reason).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.cases import ACTION_FORMS, CaseFilterForm, IntakeForm
from records import cases, fines
from records.calendar_store import current_calendar
from records.customers import TABLE as CUSTOMERS
from records.errors import DomainError
from records.policy import TIMEZONE
from records.store import StaleRecord
from records.users import TABLE as USERS

from .common import Pager, form_errors_to_fields, page_arg, store

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
# Who may read every case (as the menu): the rest see the cases they take part in.
READERS = ("tq_engineer", "tq_manager", "sales", "finance", "vp", "gm", "technician")
TZ = ZoneInfo(TIMEZONE)
STATUS_LABELS = {"met": "按时完成", "met_late": "逾期完成", "overdue": "已逾期", "soon": "即将到期",
                 "open": "进行中", "closed": "未发生（已结案）"}
STATUS_CLASSES = {"overdue": "overdue", "met_late": "overdue", "soon": "due-soon"}


def _cal():
    return current_calendar(store())


def _now() -> datetime:
    return datetime.now(TZ).replace(microsecond=0)


def _user() -> dict:
    return current_user.doc


def _names() -> dict[str, str]:
    return {u["username"]: u.get("display_name") or u["username"] for u in store().scan(USERS)}


def _may_read(case: dict) -> bool:
    name = current_user.username
    techs = (case.get("dispatch") or {}).get("technicians") or []
    return (current_user.has_any(*READERS) or case.get("received_by") == name
            or case.get("reply_assignee") == name or name in techs)


def _get_case(case_id: int) -> dict:
    case = store().get(cases.TABLE, case_id)
    if case is None:
        abort(404)
    return case


# --- Forms of the actions ----------------------------------------------------------------------


def _local_now_naive() -> datetime:
    return _now().replace(tzinfo=None, second=0)


def _defaults(action: str, case: dict) -> dict:
    data = {"rev": case["_rev"]}
    now = _local_now_naive()
    for field in ("responded_at", "departed_at", "arrived_at", "completed_at", "returned_at"):
        data[field] = now
    if action == "price":
        data["prices"] = [p.get("unit_price") for p in (case.get("quote") or {}).get("parts") or []]
    if action == "confirm":
        data["lines"] = [{"approved": "", "reason": ""} for _ in (case.get("report") or {}).get("expenses") or []]
    if action == "quote" and case.get("quote"):
        q = case["quote"]
        data.update(service_fee=q["service_fee"], note=q.get("note", ""),
                    parts=[{"part": p["part"], "quantity": str(p["quantity"])} for p in q["parts"]] or None)
    return data


def _choices(form, action: str, case: dict) -> None:
    s = store()
    if action == "assign_reply":
        form.assignee.choices = [("", "— 请选择 —")] + sorted(
            (u["username"], f"{u.get('display_name') or u['username']}（{u['username']}）")
            for u in s.scan(USERS) if u.get("active", True))
    elif action == "dispatch":
        form.technicians.choices = sorted(
            (u["username"], u.get("display_name") or u["username"])
            for u in s.scan(USERS) if "technician" in u.get("roles", []) and u.get("active", True))
    elif action in ("rule_fine", "gm_rule_fine"):
        rows = fines.pending(case) if action == "rule_fine" else case.get("fines") or []
        form.key.choices = [(f["key"], _fine_label(f)) for f in rows]
    if action == "price":
        for entry, p in zip(form.prices, (case.get("quote") or {}).get("parts") or []):
            entry.label.text = f"{p['part']} × {p['quantity']}"
    if action == "confirm":
        for entry, e in zip(form.lines, (case.get("report") or {}).get("expenses") or []):
            entry.label.text = f"{e['item']}：报销 {e['amount']:.2f} 元"


def _fine_label(f: dict) -> str:
    amount = f"{f['amount']} 元" if f["amount"] is not None else f"{f['range'][0]}—{f['range'][1]} 元"
    day = f"（{f['day']}）" if f.get("day") else ""
    return f"{f['clause']} {f['person'] or '技质部'} {amount}{day} [{fines.STATUSES[f['status']]}]"


def _form(action: str, case: dict, bound: bool = False):
    cls = ACTION_FORMS[action]
    if bound:
        form = cls(prefix=action)
    else:
        form = cls(formdata=None, prefix=action, data=_defaults(action, case))
    _choices(form, action, case)
    return form


def _render_show(case: dict, failed: dict | None = None, error: str = ""):
    user = _user()
    cal, now = _cal(), _now()
    actions = cases.allowed_actions(case, user)
    forms = {a: _form(a, case) for a in actions}
    forms.update(failed or {})
    return render_template(
        "cases/show.html", case=case, forms=forms, actions=[a for a in forms],
        deadlines=cases.deadline_rows(case, cal, now), error=error, names=_names(),
        T=cases.TRANSITIONS, STATES=cases.STATES, TYPES=cases.TYPES, CHANNELS=cases.CHANNELS,
        SOLUTIONS=cases.SOLUTIONS, OUTCOMES=cases.OUTCOMES, EVALUATIONS=cases.EVALUATIONS,
        CONDITIONS=cases.CONDITIONS, FINE_STATUSES=fines.STATUSES, STATUS_LABELS=STATUS_LABELS,
        STATUS_CLASSES=STATUS_CLASSES, quote_total=cases.quote_total(case), fine_label=_fine_label)


# --- Pages -------------------------------------------------------------------------------------


@bp.get("/my")
@login_required
def my_work():
    cal, now = _cal(), _now()
    rows = []
    for r in cases.my_work(store(), _user(), now):
        open_ = cases.open_deadlines(r["case"])
        status, dl_row = "", None
        if open_:
            key = open_[0][0]
            dl_row = {"key": key, "label": cases.DEADLINE_LABELS[key], **r["case"]["deadlines"][key]}
            status = cases.deadline_status(r["case"]["deadlines"][key], cal, now)
        rows.append({**r, "deadline": dl_row, "status": status})
    return render_template("cases/my_work.html", rows=rows, T=cases.TRANSITIONS, STATES=cases.STATES,
                           TYPES=cases.TYPES, STATUS_LABELS=STATUS_LABELS, STATUS_CLASSES=STATUS_CLASSES)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = IntakeForm()
    form.customer_id.choices = [(0, "— 请选择 —")] + sorted(
        ((c["id"], c["name"]) for c in store().scan(CUSTOMERS)), key=lambda x: x[1])
    if request.method == "GET" and not form.received_at.data:
        form.received_at.data = _local_now_naive()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
        try:
            case = cases.intake(store(), _cal(), data, _user())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已登记 {case['number']}（{cases.STATES[case['state']]}）", "success")
            return redirect(url_for(".show", case_id=case["id"]))
    status = 400 if request.method == "POST" else 200
    return render_template("cases/new.html", form=form), status


@bp.get("/")
@login_required
def index():
    if not current_user.has_any(*READERS):
        abort(403)
    s = store()
    f = CaseFilterForm(request.args)
    f.customer_id.choices = [("", "全部顾客单位")] + sorted(
        ((c["id"], c["name"]) for c in s.scan(CUSTOMERS)), key=lambda x: x[1])
    f.technician.choices = [("", "全部技术人员")] + sorted(
        (u["username"], u.get("display_name") or u["username"]) for u in s.scan(USERS)
        if "technician" in u.get("roles", []))
    valid = f.validate()
    now, cal = _now(), _cal()
    args = dict(q=f.q.data or "", type=f.type.data or "", state=f.state.data or "",
                customer_id=f.customer_id.data if valid else None, product=f.product.data or "",
                technician=f.technician.data or "", overdue=bool(f.overdue.data),
                date_from=f.date_from.data if valid else None, date_to=f.date_to.data if valid else None)
    rows, total = cases.search(s, now, page=page_arg(), per_page=PER_PAGE, **args)
    view = []
    for c in rows:
        open_ = cases.open_deadlines(c)
        status = cases.deadline_status(c["deadlines"][open_[0][0]], cal, now) if open_ else ""
        view.append({"case": c, "next": open_[0] if open_ else None, "status": status})
    return render_template("cases/index.html", rows=view, f=f, paging=Pager(page_arg(), PER_PAGE, total),
                           STATES=cases.STATES, TYPES=cases.TYPES, DEADLINE_LABELS=cases.DEADLINE_LABELS,
                           STATUS_CLASSES=STATUS_CLASSES, STATUS_LABELS=STATUS_LABELS)


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int):
    case = _get_case(case_id)
    if not _may_read(case):
        abort(403)
    return _render_show(case)


# --- One POST endpoint per action --------------------------------------------------------------


def _make_action_view(action: str):
    label = cases.TRANSITIONS[action].label

    @login_required
    def view(case_id: int):
        case = _get_case(case_id)
        user = _user()
        if not cases.may(case, user, action):
            abort(403)
        form = _form(action, case, bound=True)
        if form.validate_on_submit():
            rev = form.rev.data or ""
            if not rev.isdigit():
                abort(400)
            try:
                cases.perform(store(), _cal(), case_id, action, user, form.to_data(), expect_rev=int(rev))
            except StaleRecord:
                flash("该案例已被他人更新，以下是最新状态；您的操作未执行，请核对后再操作", "warning")
                return redirect(url_for(".show", case_id=case_id))
            except cases.NotPermitted:
                abort(403)
            except DomainError as exc:
                if exc.field is None and action not in cases.allowed_actions(case, user):
                    return _render_show(case, error=str(exc)), 409
                form_errors_to_fields(form, exc)
            else:
                flash(f"已完成：{label}", "success")
                return redirect(url_for(".show", case_id=case_id))
        elif action not in cases.allowed_actions(case, user):
            t = cases.TRANSITIONS[action]
            msg = f"案例当前状态为「{cases.STATES[case['state']]}」，不能执行「{t.label}」"
            return _render_show(case, error=msg), 409
        return _render_show(case, failed={action: form}), 400

    view.__name__ = f"action_{action}"
    return view


for _action in cases.TRANSITIONS:
    bp.add_url_rule(f"/<int:case_id>/{_action.replace('_', '-')}", endpoint=_action,
                    view_func=_make_action_view(_action), methods=["POST"])
