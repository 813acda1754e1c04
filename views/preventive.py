"""预防措施 (9.3): the list, raising one (from the statistics page or a case: GET ``case``
repeatable, ``model``, ``cause`` prefill), its page with its steps and evidence; the owner's
open actions in 我的待办. Thin: the rules are records.reports.preventive and preventive_flow."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from forms.base import options
from forms.preventive import STEP_FORMS, EvidenceForm, RaiseForm
from records.cases.vocab import TABLE as CASES
from records.catalog import categories
from records.core.errors import DomainError
from records.core.uploads import MAX_BYTES
from records.reports import preventive
from records.reports import preventive_flow as flow
from records.users import departments
from records.users.accounts import TABLE as USERS
from records.users.accounts import display_names

from . import todo
from .common import file_response, form_errors_to_fields, now, store, user_doc

bp = Blueprint("preventive", __name__, url_prefix="/preventive")
SOON_DAYS = 7  # 我的待办: "due soon" a week before (company practice)


def _get(action_id: int) -> dict:
    action = store().get(preventive.TABLE, action_id)
    if action is None or not flow.may_read(action, user_doc()):
        abort(404)
    return action


@bp.get("/")
@login_required
def index():
    user, today = user_doc(), now().date()
    rows = [a for a in preventive.all_actions(store()) if flow.may_read(a, user)]
    return render_template("preventive/index.html", rows=rows, today=today, STATES=flow.STATES,
                           overdue={a["id"] for a in rows if preventive.is_overdue(a, today)},
                           may_raise=flow.may_raise(user), **_names())


def _names() -> dict:
    s = store()
    return {"names": display_names(s), "depts": {d["id"]: d["name"] for d in departments.departments(s)},
            "causes": categories.names(s, "cause")}


def _raise_choices(form: RaiseForm, case_ids: list[int]) -> None:
    s = store()
    cases = [c for c in s.docs(CASES, case_ids) if c]
    form.cases.choices = options([(str(c["id"]), f"{c.get('number') or '#' + str(c['id'])} {c.get('customer_name', '')} "
                                   f"{c.get('product_serial') or ''}") for c in cases])
    form.model.choices = options([("", "— 按案例 —")] + [(m, m) for m in preventive.models(s)])
    form.cause_category.choices = options([("", "— 按案例 —"), *categories.choices(s, "cause")])
    form.department_id.choices = options([(0, "— 请选择 —")] + [(d["id"], d["name"])
                                                               for d in departments.departments(s, active_only=True)])
    form.owner.choices = options([("", "— 请选择 —")] + sorted(
        (u["username"], f"{u.get('display_name') or u['username']}（{u['username']}）")
        for u in s.scan(USERS) if u.get("active", True)))


def _ids(values) -> list[int]:
    return sorted({int(v) for v in values if str(v).isdigit()})


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not flow.may_raise(user_doc()):
        abort(403)
    if request.method == "GET":
        ids = _ids(request.args.getlist("case"))
        form = RaiseForm(formdata=None, data={"cases": [str(i) for i in ids], "model": request.args.get("model", ""),
                                              "cause_category": request.args.get("cause", "")})
    else:
        form = RaiseForm()
        ids = _ids(form.cases.raw_data or [])
    _raise_choices(form, ids)
    if request.method == "GET":  # a model or cause not in the lists: not prefilled
        form.model.data = form.model.data if form.model.data in {c.value for c in form.model.choices} else ""
        form.cause_category.data = (form.cause_category.data if form.cause_category.data in
                                    {c.value for c in form.cause_category.choices} else "")
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit")}
        try:
            action = preventive.raise_action(store(), data, user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已提出{preventive.label(action)}，已通知负责人和责任部门（9.3）", "success")
            return redirect(url_for(".show", action_id=action["id"]))
    status = 400 if request.method == "POST" else 200
    return render_template("preventive/new.html", form=form), status


def _render_show(action: dict, failed: dict | None = None, status: int = 200):
    user, today = user_doc(), now().date()
    forms = {step: STEP_FORMS[step](formdata=None, data={"rev": action["_rev"]}) for step in flow.allowed(action, user)}
    forms.update(failed or {})
    v = action.get("verification") or {}
    start, until = preventive.watch(action, int(v.get("months") or 3))
    recurred = preventive.recurrences(store(), action, start, until)
    cases = [c for c in store().docs(CASES, action.get("cases") or []) if c]
    return render_template("preventive/show.html", a=action, forms=forms, STEPS=flow.STEPS, STATES=flow.STATES,
                           evidence_form=EvidenceForm() if flow.may_add_evidence(action, user) else None,
                           overdue=preventive.is_overdue(action, today), recurred=recurred, watch=(start, until),
                           cases=cases, label=preventive.label(action), **_names()), status


@bp.get("/<int:action_id>")
@login_required
def show(action_id: int):
    return _render_show(_get(action_id))


@bp.post("/<int:action_id>/<step>")
@login_required
def take(action_id: int, step: str):
    if step not in flow.STEPS:
        abort(404)
    action = _get(action_id)
    user = user_doc()
    if not flow.may(action, user, step):
        abort(403)
    form = STEP_FORMS[step]()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("csrf_token", "submit", "rev")}
        try:
            preventive.take(store(), action_id, step, user, data, now(), expect_rev=int(form.rev.data))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已完成：{flow.STEPS[step].label}", "success")
            return redirect(url_for(".show", action_id=action_id))
    return _render_show(action, {step: form}, 400)


@bp.post("/<int:action_id>/evidence")
@login_required
def evidence(action_id: int):
    _get(action_id)  # 404 for those who may not read it
    form = EvidenceForm()
    if form.validate_on_submit():
        fs = form.file.data
        content = fs.stream.read(MAX_BYTES + 1) if fs and getattr(fs, "filename", "") else b""
        try:
            preventive.add_evidence(store(), action_id, user_doc(), content, fs.filename if fs else "", now())
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash("已上传完成证据", "success")
    return redirect(url_for(".show", action_id=action_id) + "#evidence")


@bp.get("/<int:action_id>/evidence/<int:index>")
@login_required
def evidence_file(action_id: int, index: int):
    action = _get(action_id)
    try:
        meta, data = preventive.read_evidence(store(), action, index)
    except DomainError:
        abort(404)
    ascii_name = f"evidence-{action_id}-{index + 1}" + ("." + meta["filename"].rsplit(".", 1)[-1]
                                                       if "." in meta["filename"] else "")
    return file_response(data, meta["mime"], meta["filename"], ascii_name, attachment=False)


def _todo_rows(s, user, at, cal):
    today = at.date()
    out = []
    for a in preventive.todo(s, user, at):
        due = date.fromisoformat(a["due"])
        status = ("overdue" if preventive.is_overdue(a, today) else
                  "soon" if a["state"] in flow.RUNNING and (due - today).days <= SOON_DAYS else "open")
        out.append(todo.Row(title=f"{preventive.label(a)}（{flow.STATES[a['state']]}）", detail=f"{a['model']}：{a['action'][:40]}",
                            url=url_for("preventive.show", action_id=a["id"]), due=a["due"], status=status))
    return out


todo.register(todo.Area("preventive", "预防措施", 30, _todo_rows))
