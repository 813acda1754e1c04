"""The SMTP settings the admin stores (else the environment's, ``records.core.mailer``).

Table ``settings``, document ``{"name": "smtp", host, port, starttls, username, sender,
base_url}``; the password is kept in the bookkeeping field ``_password`` so that it never
enters the audit trail (a change of it is audited as an event). Plain Python.
"""
from __future__ import annotations

from records.core.mailer import SmtpSettings, settings_from_env
from records.core.store import Store

from .inbox import NotificationError

SETTINGS = "settings"
SMTP_NAME = "smtp"


def settings_doc(store_or_tx, name: str) -> dict | None:
    """The settings document called ``name`` (from a Store or an open Transaction), or None."""
    for doc in store_or_tx.scan(SETTINGS):
        if doc.get("name") == name:
            return doc
    return None


def stored_smtp(store: Store) -> dict | None:
    """The admin's stored SMTP settings document (with ``_password``), or None."""
    return settings_doc(store, SMTP_NAME)


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
        doc = settings_doc(tx, SMTP_NAME)
        if doc is None:
            doc = tx.insert(SETTINGS, fields)
        else:
            doc = tx.update(SETTINGS, doc["id"], fields, note="邮件服务器设置")
        if password or not keep_password:
            tx.touch(SETTINGS, doc["id"], {"_password": password})
            tx.event(SETTINGS, doc["id"], "password_set", "邮件服务器登录密码已更改")
    return doc
