"""``aftersales signing-key``: the company's signing key for the PDFs it issues (PAdES, issue 18)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import click

from .options import data_dir_option

key_option = click.option(
    "--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="签章密钥文件（默认：环境变量 AFTERSALES_SIGNING_KEY，否则 /etc/aftersales/signing-key.p12）。")


def _keep(data_dir: Path, key) -> None:
    from records.core import signing
    if data_dir.is_dir():
        kept = signing.keep_certificate(data_dir, key.certificate)
        click.echo(f"证书已保存到数据文件夹：{kept}")
    else:
        click.echo(f"数据文件夹 {data_dir} 不存在：证书将在第一次签章时保存。")


def _describe(key) -> str:
    return (f"签章密钥：{key.path}\n证书主题：{key.subject}\n证书指纹（SHA-256）：{key.fingerprint}\n"
            f"有效期至：{key.not_after:%Y-%m-%d}")


@click.group("signing-key")
def signing_key():
    """The company's signing key (PAdES B-B): make one, import one, show it.

    The key file is kept outside the data folder (so outside its backups): back it up apart,
    see README "备份与恢复". Every certificate ever used is kept in the data folder, so older
    documents still verify after a new key.
    """


@signing_key.command("init")
@data_dir_option
@key_option
@click.option("--organisation", default="本公司", show_default=True, help="证书上的单位名称。")
@click.option("--years", default=10, show_default=True, type=click.IntRange(1, 30), help="证书有效年数。")
@click.option("--force", is_flag=True, help="替换已有的密钥（旧证书仍保留在数据文件夹中）。")
def init(data_dir: Path, key_file: Path | None, organisation: str, years: int, force: bool):
    """Make a company key with a self-signed certificate (a start; a CA's key can be imported later)."""
    from records.core import signing
    path = key_file or signing.key_path()
    try:
        key = signing.init_key(path, organisation, years=years, force=force)
    except (signing.SigningError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_describe(key))
    _keep(data_dir, key)


@signing_key.command("import")
@data_dir_option
@key_option
@click.argument("p12_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--passphrase", envvar="AFTERSALES_P12_PASSPHRASE", prompt="PKCS#12 口令", hide_input=True,
              default="", show_default=False, help="PKCS#12 文件的口令（也可用环境变量 AFTERSALES_P12_PASSPHRASE）。")
@click.option("--force", is_flag=True, help="替换已有的密钥（旧证书仍保留在数据文件夹中）。")
def import_(data_dir: Path, key_file: Path | None, p12_file: Path, passphrase: str, force: bool):
    """Take a key and certificate issued by the company's CA from a PKCS#12 (.p12/.pfx) file."""
    from records.core import signing
    path = key_file or signing.key_path()
    try:
        key = signing.import_p12(path, p12_file.read_bytes(), passphrase or None, force=force)
    except (signing.SigningError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_describe(key))
    _keep(data_dir, key)


@signing_key.command("show")
@data_dir_option
@key_option
def show(data_dir: Path, key_file: Path | None):
    """Show the key in use, its file mode and the certificates kept in the data folder."""
    from records.core import signing
    path = key_file or signing.key_path()
    try:
        key = signing.load_key(path)
    except signing.SigningError as exc:
        raise click.ClickException(str(exc)) from None
    if key is None:
        raise click.ClickException(f"没有签章密钥：{path}（用 aftersales signing-key init 或 import 配置）。"
                                   "未配置时文件照常归档，但不签章。")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    click.echo(_describe(key) + f"\n文件权限：{mode:o}" + ("" if mode == 0o600 else "（应为 600）"))
    click.echo(f"数据文件夹中保存的证书：{len(signing.kept_fingerprints(data_dir))} 个")
