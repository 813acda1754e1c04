"""Options every command shares."""
from __future__ import annotations

from pathlib import Path

import click

from app import DEFAULT_DATA_DIR

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar="AFTERSALES_DATA",
    default=DEFAULT_DATA_DIR, show_default=True, show_envvar=True,
    help="数据文件夹（data folder）。",
)


def open_store(data_dir: Path):
    from records.core.store import Store
    return Store(data_dir)
