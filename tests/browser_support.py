"""Shared browser-test support, loaded as a plugin by tests/conftest.py.

Fixtures (keep these names, other test files use them):

* ``live_server`` — the real app (``create_app``) on a fresh copy of the seeded data folder
  (conftest's ``data_dir``), served by waitress on 127.0.0.1 and a free port in a daemon
  thread; CSRF stays on. Has ``.url`` (no trailing slash), ``.app`` and ``.store``.
* ``browser`` — one headless Debian Chromium per session, driven by Playwright.
* ``page`` — a fresh context and page per test (``base_url`` is the live server, so
  ``page.goto("/products/")`` works), closed afterwards. ``page.watch`` is a ``PageWatch``
  recording every request, console message and CSP violation of that page.

Helpers: ``login(page, live_server, username, password)``; ``draw(page, selector, points)``
(mouse strokes on a canvas); ``watched_page`` (a context manager, for pages with other options).

Browser tests FAIL (never skip) when Chromium or Playwright is missing: the project's setup
installs both, so a missing browser is a broken machine, not an optional feature.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
DEFAULT_TIMEOUT_MS = 15_000


# --- the server --------------------------------------------------------------------------------
class LiveServer:
    """The app served by waitress in a daemon thread (see ``live_server``)."""

    def __init__(self, app):
        from waitress.server import create_server

        self.app = app
        self.store = app.extensions["aftersales.store"]
        self._server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="aftersales-test",
                                     channel_timeout=30, asyncore_loop_timeout=0.2)
        self.host, self.port = "127.0.0.1", self._server.effective_port
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.run, name=f"live-server-{self.port}", daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        from waitress import wasyncore

        server = self._server
        # Close the listening socket and every open connection from inside the server's own
        # loop thread (the trigger runs thunks there); the loop then ends with an empty map.
        try:
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))
        except OSError:
            pass
        self._thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)

    def __repr__(self) -> str:
        return f"<LiveServer {self.url}>"


@pytest.fixture
def live_server(data_dir):
    from app import create_app

    app = create_app({"DATA_DIR": data_dir})  # not TESTING: CSRF on, as in production
    server = LiveServer(app).start()
    try:
        yield server
    finally:
        server.stop()


# --- the browser -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"浏览器测试需要 Debian 的 chromium（{CHROMIUM}），但未找到：请运行项目的安装命令"
                    f"（apt-get install chromium）。Chromium not found at {CHROMIUM}.", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"浏览器测试需要 Playwright：.venv/bin/pip install -e '.[test]'（{exc}）", pytrace=False)
    pw = sync_playwright().start()
    try:
        try:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:
            pytest.fail(f"无法启动 {CHROMIUM}：{exc}", pytrace=False)
        yield b
        b.close()
    finally:
        pw.stop()


@dataclass
class PageWatch:
    """What a page did: every request URL, console message and CSP violation."""

    allowed_host: str
    requests: list[str] = field(default_factory=list)
    console: list[tuple[str, str, str]] = field(default_factory=list)  # (type, text, source URL)
    page_errors: list[str] = field(default_factory=list)
    bad_responses: list[tuple[int, str]] = field(default_factory=list)  # (status ≥ 400, url)

    def attach(self, page) -> "PageWatch":
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("console", lambda msg: self.console.append((msg.type, msg.text, msg.location.get("url", ""))))
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("response", lambda resp: resp.status >= 400 and self.bad_responses.append((resp.status, resp.url)))
        return self

    def external_requests(self) -> list[str]:
        """Requests to anywhere but the test server (data:/blob: URLs never leave the page)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname != self.allowed_host:
                out.append(url)
        return out

    def csp_violations(self) -> list[str]:
        """Chromium logs every CSP refusal to the console ("...violates the following Content
        Security Policy directive..."); the init script below also reports the DOM event."""
        return [text for kind, text, _ in self.console
                if "Content Security Policy" in text or text.startswith("CSP-VIOLATION")]

    def errors(self, ignore: tuple[str, ...] = ("/favicon.ico",)) -> list[str]:
        """Console errors and uncaught exceptions, each with the URL it came from.

        Chromium asks every site for /favicon.ico on its own (no page links it, the app has
        none, and Playwright reports no request for it): its 404 is ignored by default."""
        return [f"{text} [{url}]" for kind, text, url in self.console
                if kind == "error" and not any(urlsplit(url).path == p for p in ignore)] + self.page_errors


# Runs before any page script (Playwright injects it outside the page's CSP).
_CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP-VIOLATION ' + e.violatedDirective + ' blocked=' + (e.blockedURI || '(inline)')
                + ' at ' + (e.sourceFile || e.documentURI) + ':' + e.lineNumber + ' sample=' + (e.sample || ''));
});
"""


@contextmanager
def watched_page(browser, live_server, **context_options):
    """A page in a new browser context on the live server, watched for outside requests,
    console errors and CSP violations (``page.watch``); extra options go to new_context."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True, **context_options)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    context.add_init_script(_CSP_LISTENER)
    pg = context.new_page()
    pg.watch = PageWatch(allowed_host=live_server.host).attach(pg)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server):
    with watched_page(browser, live_server) as pg:
        yield pg


# --- helpers -----------------------------------------------------------------------------------
def login(page, live_server, username: str, password: str) -> None:
    """Log in through the real login form; fail the test with the page's message if refused."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    if urlsplit(page.url).path.rstrip("/") == "/login":
        alerts = page.locator(".alert, .invalid-feedback").all_inner_texts()
        pytest.fail(f"登录失败（{username}）：{' / '.join(alerts) or page.url}", pytrace=False)


def draw(page, selector: str, points: list[tuple[float, float]]) -> None:
    """Mouse strokes on a canvas, points given as fractions of its size."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
    page.mouse.up()
