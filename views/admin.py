"""Administration: users (create, edit roles, reset password, disable — never delete), and the
system status (the scheduled runs' results, the mail that could not be sent)."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from forms.admin import ConfirmForm, ResetPasswordForm, UserCreateForm, UserEditForm
from records.jobs import run_log
from records.notifications import outbox
from records.users import accounts
from records.users.roles import ADMINS

from .common import actor, form_errors_to_fields, roles_required, save_edit, store

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles_required(*ADMINS)
def user_list():
    rows = sorted(store().find(accounts.TABLE), key=lambda u: u["username"].lower())
    return render_template("admin/users.html", users=rows, confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*ADMINS)
def user_new():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(store(), form.username.data, form.password.data, form.roles.data,
                                     actor(), display_name=form.display_name.data, email=form.email.data or "")
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
    form = UserEditForm(data={**user, "rev": user["_rev"]})
    pw_form = ResetPasswordForm(prefix="pw")
    if form.validate_on_submit():
        saved = save_edit(
            form, lambda rev: accounts.update_user(store(), user_id, actor(), expect_rev=rev,
                                                display_name=form.display_name.data, email=form.email.data or "",
                                                roles=form.roles.data),
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
    form = UserEditForm(data={**user, "rev": user["_rev"]})
    return render_template("admin/user_edit.html", form=form, pw_form=pw_form, user=user,
                           confirm=ConfirmForm()), 400


@bp.post("/users/<int:user_id>/active/<int:on>")
@roles_required(*ADMINS)
def user_set_active(user_id: int, on: int):
    user = store().get(accounts.TABLE, user_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            accounts.set_active(store(), user_id, bool(on), actor())
        except accounts.UserError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"已{'启用' if on else '停用'}用户 {user['username']}", "success")
    return redirect(url_for(".user_list"))


@bp.get("/status")
@roles_required(*ADMINS)
def status():
    """系统状态: each scheduled run's last result and failures; the mail marked failed."""
    return render_template("admin/status.html", runs=run_log.run_status(store()),
                           mail=outbox.outbox_status(store()))
