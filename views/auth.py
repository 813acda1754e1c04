"""Login, logout, own password; the Flask-Login user object."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from forms.auth import ChangePasswordForm, LoginForm
from records.users import accounts, sessions, throttle
from records.users.roles import ROLES

from .common import form_errors_to_fields, is_local_path, store

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
login_manager.session_protection = "basic"


class CurrentUser(UserMixin):
    """The logged-in user: the stored document plus the session token of this browser."""

    def __init__(self, doc: dict, token: str):
        self.doc, self.token = doc, token
        self.id = doc["id"]
        self.username = doc["username"]
        self.display_name = doc.get("display_name") or doc["username"]
        self.roles = set(doc.get("roles", []))

    def get_id(self) -> str:
        return f"{self.id}:{self.token}"

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def role_names(self) -> list[str]:
        return [ROLES[r] for r in sorted(self.roles) if r in ROLES]

    @property
    def main_role_names(self) -> list[str]:
        """The roles worth naming, in ROLES' order: without those another one implies (a 技质部经理
        is an engineer too; every employee takes calls as 信息接收人)."""
        implied = {"tq_engineer"} if "tq_manager" in self.roles else set()
        if self.roles - {"receiver"}:
            implied.add("receiver")
        return [label for r, label in ROLES.items() if r in self.roles - implied]


@login_manager.user_loader
def load_user(session_id: str):
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    idle = timedelta(minutes=current_app.config["IDLE_MINUTES"])
    hours = current_app.config["SESSION_MAX_HOURS"]  # the environment's, else the company parameter
    max_age = timedelta(hours=hours) if hours else sessions.session_max_age(store())
    check = sessions.check_session(store(), int(user_id), token, idle, max_age=max_age)
    if check.user is None:
        session["_auth_reason"] = check.reason
        return None
    return CurrentUser(check.user, token)


@login_manager.unauthorized_handler
def unauthorized():
    reason = session.pop("_auth_reason", None)
    flash(reason or "请先登录", "warning")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))


def safe_next(target: str | None) -> str:
    return target if is_local_path(target) else url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            # request.remote_addr: the connection's, or behind the HTTPS proxy the address its
            # trusted X-Forwarded-For gives (app.py, ProxyFix)
            user, token = sessions.authenticate(store(), form.username.data, form.password.data,
                                                address=request.remote_addr or "unknown")
        except throttle.Throttled as exc:
            form.form_errors.append(str(exc))
            status = 429
        except accounts.LoginRefused as exc:
            form.form_errors.append(str(exc))
        else:
            session.clear()  # a fresh session on login (no fixation)
            session.permanent = True
            login_user(CurrentUser(user, token))
            flash(f"欢迎，{user['display_name']}", "success")
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    sessions.end_session(store(), current_user.id, current_user.token)
    logout_user()
    session.clear()
    flash("已退出登录", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            token = sessions.change_own_password(store(), current_user.id, form.old_password.data, form.new_password.data)
        except accounts.UserError as exc:
            form_errors_to_fields(form, exc)
        else:
            login_user(CurrentUser(store().require(accounts.TABLE, current_user.id), token))
            flash("密码已修改，其他地方的登录已全部退出", "success")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form)
