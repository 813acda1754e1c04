"""The daily backup run (``aftersales backup``): snapshot, check, chain head out of the folder.

``run_backup`` takes a snapshot (records/core/backup.py: independent copies, the chain head
written beside it), checks the snapshot as a restore would (records/core/replay.py), records
the result for the admin page (``run_log``) and mails the result with the chain head to the
admins who have an e-mail address: kept outside the data folder, that head lets
``aftersales verify --head FILE`` find a trail rewritten later by someone who can write the
folder. A failure (the copy, or a snapshot that does not verify) is recorded and notified as
every scheduled run's is. Plain Python.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import orjson

from records.core.backup import head_path, make_backup, read_head
from records.core.replay import check_folder
from records.core.store import Store
from records.notifications.inbox import Notice
from records.notifications.outbox import deliver, notify

from .run_log import ACTOR, STATUS_LINK, admins, record_failure, record_success
from .runs import MAIL_BATCH

NAME = "backup"


def head_text(head: dict) -> str:
    return (f"审计记录链头：第 {head['seq']} 条，哈希 {head['hash']}，{head.get('audit_bytes', 0)} 字节，"
            f"时间 {head.get('taken', '')}")


def run_backup(store: Store, dest: Path, keep: int, now: datetime, send_mail: bool = True) -> dict:
    """Back up, check the snapshot, record and mail the result; never raises for a failed run
    (``ok`` False and ``error`` say what went wrong)."""
    summary: dict = {"command": NAME, "ok": False, "snapshot": None, "removed": [], "head": None, "error": "",
                     "mail": None}
    try:
        snap, removed = make_backup(store, dest, keep)
        summary.update(snapshot=str(snap), removed=[str(p) for p in removed])
        head = summary["head"] = read_head(head_path(snap))
        check = check_folder(snap, head)
        summary.update(entries=check.entries, records=check.records)
        if not check.ok:
            summary["error"] = f"备份 {snap.name} 未通过校验：{check.message}"
    except Exception as exc:  # noqa: BLE001 - a scheduled run reports every failure
        summary["error"] = f"备份失败：{type(exc).__name__}: {exc}"
    if summary["error"]:
        summary["mail"] = record_failure(store, NAME, now, summary["error"], send_mail=send_mail)["mail"]
        return summary
    summary["ok"] = True
    record_success(store, NAME, now, f"{Path(summary['snapshot']).name}：{head_text(summary['head'])}", always=True)
    body = (f"备份完成：{summary['snapshot']}（审计记录 {summary['entries']} 条，记录 {summary['records']} 条，"
            f"校验通过）。\n{head_text(summary['head'])}\n\n请保留这封邮件。把下面一行存为文件（如 head.json），"
            "日后可用 aftersales verify --head head.json 检查审计记录是否仍包含这一链头（未被改写）：\n"
            + orjson.dumps(summary["head"]).decode())
    notices = [Notice(recipient=u["username"], kind="backup", subject=f"数据备份完成：{Path(summary['snapshot']).name}",
                      body=body, key=f"backup:{Path(summary['snapshot']).name}:{u['username']}", link=STATUS_LINK)
               for u in admins(store, with_email=True)]
    notify(store, notices, now, actor=ACTOR)
    summary["mail"] = deliver(store, now, dry_run=not send_mail, limit=MAIL_BATCH, actor=ACTOR)
    return summary
