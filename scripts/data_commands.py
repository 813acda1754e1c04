"""The data-safety commands: ``aftersales verify``, ``aftersales backup``, ``aftersales restore``.

``verify`` checks the audit trail's hash chain, rebuilds every record from its audit entries
and compares it with the stored one (records/core/replay.py), and with ``--head FILE`` checks
that the chain still contains a chain head kept outside the folder. ``backup`` is the daily
scheduled run (records/jobs/backup_run.py). ``restore`` copies a snapshot that verifies into a
missing or empty folder (records/core/restore.py). Exit 1 with a message on failure.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .options import data_dir_option, open_store


@click.command()
@data_dir_option
@click.option("--head", "head_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A chain head file (<snapshot>.head, or the JSON line of the backup mail): the trail "
                   "must still contain it.")
@click.option("--signatures", is_flag=True,
              help="Also check the company signature of every signed PDF (slower: reads and parses each file).")
def verify(data_dir: Path, head_file: Path | None, signatures: bool):
    """Check the audit chain and every record against its audit entries; exit 1 at the first fault.

    With --signatures, also check every signed file's PAdES signature against the certificates
    kept in the data folder (and exit 1 when one is not valid)."""
    from records.core.backup import read_head
    from records.core.replay import check_store
    head = None
    if head_file is not None:
        try:
            head = read_head(head_file)
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"无法读取链头文件 {head_file}：{exc}") from None
    if not data_dir.is_dir():
        raise click.ClickException(f"数据文件夹不存在：{data_dir}")
    result = check_store(open_store(data_dir), head)
    if not result.ok:
        click.echo(result.message, err=True)
        sys.exit(1)
    click.echo(f"审计记录完整：{result.entries} 条，哈希链无断裂；{result.records} 条记录与审计记录重建的一致"
               + (f"；包含链头（第 {head['seq']} 条）" if head else "") + "。")
    if signatures:
        from records.jobs.signature_check import check_all
        report = check_all(open_store(data_dir))
        for line in report.problems:
            click.echo(line, err=True)
        click.echo(f"电子签章：检查 {report.checked} 份，有效 {report.valid} 份，无效 {len(report.problems)} 份。")
        if not report.ok:
            sys.exit(1)


@click.command()
@data_dir_option
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the snapshots [default: DATA_DIR/../<name>-backups].")
@click.option("--keep", default=14, show_default=True, type=click.IntRange(min=1), help="Snapshots to keep.")
@click.option("--no-mail", is_flag=True, help="Queue the result's e-mail to the admins but do not send it now.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON summary.")
def backup(data_dir: Path, dest: Path | None, keep: int, no_mail: bool, as_json: bool):
    """Snapshot the data folder (independent copies) while the app runs, check it, keep the last N;
    write the chain head beside it and mail it with the result to the admins."""
    from records.jobs.backup_run import head_text, run_backup
    from records.policy import TIMEZONE
    store = open_store(data_dir)
    dest = dest or data_dir.resolve().parent / f"{data_dir.resolve().name}-backups"
    summary = run_backup(store, dest, keep, datetime.now(ZoneInfo(TIMEZONE)).replace(microsecond=0),
                         send_mail=not no_mail)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    if not summary["ok"]:
        click.echo(summary["error"], err=True)
        sys.exit(1)
    if not as_json:
        click.echo(f"备份完成：{summary['snapshot']}" + (f"；删除旧备份 {len(summary['removed'])} 个"
                                                    if summary["removed"] else ""))
        click.echo(f"{head_text(summary['head'])}（已写入 {summary['snapshot']}.head）")
    mail = summary.get("mail") or {}
    if mail.get("error") and not no_mail:
        click.echo(f"邮件未能全部发送，将在下次运行时重试：{mail['error']}", err=True)


@click.command()
@click.argument("snapshot", type=click.Path(exists=True, file_okay=False, path_type=Path))
@data_dir_option
@click.option("--force", is_flag=True, help="Replace a non-empty data folder (its content is moved aside, not deleted).")
@click.option("--yes", is_flag=True, help="With --force: do not ask for confirmation (for scripts).")
def restore(snapshot: Path, data_dir: Path, force: bool, yes: bool):
    """Restore SNAPSHOT into the data folder (missing or empty; --force --yes for a non-empty one).

    The snapshot is checked first and refused if it does not verify; the restored folder is
    checked again before it takes the data folder's name. Stop the app and the timers first.
    """
    from records.core.restore import RestoreError
    from records.core.restore import restore as do_restore
    non_empty = data_dir.exists() and any(data_dir.iterdir()) if data_dir.is_dir() else data_dir.exists()
    if force and non_empty and not yes:
        click.confirm(f"数据文件夹 {data_dir} 不是空的，用快照 {snapshot.name} 覆盖它（原有内容移到一旁保留）？",
                      abort=True)
    try:
        done = do_restore(snapshot, data_dir, force=force)
    except RestoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已从 {snapshot} 恢复到 {done.target}：审计记录 {done.check.entries} 条，"
               f"{done.check.records} 条记录，校验通过。")
    if done.moved_aside:
        click.echo(f"原有内容已移到 {done.moved_aside}（确认无误后可删除）。")
