"""The data folder's state: real data (initialised once by ``aftersales init``) or the demo.

A marker document (table ``install``, audited like any record) says which. A real folder
gets its first administrator from ``initialise`` and never demo users; the demo folder
(``./demo-data``) gets them from records/demo.py. ``start_check`` is what the app factory and
``aftersales serve`` run before serving: it refuses an uninitialised folder and a folder that
has lost its users, so an emptied users table can never bring back a demo administrator.

A folder of an older install (users, no marker) is real data: ``start_check`` marks it.
"""
from __future__ import annotations

from records.core.store import Store
from records.core.transaction import Transaction

from .accounts import TABLE as USERS
from .accounts import add_user, hash_password

TABLE = "install"
REAL, DEMO = "real", "demo"
KIND_NAMES = {REAL: "正式数据", DEMO: "演示数据"}


class FolderRefused(Exception):
    """The data folder cannot be served or changed as asked (a Chinese message saying why and what to do)."""


def marker(source: Store | Transaction) -> dict | None:
    """The folder's marker document, or None (an empty folder, or one of an older install)."""
    return next(iter(source.scan(TABLE)), None)


def kind(source: Store | Transaction) -> str | None:
    """REAL, DEMO, or None when the folder has no marker."""
    doc = marker(source)
    return doc["kind"] if doc else None


def has_records(store: Store) -> bool:
    """Whether any table of the folder holds a record (an empty folder holds none)."""
    if not store.tables_dir.is_dir():
        return False
    return any(store.count(p.name) for p in store.tables_dir.iterdir() if p.is_dir())


def mark(tx: Transaction, folder_kind: str, note: str) -> dict:
    """Write the marker in ``tx`` (once: an existing marker is kept and returned)."""
    existing = marker(tx)
    if existing:
        return existing
    return tx.insert(TABLE, {"kind": folder_kind, "note": note})


def initialise(store: Store, username: str, password: str, display_name: str = "系统管理员",
               email: str = "") -> dict:
    """Make ``store``'s empty folder a real one: its first administrator and the marker, in
    one transaction. Refuses a folder that is marked already or holds any record."""
    pw_hash = hash_password(password)  # the policy's checks and the slow hash, outside the lock
    where = store.root
    with store.transaction("init") as tx:
        done = marker(tx)
        if done:
            raise FolderRefused(f"数据文件夹 {where} 已初始化（{KIND_NAMES.get(done['kind'], done['kind'])}），"
                                "不能再次初始化")
        if next(iter(tx.scan(USERS)), None) is not None:
            raise FolderRefused(f"数据文件夹 {where} 已有用户，无需初始化（启动时自动标记为正式数据）")
        if has_records(store):
            raise FolderRefused(f"数据文件夹 {where} 不是空的，不能初始化：请指定一个新的（空）文件夹")
        user = add_user(tx, username, pw_hash, ["admin"], display_name=display_name, email=email)
        mark(tx, REAL, f"aftersales init：第一个系统管理员 {user['username']}")
    return user


def may_load_demo(store: Store) -> None:
    """Refuse to put demo data into a real folder (marked, or holding records of an older install)."""
    folder_kind = kind(store)
    if folder_kind == DEMO:
        return
    if folder_kind == REAL or has_records(store):
        raise FolderRefused(f"数据文件夹 {store.root} 是正式数据，不能加载演示数据；"
                            "演示请使用单独的文件夹（bash scripts/run.sh 默认使用 ./demo-data）")


def not_initialised(where) -> str:
    return (f"数据文件夹 {where} 尚未初始化。正式使用请先运行 aftersales init --data-dir {where}"
            "（创建第一个系统管理员）；试用请运行 bash scripts/run.sh（演示数据，./demo-data）")


def start_check(store: Store) -> str:
    """The folder's kind (REAL or DEMO) if it may be served, else FolderRefused with what to do.

    An unmarked folder with users (an older install) is marked real here.
    """
    where = store.root
    folder_kind = kind(store)
    users = store.count(USERS)
    if folder_kind is None:
        if users:
            with store.transaction("system") as tx:
                return mark(tx, REAL, "启动时标记：已有用户的数据文件夹（旧安装）视为正式数据")["kind"]
        if has_records(store):
            raise FolderRefused(
                f"数据文件夹 {where} 有记录但没有任何用户（用户表可能被清空或损坏），拒绝启动。"
                "请从备份恢复；如确需重建管理员，请运行 aftersales create-user NAME --role admin "
                f"--data-dir {where}")
        raise FolderRefused(not_initialised(where))
    if users == 0:
        if folder_kind == DEMO:
            raise FolderRefused(f"演示数据文件夹 {where} 没有用户：请运行 aftersales demo --data-dir {where} 重新加载")
        raise FolderRefused(
            f"数据文件夹 {where} 已初始化为正式数据，但用户表为空（数据可能被删除或损坏），拒绝启动；"
            "不会创建任何演示账号。请从备份恢复；如确需重建管理员，请运行 aftersales create-user NAME "
            f"--role admin --data-dir {where}")
    return folder_kind
