"""Logins and server-side sessions: a token per browser, ended by logout, password change or
disabling (the account's sessions live in its document, so this holds across workers), by
the idle limit, and MAX_AGE after the login whatever the activity.

A login first passes the throttle of its client address (records/users/throttle.py); every
refused login counts against that address."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from records import policy
from records.core.store import Store

from . import throttle
from .accounts import (
    LOCKED,
    TABLE,
    LoginRefused,
    UserError,
    count_failure,
    find_by_username,
    is_locked,
    set_password,
    utc_now,
    verify_password,
)

# 公司参数 (GLOSSARY: a company parameter, not in the regulation; the default is company
# practice, ``policy.SESSION_HOURS``): a session ends this long after its login, whatever the
# activity. The admin sets it on the page 公司参数 (``session_max_age``); the app's
# SESSION_MAX_HOURS setting (AFTERSALES_SESSION_HOURS) overrides it. The tablet page's draft
# outlives it (signature.js keeps it per case and form version, not per session).
MAX_AGE = timedelta(hours=policy.SESSION_HOURS)


def session_max_age(store: Store) -> timedelta:
    """The session lifetime in force: the company parameter ``session_hours`` (stored or default)."""
    return timedelta(hours=policy.parameter(store, "session_hours"))

# Sessions unused this long are dropped when the user logs in again (a browser closed
# without logging out leaves its token behind); far longer than any idle timeout.
SESSION_RETENTION = timedelta(days=7)


def token_key(token: str) -> str:
    # Only a hash of the token is stored: a leaked data folder holds no usable session.
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(store: Store, username: str, password: str, now: datetime | None = None,
                 address: str | None = None) -> tuple[dict, str]:
    """Check a login; return (user, new session token) or raise LoginRefused.

    After MAX_FAILED_LOGINS wrong passwords the account is locked for LOCKOUT; the counter
    is kept in the store, so it holds across processes and restarts. With the client's
    ``address``, a blocked address is refused first (throttle.Throttled, no password check)
    and every refusal counts against it.
    """
    now = now or utc_now()
    if address:
        throttle.check(store, address, now)
    try:
        return _authenticate(store, username, password, now)
    except LoginRefused:
        if address:
            throttle.count_failure(store, address, now)
        raise


def _authenticate(store: Store, username: str, password: str, now: datetime) -> tuple[dict, str]:
    user = find_by_username(store, username)
    if user is None:
        verify_password({}, password)  # same work as for a real user: no username probing by timing
        raise LoginRefused("用户名或密码不正确")
    if is_locked(user, now):
        raise LoginRefused(LOCKED)
    ok = verify_password(user, password)
    with store.transaction(user["username"]) as tx:
        fresh = tx.require(TABLE, user["id"])
        if is_locked(fresh, now):
            # Locked by a concurrent attempt (another thread or worker) while this one was
            # verifying: refuse, and leave the lock and the counter as they are.
            raise_after = LoginRefused(LOCKED)
        elif not ok:
            lock = count_failure(tx, fresh, now, "login_failed", "密码错误")
            raise_after = LoginRefused(LOCKED if lock else "用户名或密码不正确")
        elif not fresh.get("active", True):
            tx.event(TABLE, user["id"], "login_refused", "账号已停用")
            raise_after = LoginRefused("该账号已停用，请联系系统管理员")
        else:
            raise_after = None
            token, sessions = new_session(fresh, now)
            tx.touch(TABLE, user["id"], {"_failed": 0, "_locked_until": None, "_sessions": sessions})
            tx.event(TABLE, user["id"], "login", "登录")
    if raise_after:
        raise raise_after
    return store.require(TABLE, user["id"]), token


def new_session(user: dict, now: datetime) -> tuple[str, dict]:
    """A new session token, and the user's sessions with it, without those unused for
    SESSION_RETENTION."""
    token = secrets.token_urlsafe(32)
    sessions = {k: v for k, v in (user.get("_sessions") or {}).items()
                if now - datetime.fromisoformat(v["seen"]) <= SESSION_RETENTION}
    sessions[token_key(token)] = {"created": now.isoformat(), "seen": now.isoformat()}
    return token, sessions


def open_session(store: Store, user_id: int, now: datetime | None = None) -> str:
    now = now or utc_now()
    with store.transaction("system") as tx:
        token, sessions = new_session(tx.require(TABLE, user_id), now)
        tx.touch(TABLE, user_id, {"_sessions": sessions})
    return token


@dataclass
class SessionCheck:
    user: dict | None
    reason: str = ""


def check_session(store: Store, user_id: int, token: str, idle: timedelta, now: datetime | None = None,
                  max_age: timedelta = MAX_AGE) -> SessionCheck:
    """The user behind a session token, if the session is alive on the server: not idle for
    longer than ``idle``, not older than ``max_age`` since its login."""
    now = now or utc_now()
    user = store.get(TABLE, user_id)
    if user is None or not user.get("active", True):
        return SessionCheck(None, "账号不存在或已停用")
    key = token_key(token)
    sess = (user.get("_sessions") or {}).get(key)
    if sess is None:
        return SessionCheck(None, "会话已结束，请重新登录")
    seen = datetime.fromisoformat(sess["seen"])
    if now - datetime.fromisoformat(sess["created"]) > max_age:
        hours = f"{max_age.total_seconds() / 3600:g}"
        end_session(store, user_id, token, note=f"会话已满 {hours} 小时（公司规定），自动退出")
        return SessionCheck(None, f"登录已满 {hours} 小时（公司规定），请重新登录；未提交的平板表单草稿会自动恢复")
    if now - seen > idle:
        end_session(store, user_id, token, note="会话超时（长时间未操作）")
        return SessionCheck(None, "长时间未操作，会话已过期，请重新登录")
    if (now - seen).total_seconds() > 60:  # refresh at most once a minute: writes are not free
        with store.transaction(user["username"]) as tx:
            fresh = tx.require(TABLE, user_id)
            sessions = dict(fresh.get("_sessions") or {})
            if key in sessions:
                sessions[key] = {**sessions[key], "seen": now.isoformat()}
                tx.touch(TABLE, user_id, {"_sessions": sessions})
    return SessionCheck(user)


def end_session(store: Store, user_id: int, token: str, note: str = "退出登录") -> None:
    with store.transaction("system") as tx:
        user = tx.get(TABLE, user_id)
        if user is None:
            return
        sessions = dict(user.get("_sessions") or {})
        if sessions.pop(token_key(token), None) is not None:
            tx.touch(TABLE, user_id, {"_sessions": sessions})
            tx.event(TABLE, user_id, "logout", note)


def change_own_password(store: Store, user_id: int, old: str, new: str) -> str:
    """Check the old password, set the new one, and return a fresh session token."""
    user = store.require(TABLE, user_id)
    if not verify_password(user, old):
        # Count it with the login failures: a stolen session must not guess the password here.
        with store.transaction(user["username"]) as tx:
            lock = count_failure(tx, tx.require(TABLE, user_id), utc_now(), "password_change_failed", "原密码错误",
                                  end_sessions=True)
        if lock:
            raise UserError("原密码连续输错次数过多，账号已锁定 15 分钟并退出登录", "old_password")
        raise UserError("原密码不正确", "old_password")
    set_password(store, user_id, new, user["username"])
    return open_session(store, user_id)
