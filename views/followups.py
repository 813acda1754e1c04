"""跟踪回访: the follow-up call tasks (8.1 quarterly, 8.2 yearly) and recording a call."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms.base import options
from forms.followups import AttemptForm, CallForm, CreateTasksForm, FilterForm, ReassignForm
from records.calendar import periods
from records.core.errors import DomainError, StaleRecord
from records.followups import calls as followup_calls
from records.followups import tasks as followup_tasks
from records.jobs.followup_calls import run_followups
from records.users.accounts import display_names
from records.users.roles import FOLLOWUP_MANAGERS, FOLLOWUP_ROLES

from .common import Pager, actor, form_errors_to_fields, now, page_arg, roles_required, store, user_doc
from .exports import export, export_format
from .filters import local_dt

bp = Blueprint("followups", __name__, url_prefix="/followups")
PER_PAGE = 100


def _engineer_choices(include_all: bool = True) -> list[tuple[str, str]]:
    names = display_names(store())
    out = [("", "全部")] if include_all else []
    return out + [(u, names.get(u, u)) for u in followup_tasks.engineers(store())]


def _customer_choices() -> list[tuple[str, str]]:
    rows = sorted(store().scan("customers"), key=lambda c: c["name"])
    return [("", "全部")] + [(str(c["id"]), c["name"]) for c in rows]


@bp.get("/")
@roles_required(*FOLLOWUP_ROLES)
def index():
    form = FilterForm(request.args)
    engineers = _engineer_choices()
    form.engineer.choices = options(engineers)
    form.customer.choices = options(_customer_choices())
    quarter = (form.quarter.data or "").strip().upper()
    if quarter and not form.quarter.validate(form):
        quarter = ""
    try:
        customer_id = int(form.customer.data) if form.customer.data else None
    except ValueError:
        customer_id = None
    at = now(whole_minutes=True)
    fmt = export_format()
    page, per_page = (1, 10**9) if fmt else (page_arg(), PER_PAGE)  # an export: every matching row
    rows, counts, total = followup_tasks.task_page(store(), at, page, per_page, engineer=form.engineer.data or "",
                                                   customer_id=customer_id, quarter=quarter,
                                                   status=form.status.data or "")
    names = dict(engineers)
    if fmt:
        return export("跟踪回访", ["顾客单位", "类别", "周期", "到期日", "负责工程师", "状态", "通话时间", "被访人", "服务案例"],
                      _export_rows(rows, names), fmt)
    paging = Pager(page, PER_PAGE, total)
    create_form = CreateTasksForm(formdata=None) if current_user.has_any(*FOLLOWUP_MANAGERS) else None
    return render_template("followups/index.html", form=form, rows=rows, create_form=create_form,
                           paging=paging, counts=counts, names=names, kinds=followup_tasks.KIND_NAMES,
                           states=followup_tasks.STATUS_NAMES, this_quarter=periods.quarter_label(at.date()))


@bp.post("/create")
@roles_required(*FOLLOWUP_MANAGERS)
def create():
    """The period's tasks now: the very run the schedule makes (idempotent; the mail leaves after the commit)."""
    form = CreateTasksForm()
    if not form.validate_on_submit():
        abort(400)
    summary = run_followups(store(), now(whole_minutes=True), send_mail=False, actor=actor())
    made = summary["created"]
    if made:
        by_kind = {k: sum(1 for t in made if t["kind"] == k) for k in followup_tasks.KIND_NAMES}
        parts = [f"{followup_tasks.KIND_NAMES[k]}（{followup_tasks.KINDS[k].clause}）{n} 个"
                 for k, n in by_kind.items() if n]
        flash(f"已生成 {len(made)} 个回访任务：" + "，".join(parts), "success")
    else:
        flash("本期回访任务均已生成，没有新增任务", "info")
    return redirect(url_for(".index"))


def _export_rows(rows: list[dict], names: dict):
    kinds, states = followup_tasks.KIND_NAMES, followup_tasks.STATUS_NAMES
    for t in rows:
        call = t.get("call") or {}
        yield [t["customer_name"], f"{kinds[t['kind']]}（{t['clause']}）", t["period"], t["due"],
               names.get(t["assignee"], t["assignee"]) if t.get("assignee") else "（未指派）", states[t["state"]],
               local_dt(call.get("called_at")), call.get("contact_name") or "",
               (call.get("case_number") or str(call["case_id"])) if call.get("case_id") else ""]


def _partner(task: dict) -> dict | None:
    """The open call of the other kind this customer has in the period (one call may complete both)."""
    found = followup_tasks.partners(store().scan(followup_tasks.TABLE), task)
    return found[0] if found else None


def _call_form(task: dict, formdata=None, prods: list[dict] | None = None) -> CallForm:
    called_at = now(whole_minutes=True)
    form = CallForm(formdata=formdata, data=None if formdata else {"rev": task["_rev"], "called_at": called_at})
    kinds, names = followup_tasks.KINDS, followup_tasks.KIND_NAMES
    own = kinds[task["kind"]].clause
    form.guidance.label.text = "保养和维护指导（8.1" + ("，必填）" if task["kind"] == followup_tasks.FOLLOW_UP else "）")
    form.needs.label.text = "顾客的服务需求（8.2" + ("，必填）" if task["kind"] == followup_tasks.ANNUAL_VISIT else "）")
    form.submit.label.text = f"保存回访记录（{own}）"
    partner = _partner(task)
    if partner is None:
        del form.complete_partner
    else:
        form.complete_partner.label.text = (f"同时完成本期的{names[partner['kind']]}（{partner['clause']}，"
                                            f"{partner['period']}）：须同时填写其内容")
    if prods is None:
        prods = followup_tasks.customer_products(store(), task["customer_id"])
    form.serial_no.choices = options([("", "—")] + [(p["serial_no"], f"{p['serial_no']} {p['model']} {p['name']}")
                                                    for p in prods])
    if formdata is None:
        contacts = (task.get("customer") or {}).get("contacts") or []
        if contacts:
            form.contact_name.data, form.contact_phone.data = contacts[0]["name"], contacts[0]["phone"]
    return form


def _attempt_form(task: dict, formdata=None) -> AttemptForm:
    form = AttemptForm(formdata=formdata, data=None if formdata else {"rev": task["_rev"],
                                                                      "attempted_at": now(whole_minutes=True)})
    form.submit.label.text = f"记录联系尝试（{task['clause']}，不完成任务）"
    return form


def _reassign_form(task: dict, formdata=None) -> ReassignForm:
    form = ReassignForm(formdata=formdata, data=None if formdata else {"rev": task["_rev"], "assignee": task.get("assignee")})
    form.assignee.choices = options(_engineer_choices(include_all=False))
    return form


def _task_or_404(task_id: int) -> dict:
    return followup_tasks.get_task(store(), task_id, now(whole_minutes=True)) or abort(404)


def _show(task: dict, call_form: CallForm | None = None, reassign_form: ReassignForm | None = None,
          attempt_form: AttemptForm | None = None):
    names = dict(_engineer_choices())
    prods = followup_tasks.customer_products(store(), task["customer_id"])
    if task["status"] == followup_tasks.OPEN:
        call_form = call_form or _call_form(task, prods=prods)
        attempt_form = attempt_form or _attempt_form(task)
        if current_user.has_any(*FOLLOWUP_MANAGERS):
            reassign_form = reassign_form or _reassign_form(task)
    rule = followup_tasks.KINDS[task["kind"]]
    joint = store().get(followup_tasks.TABLE, (task.get("call") or {}).get("joint_with") or 0)
    return render_template("followups/show.html", t=task, call_form=call_form, reassign_form=reassign_form,
                           attempt_form=attempt_form, partner=_partner(task) if task["status"] == "open" else None,
                           joint=joint, outcomes=followup_calls.ATTEMPT_OUTCOMES,
                           names=names, kinds=followup_tasks.KIND_NAMES, states=followup_tasks.STATUS_NAMES,
                           basis=rule.basis.format(n=rule.value), products=prods,
                           case_types=followup_tasks.CASE_TYPES)


@bp.get("/<int:task_id>")
@roles_required(*FOLLOWUP_ROLES)
def show(task_id: int):
    return _show(_task_or_404(task_id))


@bp.post("/<int:task_id>/record")
@roles_required(*FOLLOWUP_ROLES)
def record(task_id: int):
    task = _task_or_404(task_id)
    if task["status"] != followup_tasks.OPEN:
        flash("该回访已记录", "warning")
        return redirect(url_for(".show", task_id=task_id))
    form = _call_form(task, formdata=request.form)
    if form.validate_on_submit():
        try:
            done = followup_calls.record_call(store(), task_id, form.to_data(), user_doc(), now(whole_minutes=True),
                                         expect_rev=int(form.rev.data))
        except (StaleRecord, followup_tasks.FollowUpConflict) as exc:
            flash(str(exc), "warning")
            return redirect(url_for(".show", task_id=task_id))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            msg = "回访记录已保存"
            call = done["call"]
            if call.get("joint_with"):
                msg += "（同一次通话同时完成了本期另一项回访）"
            if call.get("case_id"):
                msg += f"，已建立服务案例 {call.get('case_number') or call['case_id']}"
            flash(msg, "success")
            return redirect(url_for(".show", task_id=task_id))
    return _show(task, call_form=form)


@bp.post("/<int:task_id>/attempt")
@roles_required(*FOLLOWUP_ROLES)
def attempt(task_id: int):
    task = _task_or_404(task_id)
    if task["status"] != followup_tasks.OPEN:
        flash("该回访已完成", "warning")
        return redirect(url_for(".show", task_id=task_id))
    form = _attempt_form(task, formdata=request.form)
    if form.validate_on_submit():
        try:
            followup_calls.record_attempt(store(), task_id, form.to_data(), user_doc(), now(whole_minutes=True),
                                          expect_rev=int(form.rev.data))
        except (StaleRecord, followup_tasks.FollowUpConflict) as exc:
            flash(str(exc), "warning")
            return redirect(url_for(".show", task_id=task_id))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已记录联系尝试，任务仍待完成", "success")
            return redirect(url_for(".show", task_id=task_id))
    return _show(task, attempt_form=form), 400


@bp.post("/<int:task_id>/reassign")
@roles_required(*FOLLOWUP_MANAGERS)
def reassign(task_id: int):
    task = _task_or_404(task_id)
    form = _reassign_form(task, formdata=request.form)
    if not form.validate_on_submit():  # a missing or bad revision (the stale check needs it)
        return _show(task, reassign_form=form), 400
    try:
        followup_tasks.reassign(store(), task_id, form.assignee.data, actor(), expect_rev=int(form.rev.data))
    except StaleRecord:
        flash("该回访任务已被他人修改，请重试", "warning")
    except DomainError as exc:
        flash(str(exc), "danger")
    else:
        flash("已改派", "success")
    return redirect(url_for(".show", task_id=task_id))


def case_url(case_id: int) -> str:
    """The case page when the case views are installed, else the plain path."""
    if "cases.show" in current_app.view_functions:
        return url_for("cases.show", case_id=case_id)
    return f"/cases/{case_id}"


@bp.app_template_global("followup_case_url")
def _followup_case_url(case_id: int) -> str:
    return case_url(case_id)
