"""消息: the in-app inbox (unread count in the header, mark read, open the linked case or call)
and, for the admin, the e-mail (SMTP) settings and the outbox status."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.notifications import ActionForm, SmtpSettingsForm, TestMailForm
from records import policy
from records.cases.notices import PRIVATE_KINDS
from records.core.errors import DomainError
from records.core.mailer import MailError, send_test_mail
from records.notifications import inbox, outbox, smtp_settings
from records.notifications.inbox import NotificationError
from records.users.roles import ADMINS

from .common import Pager, actor, form_errors_to_fields, is_local_path, now, page_arg, roles_required, store

bp = Blueprint("notifications", __name__, url_prefix="/inbox")
PER_PAGE = 50
SMTP_FIELDS = ("host", "port", "starttls", "username", "sender", "base_url")  # the form's, but the password


def _safe_link(link: str | None) -> str | None:
    """Only a local path (the links are ours, but a stored value is still checked)."""
    return link if is_local_path(link) else None


@bp.app_context_processor
def _inbox_header():
    def inbox_unread() -> int:
        if not current_user.is_authenticated:
            return 0
        return inbox.unread_count(store(), current_user.username)
    return {"inbox_unread": inbox_unread}


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    rows, total = inbox.inbox(store(), current_user.username, unread_only=unread_only,
                              page=page_arg(), per_page=PER_PAGE)
    for r in rows:
        r["safe_link"] = _safe_link(r.get("link"))
    return render_template("notifications/index.html", rows=rows, unread_only=unread_only,
                           paging=Pager(page_arg(), PER_PAGE, total), form=ActionForm(),
                           mail_admin=current_user.has_any(*ADMINS))


def _back():
    return redirect(url_for(".index", unread=request.args.get("unread") or None, page=request.args.get("page") or None))


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        inbox.mark_read(store(), notification_id, current_user.username, now())
    except NotificationError:
        abort(404)
    return _back()


@bp.post("/<int:notification_id>/open")
@login_required
def open_link(notification_id: int):
    """Mark read and go to the case or call the notice is about."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        doc = inbox.mark_read(store(), notification_id, current_user.username, now())
    except NotificationError:
        abort(404)
    return redirect(_safe_link(doc.get("link")) or url_for(".index"))


@bp.post("/read-all")
@login_required
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    n = inbox.mark_all_read(store(), current_user.username, now())
    flash(f"已将 {n} 条消息标为已读", "success")
    return redirect(url_for(".index"))


# --- The admin's e-mail settings ----------------------------------------------------------------


def _settings_page(form: SmtpSettingsForm, test_form: TestMailForm):
    s = smtp_settings.mail_settings(store())
    return render_template("notifications/settings.html", form=form, test_form=test_form, settings=s.public(),
                           status=outbox.outbox_status(store()), action_form=ActionForm(),
                           states=inbox.EMAIL_STATES, failed=outbox.failed_messages(store(), limit=50),
                           private_kinds=PRIVATE_KINDS,
                           max_attempts=policy.parameter(store(), "mail_max_attempts"))


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(*ADMINS)
def settings():
    # the stored settings, else the environment's to start from
    doc = smtp_settings.stored_smtp(store()) or smtp_settings.mail_settings(store()).public()
    form = SmtpSettingsForm(data={k: doc.get(k) for k in SMTP_FIELDS})
    if form.validate_on_submit():
        try:
            data = form.to_data()
            if form.clear_password.data:
                data["password"] = ""
            smtp_settings.save_smtp_settings(store(), data, actor(), keep_password=not form.clear_password.data)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("邮件服务器设置已保存", "success")
            return redirect(url_for(".settings"))
    return _settings_page(form, TestMailForm(to=current_user.doc.get("email") or None))


@bp.post("/settings/test")
@roles_required(*ADMINS)
def test_mail():
    test_form = TestMailForm()
    if test_form.validate_on_submit():
        s = smtp_settings.mail_settings(store())
        try:
            send_test_mail(s, test_form.to.data)
        except MailError as exc:
            flash(f"测试邮件发送失败：{exc}", "danger")
        else:
            flash(f"测试邮件已发送到 {test_form.to.data}", "success")
        return redirect(url_for(".settings"))
    doc = smtp_settings.stored_smtp(store()) or {}
    form = SmtpSettingsForm(formdata=None, data={k: doc.get(k) for k in SMTP_FIELDS})
    return _settings_page(form, test_form)


@bp.post("/settings/requeue")
@roles_required(*ADMINS)
def requeue():
    if not ActionForm().validate_on_submit():
        abort(400)
    n = outbox.requeue_failed(store(), actor())
    flash(f"已将 {n} 封发送失败的邮件重新排队，下次定时任务运行时发送", "success")
    return redirect(url_for(".settings"))
