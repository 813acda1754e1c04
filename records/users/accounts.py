"""Users: accounts, passwords (Argon2id) and the lockout after wrong passwords.

Failed-login counters and session tokens live in the user's stored document (bookkeeping
fields, not audited as edits), so they hold across worker processes and restarts, and a
logout, password change or disabling ends the sessions everywhere (records/users/sessions.py).
Who may do what is records/users/roles.py.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction, copy_doc

from .departments import check_placement
from .roles import ROLES

TABLE = "users"

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
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


def utc_now() -> datetime:
    """The current time, aware, UTC (lockouts and sessions are kept in UTC)."""
    return datetime.now(timezone.utc)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符", "password")
    if len(password) > 128:
        raise UserError("密码不能超过 128 个字符", "password")


def find_by_username(source: Store | Transaction, username: str) -> dict | None:
    """The user called ``username`` (any case), a private copy, from a Store or an open Transaction."""
    wanted = username.strip().lower()
    for user in source.scan(TABLE):
        if user["username"].lower() == wanted:
            return copy_doc(user)
    return None


def person_name(source: Store | Transaction, username: str | None) -> str:
    """A user's display name for the timeline (技质部 when nobody in particular)."""
    if not username:
        return "技质部"
    return (find_by_username(source, username) or {}).get("display_name") or username


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` after the policy's checks (slow on purpose: outside any lock)."""
    check_password_policy(password)
    return _hasher.hash(password)


def create_user(store: Store, username: str, password: str, roles: list[str], actor: str,
                display_name: str = "", email: str = "", department_id: int | None = None,
                supervisor: str = "") -> dict:
    """A new active user; ``department_id`` and ``supervisor`` (部门, 主管领导) are checked by
    ``records.users.departments.check_placement``."""
    _check_new(username, roles)  # the cheap checks before the slow hash
    pw_hash = hash_password(password)
    with store.transaction(actor) as tx:
        return add_user(tx, username, pw_hash, roles, display_name=display_name, email=email,
                        department_id=department_id, supervisor=supervisor)


def _check_new(username: str, roles: list[str]) -> str:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise UserError("用户名只能包含字母、数字、下划线、点和连字符，2–32 个字符", "username")
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise UserError(f"未知角色：{', '.join(bad)}" if bad else "至少选择一个角色", "roles")
    return username


def add_user(tx: Transaction, username: str, pw_hash: str, roles: list[str], display_name: str = "",
             email: str = "", department_id: int | None = None, supervisor: str = "") -> dict:
    """Insert a user in ``tx`` (the password already hashed by ``hash_password``)."""
    username = _check_new(username, roles)
    wanted = username.lower()
    clash = next((u for u in tx.scan(TABLE) if u["username"].lower() == wanted), None)
    if clash:
        raise UserError(f"用户名已存在：{clash['username']}（{clash.get('display_name', '')}）", "username")
    placed = check_placement(tx, None, username, department_id, supervisor)
    user = tx.insert(TABLE, {
        "username": username,
        "display_name": display_name.strip() or username,
        "email": email.strip(),
        "roles": sorted(set(roles)),
        "active": True,
        **placed,
    })
    tx.touch(TABLE, user["id"], {"_pw": pw_hash, "_sessions": {}, "_failed": 0, "_locked_until": None})
    return user


def update_user(store: Store, user_id: int, actor: str, expect_rev: int | None = None, **fields) -> dict:
    """Change a user's name, e-mail, roles, department or supervisor (the last two checked
    together by ``records.users.departments.check_placement``)."""
    allowed = {"display_name", "email", "roles", "department_id", "supervisor"}
    changes = {k: v for k, v in fields.items() if k in allowed}
    if "roles" in changes:
        bad = [r for r in changes["roles"] if r not in ROLES]
        if bad or not changes["roles"]:
            raise UserError("至少选择一个有效角色", "roles")
        changes["roles"] = sorted(set(changes["roles"]))
    with store.transaction(actor) as tx:
        if "roles" in changes and "admin" not in changes["roles"]:
            _keep_an_admin(tx, user_id, "roles")
        if "department_id" in changes or "supervisor" in changes:
            user = tx.require(TABLE, user_id)
            placed = check_placement(tx, user_id, user["username"], changes.get("department_id", user.get("department_id")),
                                     changes.get("supervisor", user.get("supervisor")))
            changes.update(placed)
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


def set_active(store: Store, user_id: int, active: bool, actor: str) -> dict:
    """Disable or enable a user; never delete (their records stay theirs). Disabling with the
    hand-over of their open work: records.followups.handover."""
    with store.transaction(actor) as tx:
        return set_active_tx(tx, user_id, active)


def set_active_tx(tx: Transaction, user_id: int, active: bool) -> dict:
    """``set_active`` inside an open transaction: disabling ends every session of the user."""
    if not active:
        _keep_an_admin(tx, user_id, None)
    user = tx.update(TABLE, user_id, {"active": active})
    if not active:
        tx.touch(TABLE, user_id, {"_sessions": {}})
    return user


def verify_password(user: dict, password: str) -> bool:
    """Whether ``password`` is the user's (a missing hash costs the same time: no probing)."""
    try:
        return _hasher.verify(user.get("_pw") or _dummy(), password)
    except (VerificationError, InvalidHashError):
        return False


def is_locked(user: dict, now: datetime) -> bool:
    """Whether the account is locked out at ``now`` (MAX_FAILED_LOGINS wrong passwords)."""
    locked_until = user.get("_locked_until")
    return bool(locked_until) and datetime.fromisoformat(locked_until) > now


def count_failure(tx, user: dict, now: datetime, action: str, what: str, end_sessions: bool = False) -> bool:
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


def users_with_role(store: Store, role: str) -> list[dict]:
    return [u for u in store.find(TABLE, lambda u: role in u["roles"] and u.get("active", True))]


def display_name(user: dict) -> str:
    """The name a user is shown by (the username when none is set)."""
    return user.get("display_name") or user["username"]


def display_names(source: Store | Transaction) -> dict[str, str]:
    """username → the name shown to people (the username when none is set); ``source``: anything
    that scans the users (a store, a transaction, an archive's snapshot)."""
    return {u["username"]: display_name(u) for u in source.scan(TABLE)}


def public(user: dict) -> dict:
    """A user document without secrets, for templates and exports."""
    return {k: v for k, v in user.items() if k not in ("_pw", "_sessions")}
