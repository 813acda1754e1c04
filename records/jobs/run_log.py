"""The scheduled runs' results, for the admin page, and the admins told when one fails.

Table ``job_runs``, one document per job (``backup``, ``overdue``, ``followups``)::

    {"name": "overdue", "state": "ok" | "failed", "last_run_at": ..., "last_ok_at": ...,
     "failed_since": ... | None, "last_error": "...",
     "failures": [{"at": ..., "error": "..."}, ...]}      # the newest MAX_FAILURES_KEPT

A success is written only when it changes something the page shows (the first run, the end of
a failure streak, or ``always``: the daily backup), so the overdue run every 15 minutes does not
grow the audit trail. The first failure of a streak is notified to every active admin (mailed
to those with an e-mail address) with the error; later failures of the same streak are only
recorded. Plain Python.
"""
from __future__ import annotations

from datetime import datetime

from records.core.store import Store
from records.core.transaction import Transaction
from records.notifications.inbox import Notice, stamp
from records.notifications.outbox import deliver, queue
from records.users.accounts import users_with_role
from records.users.roles import ADMINS

from .runs import MAIL_BATCH

TABLE = "job_runs"
JOBS = {"backup": "数据备份（aftersales backup）", "overdue": "超期检查（aftersales overdue）",
        "followups": "跟踪回访（aftersales followups）"}
OK, FAILED = "ok", "failed"
MAX_FAILURES_KEPT = 20
STATUS_LINK = "/admin/status"
ACTOR = "cron"


def admins(store: Store, with_email: bool = False) -> list[dict]:
    """The active admins (with an e-mail address only, if asked), by username."""
    found = {u["username"]: u for role in ADMINS for u in users_with_role(store, role)}
    return [u for _, u in sorted(found.items()) if not with_email or (u.get("email") or "").strip()]


def _doc(tx: Transaction, name: str) -> dict | None:
    return next((d for d in tx.scan(TABLE) if d.get("name") == name), None)


def _save(tx: Transaction, doc: dict | None, fields: dict) -> dict:
    if doc is None:
        return tx.insert(TABLE, fields)
    return tx.update(TABLE, doc["id"], fields)


def record_success(store: Store, name: str, now: datetime, message: str = "", always: bool = False) -> None:
    with store.transaction(ACTOR) as tx:
        doc = _doc(tx, name)
        if doc is not None and doc.get("state") == OK and not always:
            return
        _save(tx, doc, {"name": name, "state": OK, "last_run_at": stamp(now), "last_ok_at": stamp(now),
                        "failed_since": None, "last_message": message})


def record_failure(store: Store, name: str, now: datetime, error: str, send_mail: bool = True) -> dict:
    """Record a failed run; notify the admins at the first failure of a streak, send the mail.

    Returns ``{"notified": [usernames], "mail": deliver's summary or None}``.
    """
    error = error.strip() or "未知错误"
    with store.transaction(ACTOR) as tx:
        doc = _doc(tx, name)
        new_streak = doc is None or doc.get("state") != FAILED
        since = stamp(now) if new_streak else doc.get("failed_since") or stamp(now)
        failures = [{"at": stamp(now), "error": error[:2000]}] + list((doc or {}).get("failures") or [])
        _save(tx, doc, {"name": name, "state": FAILED, "last_run_at": stamp(now), "failed_since": since,
                        "last_error": error[:2000], "failures": failures[:MAX_FAILURES_KEPT]})
        notified = []
        if new_streak:
            label = JOBS.get(name, name)
            notices = [Notice(recipient=u["username"], kind="job_failed", subject=f"定时任务失败：{label}",
                              body=f"{label} 于 {stamp(now)} 运行失败：\n{error}\n\n"
                                   "在问题解决、任务再次成功运行之前，不会再为同一任务发送失败通知；"
                                   "每次失败都记录在“系统状态”页。",
                              key=f"job_failed:{name}:{since}:{u['username']}", link=STATUS_LINK)
                       for u in admins(store)]
            notified = [d["recipient"] for d in queue(tx, notices, now)]
    mail = deliver(store, now, limit=MAIL_BATCH, actor=ACTOR) if send_mail and notified else None
    return {"notified": notified, "mail": mail}


def run_status(store: Store) -> list[dict]:
    """Every scheduled job with its last result (None: never recorded), for the admin page."""
    docs = {d.get("name"): d for d in store.scan(TABLE)}
    return [{"name": name, "label": label, "doc": docs.get(name)} for name, label in JOBS.items()]


def failing(store: Store) -> list[str]:
    """The names of the jobs whose last run failed."""
    return [d["name"] for d in store.scan(TABLE) if d.get("state") == FAILED]
