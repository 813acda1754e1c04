"""The in-app inbox: the notices, one per person, with their read marks and their index.

Table ``notifications``, one document per notice to one person::

    {"recipient": "li.gong", "kind": "overdue", "subject": "...", "body": "...",
     "link": "/cases/12", "ref": {"table": "cases", "id": 12},
     "key": "overdue:12:decision:li.gong",          # unique: the same notice is never made twice
     "created_at": "2026-03-02T10:15:00+08:00", "read_at": null,
     "email": {"state": "pending", "to": "li@example.com", "attempts": 0, "last_error": "",
               "last_attempt_at": null, "sent_at": null}}

``email.state``: ``pending`` (queued; stays queued while the mail server is down), ``sent``,
``failed`` (the server refused the message for good, or it was tried ``policy.MAIL_MAX_ATTEMPTS``
times; the admin sees it on the 邮件设置 page and may queue it again), ``none``
(no mail: no address, account disabled, or mail not configured when the notice was made).
Notices are made (and their mail queued) by ``records.notifications.outbox.queue``. Plain Python.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from records.core.digest import ShardDigest
from records.core.errors import DomainError
from records.core.index import TableIndex
from records.core.store import Store

TABLE = "notifications"

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


# --- The index: keys, unread counts, pending mail (records/core/digest.py) ---------------


@dataclass
class _Index:
    keys: set[str] = field(default_factory=set)
    unread: Counter = field(default_factory=Counter)
    pending: list[int] = field(default_factory=list)


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
_KEEP_ON_DISK = "notifications.index_on_disk"


def keep_index_on_disk(store: Store) -> None:
    """Keep this data folder's index in ``<data>/cache`` (for short-lived cron processes)."""
    store.derived[_KEEP_ON_DISK] = True


def index(store: Store) -> _Index:
    """Keys, unread counts and pending mail of the committed table.

    Rebuilt when a shard changed, reading only the shards that changed (records/core/digest.py).
    """
    return _digest.collect(store, persist=store.derived.get(_KEEP_ON_DISK, False))


def existing_keys(store: Store) -> set[str]:
    """The keys of every stored notice (do not change the set returned)."""
    return index(store).keys


def unread_count(store: Store, username: str) -> int:
    return index(store).unread.get(username, 0)


def stamp(dt: datetime) -> str:
    """A notice's times (made, read, mailed) as stored: ISO 8601, whole seconds."""
    return dt.isoformat(timespec="seconds")


# --- The inbox ---------------------------------------------------------------------------------


_by_recipient = TableIndex(TABLE, lambda d: {"id": d["id"], "recipient": d["recipient"], "unread": not d.get("read_at")},
                           version="inbox-1", order=lambda r: r["id"], fields=("recipient",))


def _mine(store: Store, username: str, unread_only: bool) -> list[dict]:
    """The index rows of a user's notices, newest first (records/core/index.py)."""
    rows = _by_recipient.rows(store).bucket("recipient", username)
    return [r for r in rows if r["unread"]] if unread_only else rows


def inbox(store: Store, username: str, unread_only: bool = False, page: int = 1, per_page: int = 50):
    """One page of a user's notices (copies), newest first, and the total count."""
    rows = _mine(store, username, unread_only)
    start = max(page - 1, 0) * per_page
    return [store.require(TABLE, r["id"]) for r in rows[start:start + per_page]], len(rows)


def mark_read(store: Store, notification_id: int, username: str, now: datetime) -> dict:
    with store.transaction(username) as tx:
        doc = tx.get(TABLE, notification_id)
        if doc is None or doc["recipient"] != username:
            raise NotificationError("消息不存在")
        if doc.get("read_at"):
            return doc
        return tx.update(TABLE, notification_id, {"read_at": stamp(now)})


def mark_all_read(store: Store, username: str, now: datetime) -> int:
    ids = [r["id"] for r in _mine(store, username, unread_only=True)]
    if not ids:
        return 0
    done = 0
    with store.transaction(username) as tx:
        for i in ids:
            doc = tx.get(TABLE, i)
            if doc and not doc.get("read_at"):
                tx.update(TABLE, i, {"read_at": stamp(now)})
                done += 1
    return done
