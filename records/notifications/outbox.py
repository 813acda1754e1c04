"""The e-mail outbox: notices made with their mail queued, and the queue sent.

Every notice lands in the inbox (``records.notifications.inbox``). Mail goes out from the cron
commands and, right after the commit of a step, from the app (``records.notifications.courier``),
both through ``deliver``, one committed state change per message right after the server
accepted it, under an outbox lock so that two commands never send the same message; a message
is sent again only if the process dies between the server's "250 OK" and that commit (and its
Message-ID, derived from the key, is then the same). Plain Python.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime
from email import errors as email_errors
from typing import Iterable

from records import policy
from records.core.files import FileLock, LockBusy
from records.core.mailer import Mailer, MailError, SmtpSettings, build_message
from records.core.store import Store
from records.core.transaction import Transaction
from records.users.accounts import TABLE as USERS

from .inbox import (
    EMAIL_STATES,
    FAILED,
    MAX_BODY,
    MAX_SUBJECT,
    NONE,
    PENDING,
    SENT,
    TABLE,
    Notice,
    existing_keys,
    index,
    stamp,
)
from .smtp_settings import SETTINGS, mail_settings, settings_doc

OUTBOX_NAME = "outbox"  # status of the last delivery run (connection errors)
OUTBOX_LOCK = "mail-outbox.lock"


def _user_emails(store: Store) -> dict[str, tuple[str, bool]]:
    return {u["username"]: ((u.get("email") or "").strip(), bool(u.get("active", True)))
            for u in store.scan(USERS)}


def queue(tx: Transaction, notices: Iterable[Notice], now: datetime,
          settings: SmtpSettings | None = None) -> list[dict]:
    """Insert the notices whose key is new, inside ``tx``; return the stored documents.

    Call it inside the transaction that makes the change the notices are about: the notices
    commit with it or not at all. Keys already stored, or queued earlier in ``tx``, are skipped.
    """
    store = tx.store
    seen: set[str] = tx.__dict__.setdefault("_notification_keys", set())
    known = existing_keys(store)  # committed state; exact under the transaction's lock
    mail_on = (settings if settings is not None else mail_settings(store)).enabled
    emails = None
    out = []
    for n in notices:
        if not n.recipient or n.key in known or n.key in seen:
            continue
        seen.add(n.key)
        if emails is None:
            emails = _user_emails(store)
        address, active = emails.get(n.recipient, ("", False))
        if not mail_on:
            state, reason = NONE, "未配置邮件服务器"
        elif not active:
            state, reason = NONE, "账号不存在或已停用"
        elif not address:
            state, reason = NONE, "用户未填写电子邮箱"
        else:
            state, reason = PENDING, ""
        out.append(tx.insert(TABLE, {
            **n.as_dict(),
            "subject": n.subject[:MAX_SUBJECT],
            "body": n.body[:MAX_BODY],
            "created_at": stamp(now),
            "read_at": None,
            "email": {"state": state, "to": address if state == PENDING else "", "attempts": 0,
                      "last_error": reason, "last_attempt_at": None, "sent_at": None},
        }))
    return out


def notify(store: Store, notices: Iterable[Notice], now: datetime, actor: str = "system") -> list[dict]:
    """Make the new notices in a transaction of their own."""
    notices = list(notices)
    if not notices:
        return []
    with store.transaction(actor) as tx:
        return queue(tx, notices, now)


# --- The outbox --------------------------------------------------------------------------------


def outbox_status(store: Store) -> dict:
    counts = Counter((d.get("email") or {}).get("state", NONE) for d in store.scan(TABLE))
    last = settings_doc(store, OUTBOX_NAME) or {}
    return {"counts": {s: counts.get(s, 0) for s in EMAIL_STATES},
            "last_run_at": last.get("last_run_at"), "last_error": last.get("last_error", "")}


def requeue_failed(store: Store, actor: str) -> int:
    ids = [d["id"] for d in store.scan(TABLE) if (d.get("email") or {}).get("state") == FAILED]
    if not ids:
        return 0
    with store.transaction(actor) as tx:
        for i in ids:
            doc = tx.require(TABLE, i)
            tx.update(TABLE, i, {"email": {**doc["email"], "state": PENDING, "attempts": 0}}, note="重新排队发送")
    return len(ids)


def _record_run(store: Store, now: datetime, error: str, actor: str) -> None:
    with store.transaction(actor) as tx:
        doc = settings_doc(tx, OUTBOX_NAME)
        fields = {"name": OUTBOX_NAME, "last_run_at": stamp(now), "last_error": error}
        if doc is None:
            tx.insert(SETTINGS, fields)
        elif doc.get("last_error") != error or error:
            tx.update(SETTINGS, doc["id"], fields)


def deliver(store: Store, now: datetime, dry_run: bool = False, limit: int | None = None,
            settings: SmtpSettings | None = None, actor: str = "cron", ids: Iterable[int] | None = None) -> dict:
    """Send the queued mails; each is marked sent as soon as the server accepted it.

    While the server cannot be reached, the mails stay queued (the error is recorded in the
    outbox status). A message the server refuses for a while (4xx) stays queued with its
    attempt counted and is skipped for this run (``deferred``): the messages after it still go
    out, so one message refused every time never holds up the rest. One refused for good
    (5xx), one that cannot be built, and one tried ``policy.parameter(store, "mail_max_attempts")``
    times (公司参数, default ``policy.MAIL_MAX_ATTEMPTS``) are marked failed: the 邮件设置 page lists them for the admin. ``ids``: only these
    notices (the app sends a step's own mail at once, ``records.notifications.courier``); the
    rest wait for the scheduled run.
    """
    result = {"pending": 0, "sent": 0, "failed": 0, "deferred": 0, "error": ""}
    pending = index(store).pending
    if ids is not None:
        wanted = set(ids)
        pending = [i for i in pending if i in wanted]
    result["pending"] = len(pending)
    if not pending or dry_run:
        return result
    settings = settings or mail_settings(store)
    if not settings.enabled:
        result["error"] = "未配置邮件服务器"
        return result
    try:
        with FileLock(store.root / OUTBOX_LOCK).hold(blocking=False):
            _deliver_locked(store, now, list(pending)[:limit] if limit else list(pending), settings,
                            result, actor)
    except LockBusy:
        result["busy"] = True  # another command is sending the queue right now: nothing to do
    result["pending"] = len(index(store).pending)
    return result


def _mark(store: Store, actor: str, doc_id: int, **email) -> None:
    with store.transaction(actor) as tx:
        doc = tx.get(TABLE, doc_id)
        if doc is not None:
            tx.update(TABLE, doc_id, {"email": {**doc["email"], **email}})


RECONNECTS_PER_RUN = 3  # sessions a run opens again after one broke on a message


def _deliver_locked(store: Store, now: datetime, ids: list[int], settings: SmtpSettings,
                    result: dict, actor: str) -> None:
    """Send ``ids`` in order. Each message's tries are counted; at the company parameter
    ``mail_max_attempts`` (``policy.parameter``) it is marked failed for the admin. A message that cannot even be
    built is failed at once; one that breaks the session costs a reconnection (at most
    ``RECONNECTS_PER_RUN``), so that it never holds up the messages after it."""
    todo = list(ids)
    sessions = 0
    while todo and sessions <= RECONNECTS_PER_RUN:
        sessions += 1
        try:
            with Mailer(settings) as mailer:
                while todo:
                    if not _send_one(store, now, mailer, settings, todo.pop(0), result, actor):
                        break  # the session is in doubt: open a new one for the rest
        except MailError as exc:  # no connection (the server is down): the rest stays queued
            result["error"] = str(exc)
            break
    _record_run(store, now, result["error"], actor)


def _send_one(store: Store, now: datetime, mailer: Mailer, settings: SmtpSettings, doc_id: int,
              result: dict, actor: str) -> bool:
    """Send one queued message and mark it; False when the session broke on it."""
    doc = store.get(TABLE, doc_id)  # re-read under the outbox lock
    if doc is None or (doc.get("email") or {}).get("state") != PENDING:
        return True
    mail = doc["email"]
    attempts = int(mail.get("attempts", 0)) + 1
    try:
        msg = build_message(settings, mail.get("to", ""), doc.get("subject", ""), doc.get("body", ""),
                            doc.get("link") or "", key=doc.get("key", ""))
    except (ValueError, TypeError, LookupError, email_errors.MessageError) as exc:
        _mark(store, actor, doc_id, state=FAILED, attempts=attempts, last_error=f"邮件无法生成：{exc}",
              last_attempt_at=stamp(now))
        result["failed"] += 1
        return True
    try:
        mailer.send(msg)
    except MailError as exc:
        give_up = exc.permanent or attempts >= policy.parameter(store, "mail_max_attempts")
        error = str(exc) if not give_up or exc.permanent else f"{exc}（已尝试 {attempts} 次，不再重试）"
        _mark(store, actor, doc_id, state=FAILED if give_up else PENDING, attempts=attempts, last_error=error,
              last_attempt_at=stamp(now))
        if give_up:
            result["failed"] += 1
        elif exc.per_message:
            result["deferred"] += 1  # refused for now (4xx): stays queued for a later run
        if not exc.per_message:
            result["error"] = str(exc)
            return False
        return True
    _mark(store, actor, doc_id, state=SENT, attempts=attempts, last_error="", last_attempt_at=stamp(now),
          sent_at=stamp(now))
    result["sent"] += 1
    return True


def failed_messages(store: Store, limit: int = 100) -> list[dict]:
    """The messages marked failed, newest first (the 邮件设置 page lists them)."""
    rows = [d for d in store.scan(TABLE) if (d.get("email") or {}).get("state") == FAILED]
    rows.sort(key=lambda d: d["id"], reverse=True)
    return [{"id": d["id"], "recipient": d.get("recipient"), "kind": d.get("kind"), "to": d["email"].get("to", ""),
             "subject": d.get("subject", ""), "attempts": d["email"].get("attempts", 0),
             "last_error": d["email"].get("last_error", ""), "last_attempt_at": d["email"].get("last_attempt_at")}
            for d in rows[:limit]]
