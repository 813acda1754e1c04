"""Users, roles, passwords, lockout and server-side sessions.

Failed-login counters and session tokens live in the user's stored document (bookkeeping
fields, not audited as edits), so they hold across worker processes and restarts, and a
logout, password change or disabling ends the sessions everywhere.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import DomainError
from .store import Store

TABLE = "users"

ROLES: dict[str, str] = {
    "receiver": "信息接收人",
    "tq_engineer": "技质部工程师",
    "tq_manager": "技质部经理",
    "technician": "售后服务技术人员",
    "sales": "销售部",
    "finance": "财务部",
    "vp": "分管副总",
    "gm": "总经理",
    "admin": "系统管理员",
}
TQ_ROLES = ("tq_engineer", "tq_manager")  # 技质部

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# Sessions unused this long are dropped when the user logs in again (a browser closed
# without logging out leaves its token behind); far longer than any idle timeout.
SESSION_RETENTION = timedelta(days=7)
MIN_PASSWORD_LENGTH = 12  # ASVS 2.1.1
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{2,32}$")
LOCKED = "连续输错密码次数过多，账号已锁定 15 分钟，请稍后再试"

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's RFC 9106 low-memory profile
_dummy_hash: str | None = None


def _dummy() -> str:
    """A hash verified against when a username does not exist, so both paths take the same
    time. Made on first use: cron processes never log anyone in and should not pay for it."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password")
    return _dummy_hash


class UserError(DomainError):
    pass


class LoginRefused(Exception):
    pass


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token_key(token: str) -> str:
    # Only a hash of the token is stored: a leaked data folder holds no usable session.
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", "password")
    if len(password) > 128:
        raise UserError("密码不能超过 128 个字符", "password")


def find_by_username(store: Store, username: str) -> dict | None:
    wanted = username.strip().lower()
    return store.first(TABLE, lambda u: u["username"].lower() == wanted)


def create_user(store: Store, username: str, password: str, roles: list[str], actor: str,
                display_name: str = "", email: str = "") -> dict:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise UserError("用户名只能包含字母、数字、下划线、点和连字符，2–32 个字符", "username")
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise UserError(f"未知角色：{', '.join(bad)}" if bad else "至少选择一个角色", "roles")
    check_password_policy(password)
    pw_hash = _hasher.hash(password)
    with store.transaction(actor) as tx:
        wanted = username.lower()
        clash = next((u for u in tx.scan(TABLE) if u["username"].lower() == wanted), None)
        if clash:
            raise UserError(f"用户名已存在：{clash['username']}（{clash.get('display_name', '')}）", "username")
        user = tx.insert(TABLE, {
            "username": username,
            "display_name": display_name.strip() or username,
            "email": email.strip(),
            "roles": sorted(set(roles)),
            "active": True,
        })
        tx.touch(TABLE, user["id"], {"_pw": pw_hash, "_sessions": {}, "_failed": 0, "_locked_until": None})
    return user


def update_user(store: Store, user_id: int, actor: str, expect_rev: int | None = None, **fields) -> dict:
    allowed = {"display_name", "email", "roles"}
    changes = {k: v for k, v in fields.items() if k in allowed}
    if "roles" in changes:
        bad = [r for r in changes["roles"] if r not in ROLES]
        if bad or not changes["roles"]:
            raise UserError("至少选择一个有效角色", "roles")
        changes["roles"] = sorted(set(changes["roles"]))
    with store.transaction(actor) as tx:
        if "roles" in changes and "admin" not in changes["roles"]:
            _keep_an_admin(tx, user_id, "roles")
        return tx.update(TABLE, user_id, changes, expect_rev=expect_rev)


def _keep_an_admin(tx, user_id: int, field: str) -> None:
    """Refuse a change that would leave no active administrator (nobody could manage users)."""
    others = [u for u in tx.scan(TABLE) if u["id"] != user_id and "admin" in u["roles"] and u.get("active", True)]
    user = tx.require(TABLE, user_id)
    if not others and "admin" in user["roles"] and user.get("active", True):
        raise UserError("这是最后一个启用的系统管理员，不能取消其管理员角色或停用", field)


def set_password(store: Store, user_id: int, password: str, actor: str) -> None:
    """Set a new password and end every session of the user (reset or change)."""
    check_password_policy(password)
    pw_hash = _hasher.hash(password)
    with store.transaction(actor) as tx:
        tx.require(TABLE, user_id)
        tx.touch(TABLE, user_id, {"_pw": pw_hash, "_sessions": {}, "_failed": 0, "_locked_until": None})
        tx.event(TABLE, user_id, "password_set", "密码已更改，所有会话已结束")


def change_own_password(store: Store, user_id: int, old: str, new: str) -> str:
    """Check the old password, set the new one, and return a fresh session token."""
    user = store.require(TABLE, user_id)
    if not _verify(user, old):
        # Count it with the login failures: a stolen session must not guess the password here.
        with store.transaction(user["username"]) as tx:
            lock = _count_failure(tx, tx.require(TABLE, user_id), _now(), "password_change_failed", "原密码错误",
                                  end_sessions=True)
        if lock:
            raise UserError("原密码连续输错次数过多，账号已锁定 15 分钟并退出登录", "old_password")
        raise UserError("原密码不正确", "old_password")
    set_password(store, user_id, new, user["username"])
    return open_session(store, user_id)


def set_active(store: Store, user_id: int, active: bool, actor: str) -> dict:
    """Disable or enable a user; never delete (their records stay theirs)."""
    with store.transaction(actor) as tx:
        if not active:
            _keep_an_admin(tx, user_id, None)
        user = tx.update(TABLE, user_id, {"active": active})
        if not active:
            tx.touch(TABLE, user_id, {"_sessions": {}})
    return user


def _verify(user: dict, password: str) -> bool:
    try:
        return _hasher.verify(user.get("_pw") or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False


def _is_locked(user: dict, now: datetime) -> bool:
    locked_until = user.get("_locked_until")
    return bool(locked_until) and datetime.fromisoformat(locked_until) > now


def _count_failure(tx, user: dict, now: datetime, action: str, what: str, end_sessions: bool = False) -> bool:
    """Count one wrong password in ``tx``; the MAX_FAILED_LOGINS-th locks the account for
    LOCKOUT (and, with ``end_sessions``, logs it out everywhere). True when it locked."""
    failed = user.get("_failed", 0) + 1
    locked = failed >= MAX_FAILED_LOGINS
    fields = {"_failed": 0 if locked else failed, "_locked_until": (now + LOCKOUT).isoformat() if locked else None}
    if locked and end_sessions:
        fields["_sessions"] = {}
    tx.touch(TABLE, user["id"], fields)
    tx.event(TABLE, user["id"], action, "账号已锁定" if locked else f"第 {failed} 次{what}")
    return locked


def authenticate(store: Store, username: str, password: str, now: datetime | None = None) -> tuple[dict, str]:
    """Check a login; return (user, new session token) or raise LoginRefused.

    After MAX_FAILED_LOGINS wrong passwords the account is locked for LOCKOUT; the counter
    is kept in the store, so it holds across processes and restarts.
    """
    now = now or _now()
    user = find_by_username(store, username)
    if user is None:
        _verify({}, password)  # same work as for a real user: no username probing by timing
        raise LoginRefused("用户名或密码不正确")
    if _is_locked(user, now):
        raise LoginRefused(LOCKED)
    ok = _verify(user, password)
    with store.transaction(user["username"]) as tx:
        fresh = tx.require(TABLE, user["id"])
        if _is_locked(fresh, now):
            # Locked by a concurrent attempt (another thread or worker) while this one was
            # verifying: refuse, and leave the lock and the counter as they are.
            raise_after = LoginRefused(LOCKED)
        elif not ok:
            lock = _count_failure(tx, fresh, now, "login_failed", "密码错误")
            raise_after = LoginRefused(LOCKED if lock else "用户名或密码不正确")
        elif not fresh.get("active", True):
            tx.event(TABLE, user["id"], "login_refused", "账号已停用")
            raise_after = LoginRefused("该账号已停用，请联系系统管理员")
        else:
            raise_after = None
            token, sessions = _with_new_session(fresh, now)
            tx.touch(TABLE, user["id"], {"_failed": 0, "_locked_until": None, "_sessions": sessions})
            tx.event(TABLE, user["id"], "login", "登录")
    if raise_after:
        raise raise_after
    return store.require(TABLE, user["id"]), token


def _with_new_session(user: dict, now: datetime) -> tuple[str, dict]:
    """A new session token, and the user's sessions with it, without those unused for
    SESSION_RETENTION."""
    token = secrets.token_urlsafe(32)
    sessions = {k: v for k, v in (user.get("_sessions") or {}).items()
                if now - datetime.fromisoformat(v["seen"]) <= SESSION_RETENTION}
    sessions[_token_key(token)] = {"created": now.isoformat(), "seen": now.isoformat()}
    return token, sessions


def open_session(store: Store, user_id: int, now: datetime | None = None) -> str:
    now = now or _now()
    with store.transaction("system") as tx:
        token, sessions = _with_new_session(tx.require(TABLE, user_id), now)
        tx.touch(TABLE, user_id, {"_sessions": sessions})
    return token


@dataclass
class SessionCheck:
    user: dict | None
    reason: str = ""


def check_session(store: Store, user_id: int, token: str, idle: timedelta, now: datetime | None = None) -> SessionCheck:
    """The user behind a session token, if the session is alive on the server."""
    now = now or _now()
    user = store.get(TABLE, user_id)
    if user is None or not user.get("active", True):
        return SessionCheck(None, "账号不存在或已停用")
    key = _token_key(token)
    sess = (user.get("_sessions") or {}).get(key)
    if sess is None:
        return SessionCheck(None, "会话已结束，请重新登录")
    seen = datetime.fromisoformat(sess["seen"])
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
        if sessions.pop(_token_key(token), None) is not None:
            tx.touch(TABLE, user_id, {"_sessions": sessions})
            tx.event(TABLE, user_id, "logout", note)


def users_with_role(store: Store, role: str) -> list[dict]:
    return [u for u in store.find(TABLE, lambda u: role in u["roles"] and u.get("active", True))]


def display_names(store: Store) -> dict[str, str]:
    """username → the name shown to people (the username when none is set)."""
    return {u["username"]: u.get("display_name") or u["username"] for u in store.scan(TABLE)}


def public(user: dict) -> dict:
    """A user document without secrets, for templates and exports."""
    return {k: v for k, v in user.items() if k not in ("_pw", "_sessions")}
