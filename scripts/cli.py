"""The ``aftersales`` command: serve the app and run the administrative and cron tasks."""
from __future__ import annotations

from pathlib import Path

import click
from click.core import ParameterSource

from .archive_commands import archive, archive_verify
from .cron_commands import followups, overdue
from .data_commands import backup, restore, verify
from .options import data_dir_option, open_store
from .signing_commands import signing_key


@click.group()
def cli():
    """售后服务管理系统 — after-sales service management (售后服务管理规定)."""


@cli.command()
@data_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar="AFTERSALES_HOST", help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, envvar="AFTERSALES_PORT", type=int, help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the WSGI server.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), envvar="AFTERSALES_WORKERS",
              help="Server processes sharing the port (one core each; see scripts/serve_workers.py).")
@click.option("--demo", is_flag=True,
              help="Serve the demo: the folder ./demo-data (unless --data-dir or AFTERSALES_DATA names one), "
                   "with the demo data loaded when it has no users. Never a real folder.")
def serve(data_dir: Path, host: str, port: int, threads: int, workers: int, demo: bool):
    """Serve the web app with waitress (a production WSGI server).

    The folder must be initialised (aftersales init) or be the demo (--demo); an empty,
    uninitialised folder and an initialised one that has lost its users are refused.
    """
    from waitress import serve as waitress_serve

    from app import DEMO_DATA_DIR, create_app
    from records.users.install import FolderRefused
    try:
        if demo:
            if click.get_current_context().get_parameter_source("data_dir") == ParameterSource.DEFAULT:
                data_dir = DEMO_DATA_DIR
            _load_demo_if_empty(data_dir)
        app = create_app({"DATA_DIR": data_dir})  # the start checks once, before any worker starts
    except FolderRefused as exc:
        raise click.ClickException(str(exc)) from None
    banner = "（演示数据，仅供试用）" if app.config["DEMO"] else ""
    click.echo(f"售后服务管理系统{banner}: http://{host}:{port}/  (data: {data_dir}, {workers} 个进程)")
    if workers > 1:
        from .serve_workers import serve_forked
        serve_forked(lambda: _warm(create_app({"DATA_DIR": data_dir})), host, port, threads, workers)
        return
    waitress_serve(_warm(app), host=host, port=port, threads=threads, ident="aftersales")


def _warm(app):
    """Build the case index before the first page asks for it (records/cases/index.py)."""
    from records.cases.index import CASES
    CASES.warm(app.extensions["aftersales.store"])
    return app


def _load_demo_if_empty(data_dir: Path) -> None:
    from records.demo import DEMO_PASSWORD, is_empty, load_demo
    store = open_store(data_dir)
    if is_empty(store):
        load_demo(store)  # install.FolderRefused for a real folder
        click.echo(f"已加载演示数据（演示用户密码：{DEMO_PASSWORD}，见 README）")


@cli.command()
@data_dir_option
@click.option("--if-empty", is_flag=True, help="Only when the data folder has no users yet.")
def demo(data_dir: Path, if_empty: bool):
    """Load the demo data (a user for every role, customers, products) into a demo folder.

    Into ./demo-data unless --data-dir or AFTERSALES_DATA names a folder; only into an empty
    folder or one that is the demo already; a real folder is refused.
    """
    from app import DEMO_DATA_DIR
    from records.demo import DEMO_PASSWORD, DEMO_USERS, is_empty, load_demo
    from records.users.install import FolderRefused
    if click.get_current_context().get_parameter_source("data_dir") == ParameterSource.DEFAULT:
        data_dir = DEMO_DATA_DIR
    store = open_store(data_dir)
    if if_empty and not is_empty(store):
        click.echo("数据文件夹已有数据，未加载演示数据。")
        return
    try:
        added = load_demo(store)
    except FolderRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"演示数据：新增用户 {added['users']}，顾客 {added['customers']}，产品 {added['products']}。")
    click.echo(f"演示用户（密码均为 {DEMO_PASSWORD}）：" + ", ".join(u for u, _, _ in DEMO_USERS))


@cli.command()
@data_dir_option
@click.option("--admin", "username", default="admin", show_default=True, help="Username of the first administrator.")
@click.option("--name", "display_name", default="系统管理员", show_default=True, help="Display name (姓名).")
@click.option("--email", default="", help="E-mail address of the administrator.")
@click.option("--admin-password-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Read the password from this file's first line (scripts, tests) instead of asking twice.")
def init(data_dir: Path, username: str, display_name: str, email: str, admin_password_file: Path | None):
    """Initialise a new, empty data folder for real use: its first administrator.

    Asks for the administrator's password twice (or reads --admin-password-file) and marks
    the folder as initialised: it never gets demo users, and refuses to start if its users
    are ever lost.
    """
    from records.users.accounts import UserError
    from records.users.install import FolderRefused, initialise
    if admin_password_file is not None:
        lines = admin_password_file.read_text(encoding="utf-8").splitlines()
        password = lines[0] if lines else ""
    else:
        password = click.prompt(f"系统管理员 {username} 的密码", hide_input=True,
                                confirmation_prompt="再次输入密码")
    store = open_store(data_dir)
    try:
        user = initialise(store, username, password, display_name=display_name, email=email)
    except (FolderRefused, UserError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已初始化数据文件夹 {data_dir}：系统管理员 {user['username']}。"
               f"启动：aftersales serve --data-dir {data_dir}")


@cli.command("create-user")
@data_dir_option
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="Role (repeatable): receiver, tq_engineer, tq_manager, technician, sales, finance, vp, gm, admin.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Password (prompted when not given).")
@click.option("--name", "display_name", default="", help="Display name (姓名).")
@click.option("--email", default="", help="E-mail address for notifications.")
def create_user(data_dir: Path, username: str, roles: tuple[str, ...], password: str, display_name: str, email: str):
    """Create a user with one or more roles."""
    from records.users import accounts
    try:
        user = accounts.create_user(open_store(data_dir), username, password, list(roles), "cli",
                                 display_name=display_name, email=email)
    except accounts.UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已创建用户 {user['username']}（{', '.join(user['roles'])}）")


@cli.command()
@data_dir_option
def migrate(data_dir: Path):
    """Rewrite stored documents at their current schema version."""
    from records.core.backup import migrate_all
    counts = migrate_all(open_store(data_dir))
    click.echo("迁移完成：" + (", ".join(f"{t} {n}" for t, n in counts.items()) or "无需迁移"))


@cli.command("recompute-deadlines")
@data_dir_option
@click.option("--dry-run", is_flag=True, help="Only report which deadlines would change; change nothing.")
def recompute_deadlines(data_dir: Path, dry_run: bool):
    """Recompute every open deadline with the current working calendar (a repair).

    Each open working-time deadline of an open case (6.1.3, 6.2.1, 6.2.2, 6.2.7, 6.2.8) is
    computed again from its stored start; 5.1.1.3 counts clock hours and is left as it is.
    A calendar correction in the app does this by itself, in the same transaction; run this
    after restoring a backup or after the holiday data changed. Running it twice changes
    nothing the second time.
    """
    from records.calendar.corrections import current_calendar
    from records.cases import deadlines as case_deadlines
    store = open_store(data_dir)
    cal = current_calendar(store)
    if dry_run:
        plan = case_deadlines.plan_recompute(store, cal)
        n = sum(len(new) for _, new in plan)
        click.echo(f"（试运行）按当前工作日历，{len(plan)} 个案例的 {n} 个未完成期限将会改变；未作任何修改。")
        return
    n = case_deadlines.recompute_open_deadlines(store, cal, "cli")
    click.echo(f"已按当前工作日历重新计算未完成的期限：{n} 个期限有变化。")


@cli.command()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder under which the throw-away data sets are built [default: the system's temp "
                   "folder]. Never the real data: AFTERSALES_DATA is deliberately not read here.")
@click.option("--quick", is_flag=True, help="A smaller data set (for a fast check).")
@click.option("--only", multiple=True, help="Run only these sections (storage, worktime, workflow, pdf, cron, verify, load).")
def bench(data_dir: Path | None, quick: bool, only: tuple[str, ...]):
    """Build a synthetic ten-year data set in a temp folder and print timing figures."""
    import tempfile

    from .bench import run
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        tempfile.tempdir = str(data_dir)  # every section builds its data set with tempfile
    run(quick=quick, only=set(only))


cli.add_command(overdue)  # the scheduled commands (issue 6)
cli.add_command(followups)
cli.add_command(verify)  # data safety (issue 11)
cli.add_command(backup)
cli.add_command(restore)
cli.add_command(archive)  # the yearly archive (issue 14)
cli.add_command(archive_verify)
cli.add_command(signing_key)  # the company signing key (issue 18)
