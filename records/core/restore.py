"""Restoring a snapshot (``aftersales restore SNAPSHOT --data-dir DIR``).

The snapshot is checked first (``replay.check_folder``: chain, its own chain head beside it,
every record against its audit entries) and refused if it does not verify. Its files are
copied (records/core/backup.py ``copy_file``: independent copies) into a new folder beside the
target, synced and checked again; only then does that folder take the target's name. A target
that is missing or empty is simply replaced; a non-empty one only with ``force``, and it is
not deleted but moved aside to ``<target>.before-restore-<time>``. A target some process is
writing (its lock is held) is refused: stop the app and the timers first.
"""
from __future__ import annotations

import os
import shutil
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .backup import META, copy_file, head_path, read_head, sync_files
from .files import TEMP_PREFIX, FileLock, LockBusy, fsync_dir
from .replay import DataCheck, check_folder


class RestoreError(RuntimeError):
    """A restore refused or failed; the message (Chinese) says why, the target is unchanged."""


@dataclass
class Restored:
    target: Path
    moved_aside: Path | None
    check: DataCheck


def check_snapshot(snapshot: Path) -> DataCheck:
    """A snapshot's own check: its records, its chain and the chain head written beside it."""
    if not (snapshot / META).is_file():
        raise RestoreError(f"{snapshot} 不是备份快照（缺少 {META}）")
    head = None
    if head_path(snapshot).exists():
        try:
            head = read_head(head_path(snapshot))
        except (OSError, ValueError) as exc:
            raise RestoreError(f"快照的链头文件无法读取：{exc}") from None
    return check_folder(snapshot, head)


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def restore(snapshot: Path, target: Path, force: bool = False) -> Restored:
    snapshot, target = Path(snapshot), Path(target)
    if not snapshot.is_dir():
        raise RestoreError(f"快照不存在：{snapshot}")
    before = check_snapshot(snapshot)
    if not before.ok:
        raise RestoreError(f"快照未通过校验，不予恢复：{before.message}")
    if target.exists() and not target.is_dir():
        raise RestoreError(f"目标不是文件夹：{target}")
    empty = _is_empty(target)
    if not empty and not force:
        raise RestoreError(f"目标文件夹 {target} 不是空的，未作任何更改。要覆盖它（原有内容会移到一旁保留），"
                           "请加 --force --yes")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f"{TEMP_PREFIX}restore-{target.name}-{stamp}"
    lock = FileLock(target / ".lock") if (target / ".lock").exists() else None
    aside = None
    try:
        with lock.hold(blocking=False) if lock else nullcontext():
            copied = []
            for path in sorted(snapshot.rglob("*")):
                rel = path.relative_to(snapshot)
                if path.is_dir() or rel == Path(META):
                    continue
                copy_file(path, work / rel)
                copied.append(work / rel)
            work.mkdir(parents=True, exist_ok=True)
            sync_files(copied, work)
            after = check_folder(work)
            if not after.ok:
                raise RestoreError(f"恢复出的数据未通过校验，目标未作更改：{after.message}")
            if target.exists():
                if empty:
                    target.rmdir()
                else:
                    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
                    os.rename(target, aside)
            os.rename(work, target)
            fsync_dir(target.parent)
    except LockBusy:
        shutil.rmtree(work, ignore_errors=True)
        raise RestoreError(f"数据文件夹 {target} 正在被使用（应用或定时任务在写入），请先停止它们") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if aside is not None and aside.exists() and not target.exists():
            os.rename(aside, target)  # the new copy did not take the name: the old folder keeps it
        raise
    return Restored(target, aside, after)
