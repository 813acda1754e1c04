"""The application factory: ``create_app()`` builds a configured Flask app per data folder."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, render_template
from flask_bootstrap import Bootstrap5
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from records.core.files import StorageError
from records.core.store import Store
from records.users import install

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = PROJECT_DIR / "data"
DEMO_DATA_DIR = PROJECT_DIR / "demo-data"  # what `bash scripts/run.sh` serves by default
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # scans of the 技术服务单 (issue: service form)

# No inline script or style anywhere: every asset is a file served by the app (no CDN).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def data_dir_from_env() -> Path:
    return Path(os.environ.get("AFTERSALES_DATA") or DEFAULT_DATA_DIR)


def _secret_key(data_dir: Path) -> str:
    """One random key per data folder, kept in it (mode 600), so all workers share it.

    Several workers may start at once on a new folder: each writes a complete key to its own
    file and hard-links it into place, so the first one wins and nobody reads a half-written
    (empty) key or fails because another worker created the file first.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        mine = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(mine, path)
            except FileExistsError:
                pass  # another worker was first: use its key
        finally:
            os.unlink(mine)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} 内容无效（密钥过短），请删除该文件后重新启动")
    return key


def open_data_folder(data_dir: Path) -> tuple[Store, str]:
    """The store of a folder that may be served and its kind (records/users/install.py), or
    install.FolderRefused saying why not and what to do. A missing or empty folder is refused
    before anything is written into it."""
    if not (data_dir / "tables").is_dir():
        raise install.FolderRefused(install.not_initialised(data_dir))
    store = Store(data_dir)
    return store, install.start_check(store)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="views/templates", static_folder="views/static")
    cfg = dict(test_config or {})
    data_dir = Path(cfg.pop("DATA_DIR", None) or data_dir_from_env())
    store, folder_kind = open_data_folder(data_dir)  # refuses to start on an unfit folder
    https = os.environ.get("AFTERSALES_HTTPS") == "1"
    app.config.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY=_secret_key(data_dir),
        DEMO=folder_kind == install.DEMO,  # a banner on every page (base.html)
        IDLE_MINUTES=30,
        # company practice: a session ends this many hours after its login; None: the company
        # parameter session_hours set on the page 公司参数 (records/users/sessions.py session_max_age)
        SESSION_MAX_HOURS=float(os.environ["AFTERSALES_SESSION_HOURS"]) if os.environ.get("AFTERSALES_SESSION_HOURS")
        else None,
        # Behind the HTTPS proxy: how many proxies' X-Forwarded-For entries to trust (ProxyFix);
        # 0 = none, the connection's address is the client's (the login throttle counts per address).
        PROXY_HOPS=int(os.environ.get("AFTERSALES_PROXY_HOPS") or 1) if https else 0,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_NAME="aftersales_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES + 1024 * 1024,  # the file plus the form around it
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_I18N_ENABLED=False,  # no Flask-Babel: WTForms' own Chinese catalogue (forms/base.py)
        BOOTSTRAP_SERVE_LOCAL=True,
        BOOTSTRAP_BOOTSWATCH_THEME=None,
    )
    app.config.update(cfg)
    # The cookie lives as long as the server-side idle limit (users.check_session enforces it).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["IDLE_MINUTES"])
    # Autoescape every template, whatever its file ending (.html, .txt, PDF templates...).
    app.jinja_env.autoescape = True

    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    app.extensions["aftersales.store"] = store
    CSRFProtect(app)
    Bootstrap5(app)

    from views import register
    register(app)

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        resp.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if https:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000"
        if resp.mimetype == "text/html":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    for code, title in ((400, "请求无效"), (403, "无权执行此操作"), (404, "页面不存在"), (405, "不支持此操作方式"),
                        (413, "上传的文件太大"), (500, "系统内部错误")):
        app.register_error_handler(code, _error_page(code, title))
    app.register_error_handler(StorageError, _storage_error)
    return app


def _storage_error(exc):
    # A write that could not be made durable was not acknowledged and changed nothing
    # (records/core/transaction.py); say so, and keep the details for the log.
    current_app.logger.error("storage error: %s", exc)
    return render_template("common/error.html", code=503, title="数据未能保存",
                           detail=f"{exc}。本次操作未生效，请稍后重试；如反复出现请联系系统管理员。"), 503


def _error_page(code: int, title: str):
    def handler(exc):
        detail = getattr(exc, "description", "") or ""
        if isinstance(exc, CSRFError):  # Flask-WTF's reasons are English
            detail = "页面已过期或缺少安全令牌，请返回上一页刷新后重新提交"
        elif code == 413:
            detail = f"单次上传不能超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
        elif code == 500:
            detail = "操作未完成，请返回上一页重试；如反复出现请联系系统管理员。"
        elif detail == getattr(type(exc), "description", None):
            detail = ""  # Werkzeug's default English text; the Chinese title says it
        return render_template("common/error.html", code=code, title=title, detail=detail), code
    return handler
