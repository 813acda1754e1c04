"""The scheduled commands ``aftersales overdue`` and ``aftersales followups`` (issue 6).

Each run holds an overlap lock, ``<data>/cron-<name>.lock``, taken without waiting: a second
run while the first is still going exits at once with exit code 75 (EX_TEMPFAIL, "try again
later") and a message on stderr. The lock is an flock, so the kernel drops it when a run dies,
even by SIGKILL. It is not the data lock: the work itself writes through the store's
transactions, like the web app. Any other failure exits 1 with the reason on stderr.
"""
from __future__ import annotations

import json
import sys
import traceback
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .options import data_dir_option

EX_TEMPFAIL = 75  # sysexits.h: temporary failure, the run may be retried later


def _parse_now(value: str | None) -> datetime:
    from records.policy import TIMEZONE
    zone = ZoneInfo(TIMEZONE)
    if not value:
        return datetime.now(zone).replace(microsecond=0)
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"不是 ISO 日期时间（如 2026-03-02T09:30）：{value!r}", param_hint="--now") from None
    return dt.replace(tzinfo=zone) if dt.tzinfo is None else dt.astimezone(zone)


def _fail(message: str, code: int = 1):
    click.echo(message, err=True)
    sys.exit(code)


def _run(name: str, data_dir: Path, now_text: str | None, dry_run: bool, as_json: bool, no_mail: bool,
         verbose: bool, work, printer) -> None:
    from records.core.files import FileLock, LockBusy
    from records.core.store import Store
    from records.jobs.run_log import record_success

    now = _parse_now(now_text)
    if not data_dir.is_dir():
        _fail(f"数据文件夹不存在：{data_dir}")
    try:
        with FileLock(data_dir / f"cron-{name}.lock").hold(blocking=False):
            store = Store(data_dir)
            summary = work(store, now, dry_run=dry_run, send_mail=not no_mail)
    except LockBusy:
        _fail(f"aftersales {name}：上一次运行尚未结束（{data_dir / f'cron-{name}.lock'} 被占用），本次不执行。",
              EX_TEMPFAIL)
    except Exception as exc:  # noqa: BLE001 - a cron job reports every failure and exits non-zero
        if verbose:
            traceback.print_exc()
        message = f"aftersales {name} 失败：{type(exc).__name__}: {exc}"
        if not dry_run:
            _report_failure(data_dir, name, now, message, send_mail=not no_mail)
        _fail(message)
    if not dry_run:
        try:
            record_success(store, name, now)
        except Exception as exc:  # noqa: BLE001 - the run's own work is done; say so and go on
            click.echo(f"运行结果未能记录：{type(exc).__name__}: {exc}", err=True)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    else:
        printer(summary)
    if summary.get("mail", {}).get("error") and not dry_run and not no_mail:
        click.echo(f"邮件未能全部发送，将在下次运行时重试：{summary['mail']['error']}", err=True)


def _report_failure(data_dir: Path, name: str, now: datetime, message: str, send_mail: bool) -> None:
    """Show the failure on the admin page and notify the admins (records/jobs/run_log.py); when
    even that fails (the store itself may be the trouble), say so on stderr."""
    from records.core.store import Store
    from records.jobs.run_log import record_failure
    try:
        record_failure(Store(data_dir), name, now, message, send_mail=send_mail)
    except Exception as exc:  # noqa: BLE001
        click.echo(f"未能记录失败或通知管理员：{type(exc).__name__}: {exc}", err=True)


def _common(fn):
    fn = click.option("--verbose", is_flag=True, help="On failure, print the traceback too.")(fn)
    fn = click.option("--no-mail", is_flag=True, help="Queue e-mails but do not send them in this run.")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary.")(fn)
    fn = click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing, send nothing.")(fn)
    fn = click.option("--now", "now_text", metavar="ISO-DATETIME", default=None,
                      help="Run as of this time (naive = Asia/Shanghai), e.g. 2026-03-02T09:30.")(fn)
    return data_dir_option(fn)


def _mail_line(mail: dict) -> str:
    line = f"邮件：发送 {mail.get('sent', 0)}，失败 {mail.get('failed', 0)}，待发送 {mail.get('pending', 0)}"
    return line + (f"（{mail['error']}）" if mail.get("error") else "")


def _print_overdue(s: dict) -> None:
    head = "【演练，未做任何更改】" if s["dry_run"] else ""
    click.echo(f"{head}超期检查 {s['now']}：超期期限 {s['overdue']} 个，新标记 {len(s['flagged'])} 个，"
               f"处罚建议 {s['fines_proposed']} 条，即将到期提醒 {len(s['warnings'])} 个，新消息 {s['notifications']} 条。")
    for f in s["flagged"]:
        click.echo(f"  超期 {f['case_number'] or f['case_id']} {f['deadline']}（{f['clause']}）期限 {f['due']} 责任人 {f['responsible'] or '技质部'}")
    for f in s["fines"]:
        click.echo(f"  处罚建议 {f['case_number'] or f['case_id']} {f['clause']} {f['person'] or '技质部'} {f['amount']} 元")
    for w in s["warnings"]:
        click.echo(f"  即将到期 {w['case_number'] or w['case_id']} {w['deadline']}（{w['clause']}）{w['due']}")
    click.echo(_mail_line(s["mail"]))


def _print_followups(s: dict) -> None:
    head = "【演练，未做任何更改】" if s["dry_run"] else ""
    r = s["reminders"]
    click.echo(f"{head}跟踪回访 {s['now']}：新建任务 {len(s['created'])} 个，改派 {len(s['reassigned'])} 个，"
               f"提醒：新任务 {r['assigned']}、即将到期 {r['due']}、逾期 {r['overdue']}、未指派 {r['unassigned']}；"
               f"新消息 {s['notifications']} 条。")
    for t in s["created"]:
        click.echo(f"  {t['clause']} {t['period']} 顾客 {t['customer_id']} → {t['assignee'] or '（无可指派的工程师）'}，{t['due']} 前")
    click.echo(_mail_line(s["mail"]))


@click.command()
@_common
def overdue(data_dir: Path, now_text: str | None, dry_run: bool, as_json: bool, no_mail: bool, verbose: bool):
    """Flag passed deadlines, propose the 6.1.4/6.2.8 fines, notify, warn of deadlines due soon.

    Run every 15 minutes in working time (see the README). Exit 75: a run is still going.
    """
    from records.jobs.overdue import run_overdue
    _run("overdue", data_dir, now_text, dry_run, as_json, no_mail, verbose, run_overdue, _print_overdue)


@click.command()
@_common
def followups(data_dir: Path, now_text: str | None, dry_run: bool, as_json: bool, no_mail: bool, verbose: bool):
    """Create this quarter's (8.1) and this year's (8.2) follow-up call tasks; remind the assignees.

    Run every morning (see the README). Exit 75: a run is still going.
    """
    from records.jobs.followup_calls import run_followups
    _run("followups", data_dir, now_text, dry_run, as_json, no_mail, verbose, run_followups, _print_followups)
