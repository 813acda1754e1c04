"""The yearly archive (10): ``aftersales archive --year 2026 --dest DIR`` and ``aftersales
archive-verify PATH`` (records/archive/yearly.py and verify.py)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .options import data_dir_option, open_store


@click.command("archive")
@data_dir_option
@click.option("--year", type=int, required=True, help="The year whose records are archived (e.g. 2026).")
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder the archive (a new zip each run, never over an earlier one) is written into.")
def archive(data_dir: Path, year: int, dest: Path):
    """Write the yearly archive: every record 技质部 formed that year, its files, dossiers and audit entries.

    The records as they stand now, read at one commit; the data folder is not changed. Each run
    writes a new version (the file name carries the time).
    """
    from records.archive.yearly import ArchiveError, write_archive
    from records.calendar.corrections import current_calendar
    if not (data_dir / "tables").is_dir():
        raise click.ClickException(f"数据文件夹不存在或不是本系统的数据文件夹：{data_dir}")
    store = open_store(data_dir)
    started = time.perf_counter()

    def progress(number: str, seconds: float) -> None:
        click.echo(f"  案卷 {number}：{seconds:.2f} 秒")

    try:
        path, manifest = write_archive(store, year, dest, current_calendar(store), progress=progress)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"无法写入归档：{exc.strerror or exc}") from None
    counts = "，".join(f"{table} {n}" for table, n in manifest["counts"].items())
    n_cases = manifest["counts"].get("cases", 0)
    per_case = f"，平均每个 {manifest['dossier_seconds'] / n_cases:.2f} 秒" if n_cases else ""
    click.echo(f"已写入 {year} 年归档：{path}")
    click.echo(f"记录：{counts}；归档文件 {manifest['files_archived']} 个；审计条目 {manifest['audit_entries']} 条；"
               f"案卷 {n_cases} 份（共 {manifest['dossier_seconds']:.1f} 秒{per_case}）；用时 {time.perf_counter() - started:.1f} 秒")
    click.echo(f"归档时链头：第 {manifest['head']['seq']} 条，{manifest['head']['hash']}")
    for problem in manifest["problems"]:
        click.echo(f"注意：{problem}", err=True)
    from records.archive.verify import verify_archive
    check = verify_archive(path)
    if not check.ok:
        raise click.ClickException(f"归档写入后校验失败：{check.message}")
    click.echo(f"校验通过；清单 manifest.json 的 SHA-256：{check.manifest_sha256}（请另行保存）")


@click.command("archive-verify")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def archive_verify(path: Path):
    """Check a yearly archive (no data folder needed); exit 1 naming the first entry that does not match."""
    from records.archive.verify import verify_archive
    check = verify_archive(path)
    if not check.ok:
        click.echo(f"校验失败：{check.message}", err=True)
        sys.exit(1)
    click.echo(f"{check.year} 年归档校验通过：{check.members} 个文件的 SHA-256 与清单一致；审计条目 {check.entries} 条"
               f"哈希与链接完好（链头第 {check.head.get('seq')} 条）；{check.records} 条记录与其审计条目重建的一致。")
    click.echo(f"清单 manifest.json 的 SHA-256：{check.manifest_sha256}")
