"""服务案例: intake, my work, the 技质部 list, the case page and one POST endpoint per action.

Thin: validate the WTForm, call ``records.cases``, flash, redirect. The domain decides who may
do what (``flow.may`` → 403 here) and when (a refusal is shown with its reason).
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forms.base import options
from forms.case_actions import ACTION_FORMS, rule_line
from forms.cases import CaseFilterForm, IntakeForm
from records import policy
from records.cases import deadlines as case_deadlines
from records.cases import flow, queries, vocab, workflow
from records.cases.steps import report as report_step
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.core.errors import DomainError, StaleRecord
from records.fines import proposals, rulings
from records.fines.proposals import amount_text
from records.policy import TIMEZONE
from records.service_forms import archive as form_archive
from records.service_forms import fields as form_fields
from records.users import accounts
from records.users.accounts import TABLE as USERS
from records.users.roles import CASE_READERS as READERS

from .common import (
    Pager,
    calendar,
    form_errors_to_fields,
    input_now,
    now,
    page_arg,
    store,
    user_doc,
)

bp = Blueprint("cases", __name__, url_prefix="/cases")
PER_PAGE = 50
TZ = ZoneInfo(TIMEZONE)
STATUS_LABELS = {"met": "按时完成", "met_late": "逾期完成", "overdue": "已逾期", "soon": "即将到期",
                 "open": "进行中", "closed": "未发生（已结案）"}
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


# --- Forms of the actions ----------------------------------------------------------------------


def _defaults(action: str, case: dict) -> dict:
    data = {"rev": case["_rev"]}
    now = input_now()
    for field in ("responded_at", "departed_at", "arrived_at", "completed_at", "returned_at"):
        data[field] = now
    if action == "price":
        data["prices"] = [p.get("unit_price") for p in (case.get("quote") or {}).get("parts") or []]
    if action == "confirm":
        data["lines"] = [{"approved": "", "reason": ""} for _ in (case.get("report") or {}).get("expenses") or []]
    if action == "report":
        data.update(_report_defaults(case))
    if action == "quote" and case.get("quote"):
        q = case["quote"]
        data.update(service_fee=q["service_fee"], note=q.get("note", ""),
                    parts=[{"part": p["part"], "quantity": str(p["quantity"])} for p in q["parts"]] or None)
    return data


def _naive_minute(dt: datetime | None) -> datetime | None:
    return dt.astimezone(TZ).replace(tzinfo=None, second=0, microsecond=0) if dt else None


def _report_defaults(case: dict) -> dict:
    """The report form filled from the on-site steps and the tablet-signed form (if any)."""
    pre = report_step.report_prefill(store(), case)
    now = input_now()
    data = {
        "arrived_at": _naive_minute(pre["arrived_at"]) or now,
        "completed_at": _naive_minute(pre["completed_at"]) or now,
        "fault_found": pre["fault_found"], "cause": pre["cause"], "work_done": pre["work_done"],
        "charge": pre["charge"],
        "amount": f"{pre['amount']:.2f}" if pre["amount"] is not None else "",
        "remarks": pre["remarks"],
    }
    if pre["parts"]:
        data["parts"] = [{"part": p["part"], "quantity": str(p["quantity"])} for p in pre["parts"]]
    for key in vocab.ASPECTS:
        data[key] = pre["ratings"].get(key)
    return data


def _choices(form, action: str, case: dict) -> None:
    s = store()
    if action == "assign_reply":
        form.assignee.choices = options([("", "— 请选择 —")] + sorted(
            (u["username"], f"{u.get('display_name') or u['username']}（{u['username']}）")
            for u in s.scan(USERS) if u.get("active", True)))
    elif action == "dispatch":
        form.technicians.choices = options(sorted(
            (u["username"], u.get("display_name") or u["username"])
            for u in s.scan(USERS) if "technician" in u.get("roles", []) and u.get("active", True)))
    elif action in ("rule_fine", "gm_rule_fine"):
        rows = proposals.pending(case) if action == "rule_fine" else case.get("fines") or []
        names = accounts.display_names(s)
        form.key.choices = options([(f["key"], _fine_label(f, names)) for f in rows])
    elif action == "propose_fine":
        # The people of this case first (receiver, technicians), then everyone else.
        techs = flow.technicians(case)
        part = [case.get("received_by"), *techs]
        people = [u for u in s.scan(USERS) if u.get("active", True)]
        people.sort(key=lambda u: (part.index(u["username"]) if u["username"] in part else len(part), u["username"]))

        def label(u):
            role = "技术人员，" if u["username"] in techs else ("接收人，" if u["username"] == case.get("received_by") else "")
            return f"{u.get('display_name') or u['username']}（{role}{u['username']}）"
        form.person.choices = options([("", "— 请选择 —")] + [(u["username"], label(u)) for u in people])
        if not form_fields.form_no_of(case):  # 6.2.9 is about a filled 技术服务单: none issued yet
            form.kind.choices = options([(k, v) for k, v in proposals.MANUAL_LABELS.items() if k != "falsified_form"])
    elif action == "decide":
        # Offer only the solutions the warranty allows (5.1.1.1, 5.1.1.2, 5.2.3).
        w = case.get("warranty") or {}
        if w and not w.get("in_warranty"):
            form.solution.choices = options([(k, v) for k, v in vocab.SOLUTIONS.items() if k != "onsite_free"])
            del form.misuse, form.misuse_reason  # misuse is a reading of in-warranty faults only
    elif action == "report":
        if not flow.collects_fee(case):
            del form.receipt_no, form.amount_collected  # nothing was collected (free, or VP-approved)
    if action == "price":
        for entry, p in zip(form.prices, (case.get("quote") or {}).get("parts") or []):
            entry.label.text = f"{p['part']} × {p['quantity']}"
    if action == "confirm":
        for entry, e in zip(form.lines, (case.get("report") or {}).get("expenses") or []):
            entry.label.text = f"{e['item']}：报销 {e['amount']:.2f} 元"


def _fine_label(f: dict, names: dict | None = None) -> str:
    amount = f"{f['amount']} 元" if f["amount"] is not None else f"{f['range'][0]}—{f['range'][1]} 元"
    day = f"（{f['day']}）" if f.get("day") else ""
    person = (names or {}).get(f["person"], f["person"]) if f["person"] else "技质部"
    return f"{f['clause']} {person} {amount}{day} [{rulings.STATUSES[f['status']]}]"


def _form(action: str, case: dict, bound: bool = False):
    cls = ACTION_FORMS[action]
    if bound:
        form = cls(prefix=action)
    else:
        form = cls(formdata=None, prefix=action, data=_defaults(action, case))
    _choices(form, action, case)
    return form


def _available(case: dict, user: dict) -> list[str]:
    """Every action the user may take on the case now: the flow's, then the extra ones."""
    return flow.allowed_actions(case, user) + flow.extra_actions(case, user)


def _action_titles(case: dict, actions) -> dict[str, str]:
    titles = {a: flow.TRANSITIONS[a].label for a in actions}
    if "quote" in titles and case.get("quote"):
        titles["quote"] = "修改费用报价（5.2.3、5.2.4）"
    if "handover" in titles and case.get("received_by") != current_user.username:
        titles["handover"] = "技质部登记已收到（6.1.3）"
    return titles


def _action_help(case: dict, action: str) -> str:
    if action == "handover" and case.get("received_by") != current_user.username:
        return "接收人尚未传递。技质部已从其他途径获知此信息时，可在此登记已收到（按现在的时间计）。"
    if action == "handover" and case.get("direct_answer"):
        return "您已直接答复顾客；点击即确认已告诉技质部做好记录（6.1.1），案例随即结案。"
    if action == "record_return" and case["state"] == "completed":
        return (f"注意：技质部尚未确认、同意返回。未经同意返回将按 {policy.FINE_RETURN_UNAPPROVED.clause} "
                f"提出处罚建议（{amount_text(policy.FINE_RETURN_UNAPPROVED)}）。"
                "请先电话反馈技质部，待其在系统中同意返回后再记录。")
    return ACTION_FORMS[action].HELP


def _service_form_info(case: dict) -> dict | None:
    form_no = form_fields.form_no_of(case)
    if not form_no:
        return None
    versions = form_archive.archived_versions(store(), case["id"])
    latest = versions[-1] if versions else None
    return {"form_no": form_no, "versions": len(versions), "latest": latest,
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
    return {**src, "kind": vocab.SOURCES.get(src.get("type"), src.get("type")), "link": link}


def _render_show(case: dict, failed: dict | None = None, error: str = ""):
    user = user_doc()
    cal, at = calendar(), now()
    extras = flow.extra_actions(case, user)
    forms = {a: _form(a, case) for a in flow.allowed_actions(case, user) + extras}  # _available, extras once
    forms.update(failed or {})
    deadlines = case_deadlines.deadline_rows(case, cal, at)
    open_rows = [d for d in deadlines if d["status"] in ("open", "soon", "overdue")]
    urgent = min(open_rows, key=lambda d: d["due"]) if open_rows else None
    customer = store().get(CUSTOMERS, case["customer_id"]) or {}
    return render_template(
        "cases/show.html", case=case, forms=forms, actions=[a for a in forms],
        titles=_action_titles(case, forms), helps={a: _action_help(case, a) for a in forms},
        extras=extras,
        next_steps=flow.next_steps(case), urgent=urgent, customer=customer,
        service_form=_service_form_info(case), source=_source_info(case),
        printed_at=at, printed_by=current_user.display_name,
        deadlines=deadlines, error=error, names=accounts.display_names(store()),
        T=flow.TRANSITIONS, STATES=vocab.STATES, TYPES=vocab.TYPES, CHANNELS=vocab.CHANNELS,
        SOLUTIONS=vocab.SOLUTIONS, OUTCOMES=vocab.OUTCOMES, EVALUATIONS=vocab.EVALUATIONS,
        ASPECTS=vocab.ASPECTS, RATINGS=vocab.RATINGS, CHARGES=vocab.CHARGES,
        CONDITIONS=vocab.CONDITIONS, FINE_STATUSES=rulings.STATUSES, STATUS_LABELS=STATUS_LABELS,
        STATUS_CLASSES=STATUS_CLASSES, quote_total=flow.quote_total(case), fine_label=_fine_label)


# --- Pages -------------------------------------------------------------------------------------


@bp.get("/my")
@login_required
def my_work():
    return render_template("cases/my_work.html", rows=work_rows(store(), user_doc(), calendar(), now()), T=flow.TRANSITIONS,
                           STATES=vocab.STATES, TYPES=vocab.TYPES, STATUS_LABELS=STATUS_LABELS,
                           STATUS_CLASSES=STATUS_CLASSES, RULES=RULES)


def next_deadline(case: dict, cal, now) -> tuple[dict | None, str]:
    """The case's most urgent open deadline as a row (with its label and time left), and its status."""
    row = case_deadlines.next_deadline_row(case, cal, now)
    return row, (row["status"] if row else "")


def work_rows(s, user: dict, cal, now) -> list[dict]:
    """我的待办 of ``user``: [{case, actions, due, deadline, status}], most urgent first."""
    rows = []
    for r in queries.my_work(s, user, now):
        dl_row, status = next_deadline(r["case"], cal, now)
        rows.append({**r, "deadline": dl_row, "status": status})
    return rows


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = IntakeForm()
    customers = {c["id"]: c["name"] for c in store().scan(CUSTOMERS)}
    form.customer_id.choices = options([(0, "— 请选择 —")] + sorted(customers.items(), key=lambda x: x[1]))
    serials = sorted((p["serial_no"], f"{p['model']} {p['name']} · {customers.get(p['customer_id'], '')}")
                     for p in store().scan(PRODUCTS))
    if request.method == "GET" and not form.received_at.data:
        form.received_at.data = input_now()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
        try:
            case = workflow.intake(store(), calendar(), data, user_doc())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已登记 {case['number']}（{vocab.STATES[case['state']]}）", "success")
            return redirect(url_for(".show", case_id=case["id"]))
    status = 400 if request.method == "POST" else 200
    return render_template("cases/new.html", form=form, serials=serials, RULES=RULES), status


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
        (u["username"], u.get("display_name") or u["username"]) for u in s.scan(USERS)
        if "technician" in u.get("roles", [])))
    valid = f.validate()
    at, cal = now(), calendar()
    args = dict(q=f.q.data or "", type=f.type.data or "", state=f.state.data or "",
                customer_id=f.customer_id.data if valid else None, product=f.product.data or "",
                technician=f.technician.data or "", overdue=bool(f.overdue.data),
                date_from=f.date_from.data if valid else None, date_to=f.date_to.data if valid else None)
    rows, total = queries.search(s, at, page=page_arg(), per_page=PER_PAGE, **args)
    view = []
    for c in rows:
        dl_row, status = next_deadline(c, cal, at)
        view.append({"case": c, "deadline": dl_row, "status": status})
    return render_template("cases/index.html", rows=view, f=f, paging=Pager(page_arg(), PER_PAGE, total),
                           STATES=vocab.STATES, TYPES=vocab.TYPES,
                           STATUS_CLASSES=STATUS_CLASSES, STATUS_LABELS=STATUS_LABELS)


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int):
    case = _get_case(case_id)
    if not flow.may_read(case, user_doc()):
        abort(403)
    return _render_show(case)


# --- One POST endpoint per action --------------------------------------------------------------


def _make_action_view(action: str):
    label = flow.TRANSITIONS[action].label

    @login_required
    def view(case_id: int):
        case = _get_case(case_id)
        user = user_doc()
        if not flow.may(case, user, action):
            abort(403)
        form = _form(action, case, bound=True)
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
