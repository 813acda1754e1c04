"""Administration: users (create, edit roles, department and 主管领导, reset password, disable —
never delete — with the hand-over of their open work), the list of departments (create, rename,
deactivate, remove when unused), the company parameters (公司参数, GLOSSARY), and the system
status (the scheduled runs' results, the mail that could not be sent)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms.admin import (
    ConfirmForm,
    DepartmentForm,
    DepartmentRenameForm,
    DisableForm,
    ParameterForm,
    ResetPasswordForm,
    UserCreateForm,
    UserEditForm,
)
from forms.base import options
from records import policy
from records.cases.reassign import may_succeed
from records.core import parameters
from records.core.errors import DomainError
from records.followups import handover
from records.jobs import run_log, signature_check
from records.notifications import outbox
from records.users import accounts, departments
from records.users.roles import ADMINS, PARAMETER_SETTERS

from .common import actor, form_errors_to_fields, now, roles_required, save_edit, store, user_doc

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required(*ADMINS)
def user_list():
    rows = sorted(store().find(accounts.TABLE), key=lambda u: u["username"].lower())
    depts = {d["id"]: d for d in departments.departments(store())}
    return render_template("admin/users.html", users=rows, confirm=ConfirmForm(), depts=depts,
                           names=accounts.display_names(store()))


def _placement_choices(form, user: dict | None = None) -> None:
    """The department and 主管领导 choices: the active ones, plus the user's own if no longer active."""
    user = user or {}
    depts = [(0, "— 未指定 —")]
    for d in departments.departments(store()):
        if d.get("active", True) or d["id"] == user.get("department_id"):
            depts.append((d["id"], d["name"] + ("" if d.get("active", True) else "（已停用）")))
    form.department_id.choices = options(depts)
    people = [("", "— 无 —")]
    for u in sorted(store().scan(accounts.TABLE), key=accounts.display_name):
        if u["username"] == user.get("username"):
            continue
        if u.get("active", True) or u["username"] == user.get("supervisor"):
            label = f"{u.get('display_name') or u['username']}（{u['username']}）"
            people.append((u["username"], label + ("" if u.get("active", True) else "（已停用）")))
    form.supervisor.choices = options(people)


def _edit_data(user: dict) -> dict:
    return {**user, "rev": user["_rev"], "department_id": user.get("department_id") or 0,
            "supervisor": user.get("supervisor") or ""}


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def user_new():
    form = UserCreateForm()
    _placement_choices(form)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(store(), form.username.data, form.password.data, form.roles.data,
                                     actor(), display_name=form.display_name.data, email=form.email.data or "",
                                     department_id=form.department_id.data or None,
                                     supervisor=form.supervisor.data or "")
        except accounts.UserError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已创建用户 {user['username']}", "success")
            return redirect(url_for(".user_list"))
    return render_template("admin/user_form.html", form=form, title="新建用户")


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def user_edit(user_id: int):
    user = store().get(accounts.TABLE, user_id) or abort(404)
    form = UserEditForm(data=_edit_data(user))
    _placement_choices(form, user)
    pw_form = ResetPasswordForm(prefix="pw")
    if form.validate_on_submit():
        saved = save_edit(
            form, lambda rev: accounts.update_user(store(), user_id, actor(), expect_rev=rev,
                                                display_name=form.display_name.data, email=form.email.data or "",
                                                roles=form.roles.data, department_id=form.department_id.data or None,
                                                supervisor=form.supervisor.data or ""),
            "该用户", url_for(".user_edit", user_id=user_id), url_for(".user_list"))
        if saved:
            return saved
    return render_template("admin/user_edit.html", form=form, pw_form=pw_form, user=user,
                           confirm=ConfirmForm())


@bp.post("/users/<int:user_id>/password")
@roles_required(*ADMINS)
def user_reset_password(user_id: int):
    user = store().get(accounts.TABLE, user_id) or abort(404)
    pw_form = ResetPasswordForm(prefix="pw")
    if pw_form.validate_on_submit():
        accounts.set_password(store(), user_id, pw_form.password.data, actor())
        flash(f"已重置 {user['username']} 的密码，其所有登录已退出", "success")
        return redirect(url_for(".user_edit", user_id=user_id))
    form = UserEditForm(data=_edit_data(user))
    _placement_choices(form, user)
    return render_template("admin/user_edit.html", form=form, pw_form=pw_form, user=user,
                           confirm=ConfirmForm()), 400


@bp.post("/users/<int:user_id>/active/<int:on>")
@roles_required(*ADMINS)
def user_set_active(user_id: int, on: int):
    user = store().get(accounts.TABLE, user_id) or abort(404)
    if not on:  # disabling has a second step: the page with their open work (user_disable)
        return redirect(url_for(".user_disable", user_id=user_id))
    if ConfirmForm().validate_on_submit():
        try:
            accounts.set_active(store(), user_id, bool(on), actor())
        except accounts.UserError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"已{'启用' if on else '停用'}用户 {user['username']}", "success")
    return redirect(url_for(".user_list"))


def _successor_choices(form, user: dict) -> None:
    people = sorted((u for u in store().scan(accounts.TABLE) if u.get("active", True) and u["id"] != user["id"]),
                    key=accounts.display_name)
    for kind in (*handover.KINDS, "all"):
        first = "— 请选择 —" if kind == "all" else "— 同统一接手人 —"
        field = getattr(form, f"to_{kind}")
        field.choices = options([("", first)] + [
            (u["username"], f"{accounts.display_name(u)}（{u['username']}）") for u in people
            if kind == "all" or may_succeed(kind, u)])


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@roles_required(*ADMINS)
def user_disable(user_id: int):
    """停用 (second step): the user's open work, and its hand-over with the disabling in one step."""
    user = store().get(accounts.TABLE, user_id) or abort(404)
    if not user.get("active", True):
        return redirect(url_for(".user_list"))
    form = DisableForm()
    _successor_choices(form, user)
    work = handover.open_work(store(), user["username"])
    if not handover.has_open_work(work):
        form.submit.label.text = "确认停用"
    if form.validate_on_submit():
        successors = {k: getattr(form, f"to_{k}").data or form.to_all.data or "" for k in handover.KINDS}
        try:
            handover.disable_and_hand_over(store(), user_id, successors, actor(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            moved = sum(len(rows) for rows in work.values())
            flash(f"已停用用户 {accounts.display_name(user)}" + (f"，{moved} 项工作已交接" if moved else ""), "success")
            return redirect(url_for(".user_list"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/user_disable.html", form=form, user=user, work=work, kinds=handover.KINDS,
                           busy=handover.has_open_work(work)), status


# --- Departments (部门, GLOSSARY) ------------------------------------------------------------------


def _department_rows() -> list[dict]:
    counts: dict[int, int] = {}
    for u in store().scan(accounts.TABLE):
        if u.get("department_id"):
            counts[u["department_id"]] = counts.get(u["department_id"], 0) + 1
    return [{**d, "members": counts.get(d["id"], 0)} for d in departments.departments(store())]


@bp.route("/departments", methods=["GET", "POST"])
@roles_required(*ADMINS)
def departments_page():
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            dept = departments.create_department(store(), form.name.data, actor())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已新建部门 {dept['name']}", "success")
            return redirect(url_for(".departments_page"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/departments.html", rows=_department_rows(), form=form), status


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def department_edit(department_id: int):
    dept = store().get(departments.TABLE, department_id)
    if dept is None or dept.get("removed"):
        abort(404)
    # the stored revision fills the form for a GET only: a POST must bring the one it was read at
    form = DepartmentRenameForm(data={**dept, "rev": dept["_rev"]} if request.method == "GET" else None)
    if form.validate_on_submit():
        saved = save_edit(
            form, lambda rev: departments.rename_department(store(), department_id, form.name.data, actor(),
                                                          expect_rev=rev),
            "该部门", url_for(".department_edit", department_id=department_id), url_for(".departments_page"))
        if saved:
            return saved
    members = sorted(departments.members(store(), department_id), key=lambda u: u["username"])
    return render_template("admin/department_edit.html", form=form, dept=dept, members=members,
                           names=accounts.display_names(store()))


@bp.post("/departments/<int:department_id>/active/<int:on>")
@roles_required(*ADMINS)
def department_set_active(department_id: int, on: int):
    if ConfirmForm().validate_on_submit():
        try:
            dept = departments.set_department_active(store(), department_id, bool(on), actor())
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"已{'启用' if on else '停用'}部门 {dept['name']}", "success")
    return redirect(url_for(".departments_page"))


@bp.post("/departments/<int:department_id>/remove")
@roles_required(*ADMINS)
def department_remove(department_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            dept = departments.remove_department(store(), department_id, actor())
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"已删除部门 {dept['name']}", "success")
    return redirect(url_for(".departments_page"))


@bp.get("/status")
@roles_required(*ADMINS)
def status():
    """系统状态: each scheduled run's last result and failures; the mail marked failed."""
    return render_template("admin/status.html", runs=run_log.run_status(store()),
                           mail=outbox.outbox_status(store()), signing=signature_check.key_status(store(), now().date()))


# --- Company parameters (公司参数, GLOSSARY; definitions in records/policy.py) ---------------------


@bp.app_template_global("company_parameter")
def company_parameter(key: str) -> dict:
    """A company parameter as a page that uses it names it: label, value in force, unit, and the
    settings page's address for those who may set it ("公司参数：…", common/parameter.html)."""
    p = policy.COMPANY_PARAMETERS[key]
    may = current_user.is_authenticated and policy.may_set_parameter(current_user.roles, key)
    return {"key": key, "label": p.label, "value": policy.parameter(store(), key), "unit": p.unit,
            "url": url_for("admin.parameter_edit", key=key) if may else ""}


@bp.get("/parameters")
@roles_required(*PARAMETER_SETTERS)
def parameters_page():
    """公司参数: every company parameter, its value in force and default, who sets it, where it is used."""
    stored = parameters.all_values(store())
    rows = [{"p": p, "value": policy.parameter(store(), key), "stored": key in stored,
             "may_set": policy.may_set_parameter(current_user.roles, key)}
            for key, p in policy.COMPANY_PARAMETERS.items()]
    return render_template("admin/parameters.html", rows=rows)


@bp.route("/parameters/<key>", methods=["GET", "POST"])
@roles_required(*PARAMETER_SETTERS)
def parameter_edit(key: str):
    p = policy.COMPANY_PARAMETERS.get(key) or abort(404)
    if not policy.may_set_parameter(current_user.roles, key):
        abort(403)
    current = policy.parameter(store(), key)
    form = ParameterForm(data={"value": str(current)} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            value = policy.set_parameter(store(), key, form.value.data, user_doc(), form.note.data or "")
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已将「{p.label}」设为 {value} {p.unit}", "success")
            return redirect(url_for(".parameters_page"))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("admin/parameter_edit.html", form=form, p=p, current=current,
                           history=parameters.history(store(), key), names=accounts.display_names(store())), status
