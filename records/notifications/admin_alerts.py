"""What the admins are told about the installation itself: a document archived unsigned because
the company's signing key is missing or broken (issue 18). Once a day per admin, whatever the
number of documents, so a missing key never floods an inbox; the admin status page shows it too.
"""
from __future__ import annotations

from datetime import datetime

from records.core.transaction import Transaction
from records.users.accounts import users_with_role
from records.users.roles import ADMINS

from .inbox import Notice
from .outbox import queue

STATUS_LINK = "/admin/status"


def warn_unsigned(tx: Transaction, signature: dict, what: str, now: datetime) -> list[dict]:
    """Tell the admins (once a day) that ``what`` was archived without the company's signature;
    nothing when ``signature`` says it was signed."""
    if signature.get("status") != "unsigned":
        return []
    why = signature.get("message") or "未配置签章密钥"
    notices = [Notice(u["username"], "signing", "【签章】文件已归档但未签章",
                      f"{what} 已归档，但未加盖电子签章：{why}。\n"
                      "请用 aftersales signing-key init（或 import）配置签章密钥；见系统状态页。",
                      key=f"signing-unsigned:{now.date().isoformat()}:{u['username']}", link=STATUS_LINK)
               for role in ADMINS for u in users_with_role(tx.store, role) if u.get("active", True)]
    return queue(tx, notices, now)
