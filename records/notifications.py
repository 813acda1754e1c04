"""The in-app inbox, the e-mail outbox, and the SMTP settings.

Table ``notifications``, one document per notice to one person::

    {"recipient": "li.gong", "kind": "overdue", "subject": "...", "body": "...",
     "link": "/cases/12", "ref": {"table": "cases", "id": 12},
     "key": "overdue:12:decision:li.gong",          # unique: the same notice is never made twice
     "created_at": "2026-03-02T10:15:00+08:00", "read_at": null,
     "email": {"state": "pending", "to": "li@example.com", "attempts": 0, "last_error": "",
               "last_attempt_at": null, "sent_at": null}}

``email.state``: ``pending`` (queued; stays queued while the mail server is down), ``sent``,
``failed`` (the server refused the message for good; the admin may queue it again), ``none``
(no mail: no address, account disabled, or mail not configured when the notice was made).

Every notice lands in the inbox. Mail goes out only from the cron commands (``deliver``), one
committed state change per message right after the server accepted it, under an outbox lock
so that two commands never send the same message; a message is sent again only if the
process dies between the server's "250 OK" and that commit (and its Message-ID, derived from
the key, is then the same).

Table ``settings``, document ``{"name": "smtp", host, port, starttls, username, sender,
base_url}``; the password is kept in the bookkeeping field ``_password`` so that it never
enters the audit trail (a change of it is audited as an event). When the admin has stored no
settings, the environment is used (``records.mailer.settings_from_env``). Plain Python.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from .errors import DomainError
from .files import FileLock, LockBusy
from .mailer import Mailer, MailError, SmtpSettings, build_message, settings_from_env
from .shard_digest import ShardDigest
from .store import Store, Transaction
from .users import TABLE as USERS

TABLE = "notifications"
SETTINGS = "settings"
SMTP_NAME = "smtp"
OUTBOX_NAME = "outbox"  # status of the last delivery run (connection errors)
OUTBOX_LOCK = "mail-outbox.lock"

PENDING, SENT, FAILED, NONE = "pending", "sent", "failed", "none"
EMAIL_STATES = {PENDING: "待发送", SENT: "已发送", FAILED: "发送失败", NONE: "不发邮件"}

MAX_SUBJECT = 200
MAX_BODY = 4000


class NotificationError(DomainError):
    pass


@dataclass(frozen=True)
class Notice:
    """A notice to be made: one recipient; ``key`` makes it unique for good."""

    recipient: str
    kind: str
    subject: str
    body: str
    key: str
    link: str = ""
    ref: dict | None = None

    def as_dict(self) -> dict:
        return {"recipient": self.recipient, "kind": self.kind, "subject": self.subject,
                "body": self.body, "key": self.key, "link": self.link, "ref": self.ref}


# --- The index: keys, unread counts, pending mail (records/shard_digest) -------------------


@dataclass
class _Index:
    keys: set[str] = field(default_factory=set)
    unread: Counter = field(default_factory=Counter)
    pending: list[int] = field(default_factory=list)


_persistent_roots: set[str] = set()


def _summary(doc: dict) -> list:
    return [doc["id"], doc["key"], doc["recipient"], not doc.get("read_at"),
            (doc.get("email") or {}).get("state") == PENDING]


def _build_index(summaries) -> _Index:
    idx = _Index()
    for doc_id, key, recipient, unread, pending in summaries:
        idx.keys.add(key)
        if unread:
            idx.unread[recipient] += 1
        if pending:
            idx.pending.append(doc_id)
    idx.pending.sort()
    return idx


_digest = ShardDigest(TABLE, _summary, version="1", combine=_build_index)


def keep_index_on_disk(store: Store) -> None:
    """Keep this data folder's index in ``<data>/cache`` (for short-lived cron processes)."""
    _persistent_roots.add(str(store.root))


def _index(store: Store) -> _Index:
    """Keys, unread counts and pending mail of the committed table.

    Rebuilt when a shard changed, reading only the shards that changed (records/shard_digest).
    """
    return _digest.collect(store, persist=str(store.root) in _persistent_roots)


def existing_keys(store: Store) -> set[str]:
    """The keys of every stored notice (do not change the set returned)."""
    return _index(store).keys


def unread_count(store: Store, username: str) -> int:
    return _index(store).unread.get(username, 0)


# --- Making notices ----------------------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


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
            "created_at": _iso(now),
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


# --- The inbox ---------------------------------------------------------------------------------


def inbox(store: Store, username: str, unread_only: bool = False, page: int = 1, per_page: int = 50):
    """One page of a user's notices, newest first, and the total count."""
    def mine(d):
        return d["recipient"] == username and not (unread_only and d.get("read_at"))
    return store.page(TABLE, mine, key=lambda d: d["id"], reverse=True, page=page, per_page=per_page)


def get_own(store: Store, notification_id: int, username: str) -> dict:
    doc = store.get(TABLE, notification_id)
    if doc is None or doc["recipient"] != username:
        raise NotificationError("消息不存在")  # another's notice is as good as absent
    return doc


def mark_read(store: Store, notification_id: int, username: str, now: datetime) -> dict:
    with store.transaction(username) as tx:
        doc = tx.get(TABLE, notification_id)
        if doc is None or doc["recipient"] != username:
            raise NotificationError("消息不存在")
        if doc.get("read_at"):
            return doc
        return tx.update(TABLE, notification_id, {"read_at": _iso(now)})


def mark_all_read(store: Store, username: str, now: datetime) -> int:
    ids = [d["id"] for d in store.scan(TABLE) if d["recipient"] == username and not d.get("read_at")]
    if not ids:
        return 0
    done = 0
    with store.transaction(username) as tx:
        for i in ids:
            doc = tx.get(TABLE, i)
            if doc and not doc.get("read_at"):
                tx.update(TABLE, i, {"read_at": _iso(now)})
                done += 1
    return done


# --- SMTP settings -----------------------------------------------------------------------------


def _settings_doc(store_or_tx, name: str) -> dict | None:
    for doc in store_or_tx.scan(SETTINGS):
        if doc.get("name") == name:
            return doc
    return None


def stored_smtp(store: Store) -> dict | None:
    """The admin's stored SMTP settings document (with ``_password``), or None."""
    return _settings_doc(store, SMTP_NAME)


def mail_settings(store: Store) -> SmtpSettings:
    """The admin's settings when stored, else the environment's."""
    doc = stored_smtp(store)
    if doc is None:
        return settings_from_env()
    return SmtpSettings(
        host=doc.get("host", ""), port=int(doc.get("port") or 25), starttls=bool(doc.get("starttls")),
        username=doc.get("username", ""), password=doc.get("_password", ""), sender=doc.get("sender", ""),
        base_url=doc.get("base_url", ""), source="admin",
    )


def save_smtp_settings(store: Store, data: dict, actor: str, keep_password: bool = True) -> dict:
    """Store the admin's SMTP settings. An empty password with ``keep_password`` keeps the old one.

    An empty host turns e-mail off (notices then land in the inbox only).
    """
    host = (data.get("host") or "").strip()
    sender = (data.get("sender") or "").strip()
    try:
        port = int(data.get("port") or 25)
    except (TypeError, ValueError):
        raise NotificationError("端口必须是整数", "port") from None
    if not 1 <= port <= 65535:
        raise NotificationError("端口必须在 1–65535 之间", "port")
    if host and not sender:
        raise NotificationError("请填写发件人地址", "sender")
    base_url = (data.get("base_url") or "").strip()
    if base_url and not base_url.startswith(("http://", "https://")):
        raise NotificationError("系统网址须以 http:// 或 https:// 开头", "base_url")
    fields = {"name": SMTP_NAME, "host": host, "port": port, "starttls": bool(data.get("starttls")),
              "username": (data.get("username") or "").strip(), "sender": sender, "base_url": base_url}
    password = data.get("password") or ""
    with store.transaction(actor) as tx:
        doc = _settings_doc(tx, SMTP_NAME)
        if doc is None:
            doc = tx.insert(SETTINGS, fields)
        else:
            doc = tx.update(SETTINGS, doc["id"], fields, note="邮件服务器设置")
        if password or not keep_password:
            tx.touch(SETTINGS, doc["id"], {"_password": password})
            tx.event(SETTINGS, doc["id"], "password_set", "邮件服务器登录密码已更改")
    return doc


# --- The outbox --------------------------------------------------------------------------------


def outbox_status(store: Store) -> dict:
    counts = Counter((d.get("email") or {}).get("state", NONE) for d in store.scan(TABLE))
    last = _settings_doc(store, OUTBOX_NAME) or {}
    return {"counts": {s: counts.get(s, 0) for s in EMAIL_STATES},
            "last_run_at": last.get("last_run_at"), "last_error": last.get("last_error", "")}


def requeue_failed(store: Store, actor: str) -> int:
    ids = [d["id"] for d in store.scan(TABLE) if (d.get("email") or {}).get("state") == FAILED]
    if not ids:
        return 0
    with store.transaction(actor) as tx:
        for i in ids:
            doc = tx.require(TABLE, i)
            tx.update(TABLE, i, {"email": {**doc["email"], "state": PENDING}}, note="重新排队发送")
    return len(ids)


def _record_run(store: Store, now: datetime, error: str, actor: str) -> None:
    with store.transaction(actor) as tx:
        doc = _settings_doc(tx, OUTBOX_NAME)
        fields = {"name": OUTBOX_NAME, "last_run_at": _iso(now), "last_error": error}
        if doc is None:
            tx.insert(SETTINGS, fields)
        elif doc.get("last_error") != error or error:
            tx.update(SETTINGS, doc["id"], fields)


def deliver(store: Store, now: datetime, dry_run: bool = False, limit: int | None = None,
            settings: SmtpSettings | None = None, actor: str = "cron") -> dict:
    """Send the queued mails; each is marked sent as soon as the server accepted it.

    While the server cannot be reached, the mails stay queued (the error is recorded in the
    outbox status). A message the server refuses for a while (4xx) stays queued with its
    attempt counted and is skipped for this run (``deferred``): the messages after it still go
    out, so one message refused every time never holds up the rest. One refused for good
    (5xx) is marked failed.
    """
    result = {"pending": 0, "sent": 0, "failed": 0, "deferred": 0, "error": ""}
    pending = _index(store).pending
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
    result["pending"] = len(_index(store).pending)
    return result


def _mark(store: Store, actor: str, doc_id: int, **email) -> None:
    with store.transaction(actor) as tx:
        doc = tx.get(TABLE, doc_id)
        if doc is not None:
            tx.update(TABLE, doc_id, {"email": {**doc["email"], **email}})


def _deliver_locked(store: Store, now: datetime, ids: list[int], settings: SmtpSettings,
                    result: dict, actor: str) -> None:
    try:
        with Mailer(settings) as mailer:
            for doc_id in ids:
                doc = store.get(TABLE, doc_id)  # re-read under the outbox lock
                if doc is None or doc["email"].get("state") != PENDING:
                    continue
                mail = doc["email"]
                attempts = int(mail.get("attempts", 0)) + 1
                msg = build_message(settings, mail["to"], doc["subject"], doc["body"], doc.get("link", ""),
                                    key=doc["key"])
                try:
                    mailer.send(msg)
                except MailError as exc:
                    _mark(store, actor, doc_id, state=FAILED if exc.permanent else PENDING,
                          attempts=attempts, last_error=str(exc), last_attempt_at=_iso(now))
                    if exc.permanent:
                        result["failed"] += 1
                        continue
                    if exc.per_message:
                        # Refused for now (4xx) by a server that still talks to us: this one
                        # stays queued for a later run, the others go out now.
                        result["deferred"] += 1
                        continue
                    raise  # the session is in doubt: stop here, retry on the next run
                _mark(store, actor, doc_id, state=SENT, attempts=attempts, last_error="",
                      last_attempt_at=_iso(now), sent_at=_iso(now))
                result["sent"] += 1
    except MailError as exc:
        result["error"] = str(exc)
    _record_run(store, now, result["error"], actor)
