"""部门 and 主管领导 (GLOSSARY): the departments the admin keeps, each user's department and
supervisor — the person who approves for them (7.4; later issues: preventive actions, the
penalty register, approvals).

Table ``departments``, one document per department::

    {"name": "技质部", "active": true, "removed": false}

A user document keeps ``department_id`` (a department's id, or None) and ``supervisor`` (a
username, or ""); users stored before departments existed have neither and read as none.
A department is deactivated (no new members; its members keep it) or removed (a tombstone:
the audit trail keeps its history), and removed only while nobody belongs to it.
A supervisor is another active user, and the chain of supervisors never comes back to the
user (no cycles). Plain Python: no Flask. ``records.users.accounts`` checks a user's placement
with ``check_placement`` inside its own transaction.
"""
from __future__ import annotations

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

TABLE = "departments"
# The users' table, named here rather than imported: records.users.accounts imports this module
# (tests/test_users_departments.py checks that the two names agree).
USERS = "users"
MAX_NAME = 40
SECRETS = ("_pw", "_sessions")  # never handed out with a user (as records.users.accounts.public)


class DepartmentError(DomainError):
    pass


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DepartmentError("请输入部门名称", "name")
    if len(name) > MAX_NAME:
        raise DepartmentError(f"部门名称不能超过 {MAX_NAME} 个字", "name")
    return name


def _refuse_duplicate(tx: Transaction, name: str, exclude_id: int | None = None) -> None:
    wanted = name.casefold()
    for d in tx.scan(TABLE):
        if d["id"] != exclude_id and not d.get("removed") and d["name"].casefold() == wanted:
            raise DepartmentError(f"已有同名部门：{d['name']}", "name")


def departments(source: Store | Transaction, *, active_only: bool = False) -> list[dict]:
    """The departments (not removed), by name; with ``active_only``, the ones new members may join."""
    rows = [dict(d) for d in source.scan(TABLE) if not d.get("removed") and (d.get("active", True) or not active_only)]
    return sorted(rows, key=lambda d: d["name"])


def members(source: Store | Transaction, department_id: int) -> list[dict]:
    """The users (active or not) whose department is ``department_id``."""
    return [dict(u) for u in source.scan(USERS) if u.get("department_id") == department_id]


def create_department(store: Store, name: str, actor: str) -> dict:
    """A new, active department; a name already used (any case) is refused."""
    name = _clean_name(name)
    with store.transaction(actor) as tx:
        _refuse_duplicate(tx, name)
        return tx.insert(TABLE, {"name": name, "active": True, "removed": False})


def rename_department(store: Store, department_id: int, name: str, actor: str,
                      expect_rev: int | None = None) -> dict:
    """Rename a department (its members follow: they keep its id)."""
    name = _clean_name(name)
    with store.transaction(actor) as tx:
        _require(tx, department_id)
        _refuse_duplicate(tx, name, exclude_id=department_id)
        return tx.update(TABLE, department_id, {"name": name}, expect_rev=expect_rev)


def set_department_active(store: Store, department_id: int, active: bool, actor: str) -> dict:
    """Deactivate (no new members; the present ones keep it) or reactivate a department."""
    with store.transaction(actor) as tx:
        _require(tx, department_id)
        return tx.update(TABLE, department_id, {"active": bool(active)})


def remove_department(store: Store, department_id: int, actor: str) -> dict:
    """Remove a department nobody belongs to (a department in use is refused: deactivate it)."""
    with store.transaction(actor) as tx:
        dept = _require(tx, department_id)
        used = members(tx, department_id)
        if used:
            names = "、".join(u.get("display_name") or u["username"] for u in used[:5])
            raise DepartmentError(f"部门「{dept['name']}」还有 {len(used)} 名成员（{names}），不能删除；"
                                  "可先调整他们的部门，或停用该部门")
        return tx.update(TABLE, department_id, {"removed": True, "active": False}, note=f"删除部门「{dept['name']}」")


def _require(tx: Transaction, department_id: int) -> dict:
    dept = tx.get(TABLE, department_id)
    if dept is None or dept.get("removed"):
        raise DepartmentError("部门不存在")
    return dept


def check_placement(tx: Transaction, user_id: int | None, username: str, department_id, supervisor) -> dict:
    """The checked ``{"department_id", "supervisor"}`` of a user (``user_id`` None: a new one).

    The department exists and is active (a user already in a deactivated one may stay); the
    supervisor is another active user (one disabled since may stay until changed), whose own
    chain of supervisors does not lead back to this user.
    """
    try:
        department_id = int(department_id) if department_id not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        raise DepartmentError("请选择部门", "department_id") from None
    current = tx.get(USERS, user_id) if user_id is not None else None
    if department_id is not None:
        dept = tx.get(TABLE, department_id)
        if dept is None or dept.get("removed"):
            raise DepartmentError("部门不存在", "department_id")
        if not dept.get("active", True) and (current or {}).get("department_id") != department_id:
            raise DepartmentError(f"部门「{dept['name']}」已停用，不能加入新成员", "department_id")
    supervisor = (supervisor or "").strip()
    if supervisor:
        by_name = {u["username"]: u for u in tx.scan(USERS)}
        boss = by_name.get(supervisor)
        if boss is None:
            raise DepartmentError("主管领导不存在", "supervisor")
        if supervisor.lower() == username.strip().lower():
            raise DepartmentError("主管领导不能是本人", "supervisor")
        if not boss.get("active", True) and supervisor != (current or {}).get("supervisor"):
            raise DepartmentError(f"{boss.get('display_name') or supervisor} 已停用，不能担任主管领导", "supervisor")
        seen, up = {supervisor}, boss.get("supervisor")
        while up:
            if up.lower() == username.strip().lower():
                raise DepartmentError(f"不能形成循环：{boss.get('display_name') or supervisor} 的上级链中已有本人",
                                      "supervisor")
            if up in seen:
                break  # a cycle stored before this rule, not through this user
            seen.add(up)
            up = (by_name.get(up) or {}).get("supervisor")
    return {"department_id": department_id, "supervisor": supervisor}


def department_of(source: Store | Transaction, user: dict) -> dict | None:
    """The user's department (its document, even if deactivated), or None when they have none."""
    dept_id = user.get("department_id")
    if not dept_id:
        return None
    dept = source.get(TABLE, dept_id)
    return None if dept is None or dept.get("removed") else dept


def supervisor_of(source: Store | Transaction, user: dict) -> dict | None:
    """The user's 主管领导 (their user document), or None when they have none or it was disabled."""
    name = user.get("supervisor")
    if not name:
        return None
    boss = next((u for u in source.scan(USERS) if u["username"] == name), None)
    if boss is None or not boss.get("active", True):
        return None
    return {k: v for k, v in boss.items() if k not in SECRETS}
