"""Security properties of the whole app (issue 2, "Security" and "Every page needs a login").

All tests use the real app on a real temp data folder (tests/conftest.py). Routes are taken
from ``app.url_map``, so pages added later are covered without editing this file.
"""
from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Blueprint, render_template, render_template_string

from app import create_app
from records.calendar.workdays import WorkCalendar
from records.cases import workflow
from records.catalog import customers, products
from records.core import pdf
from records.users import accounts, sessions
from tests.fixtures.users import PASSWORD, TEST_USERS, redirects_to_login

SKIP_ENDPOINTS = {"static", "bootstrap.static", "auth.login"}
EDITORS = ("engineer", "manager", "sales", "admin")  # tq_engineer, tq_manager, sales, admin
NON_EDITORS = ("receiver", "tech", "finance", "vp", "gm")
NON_ADMINS = [u for u in TEST_USERS if "admin" not in TEST_USERS[u]]
XSS = "<script>alert(1)</script>"


# --- helpers ------------------------------------------------------------------------------
def login(client, username="admin", password=PASSWORD):
    r = client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/", r.get_data(as_text=True)[-2000:]
    return r



def fill_args(rule, string_value="customers") -> dict:
    """URL values for a rule: 1 for every int argument, ``string_value`` for the others."""
    out = {}
    for name in rule.arguments:
        conv = type(rule._converters[name]).__name__
        out[name] = 1 if conv in ("IntegerConverter", "NumberConverter") else string_value
    return out


def url_for_rule(app, rule, **values) -> str:
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values or fill_args(rule), force_external=False)


def rules(app, method):
    return [r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint not in SKIP_ENDPOINTS]


def snapshot(store) -> dict:
    """Every stored record (without the session bookkeeping) and the audit trail's size."""
    tables = {}
    for folder in sorted(p for p in store.tables_dir.iterdir() if p.is_dir()):
        tables[folder.name] = {d["id"]: {k: v for k, v in d.items() if k != "_sessions"}
                               for d in store.find(folder.name)}
    return {"tables": tables, "audit": store.audit.tail().size}


def make_customer(store, name="北方机床厂", actor="admin"):
    return customers.create_customer(store, {"name": name, "address": "沈阳市", "distance_km": 420,
                                             "contacts": [{"name": "王工", "phone": "024-1234567"}]}, actor)


def make_product(store, customer_id, serial="SN-0001", actor="admin", **extra):
    data = {"model": "XK-500", "name": "数控铣床", "serial_no": serial, "customer_id": customer_id,
            "delivery_date": date(2024, 3, 1), "warranty_months": 24, "reliability": False, "remarks": ""}
    data.update(extra)
    return products.create_product(store, data, actor)


def customer_form(name="新顾客单位"):
    return {"name": name, "address": "天津市", "distance_km": "120", "remarks": "",
            "contacts-0-name": "李工", "contacts-0-phone": "022-7654321", "contacts-0-title": ""}


def product_form(customer_id, serial="SN-NEW-1"):
    return {"model": "XK-600", "name": "加工中心", "serial_no": serial, "customer_id": str(customer_id),
            "delivery_date": "2024-05-06", "warranty_months": "12", "remarks": ""}


@pytest.fixture
def seeded(store):
    """One customer and one product (id 1 each), so every URL with an id finds a record."""
    c = make_customer(store)
    p = make_product(store, c["id"])
    return c, p


# --- every page needs a login -------------------------------------------------------------
def test_every_get_page_redirects_to_login_without_a_session(app, client, seeded):
    checked = []
    for rule in rules(app, "GET"):
        url = url_for_rule(app, rule)
        resp = client.get(url)
        assert redirects_to_login(resp), f"{rule.endpoint} ({url}) answered {resp.status_code} without a login"
        checked.append(rule.endpoint)
    assert {"home.index", "admin.user_list", "customers.index", "products.show", "history.show"} <= set(checked)


def test_every_post_action_redirects_to_login_and_changes_nothing(app, client, store, seeded):
    before = snapshot(store)
    for rule in rules(app, "POST"):
        url = url_for_rule(app, rule)
        resp = client.post(url, data={**customer_form("匿名"), "username": "intruder", "password": "x" * 20,
                                      "roles": ["admin"], "display_name": "x"})
        assert redirects_to_login(resp), f"POST {rule.endpoint} ({url}) answered {resp.status_code} without a login"
    assert snapshot(store) == before


def test_login_page_itself_is_public(client):
    assert client.get("/login").status_code == 200


# --- roles: the server checks every action --------------------------------------------------
@pytest.mark.parametrize("username", NON_ADMINS)
def test_admin_pages_and_actions_are_403_for_non_admins(client, store, username):
    login(client, username)
    me = accounts.find_by_username(store, username)
    admin = accounts.find_by_username(store, "admin")
    before = snapshot(store)
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{admin['id']}", f"/admin/users/{me['id']}"):
        assert client.get(url).status_code == 403, url
    # create a user, make oneself admin, reset the admin's password, disable the admin
    posts = [
        ("/admin/users/new", {"username": "mole", "display_name": "内鬼", "roles": ["admin"], "password": "x" * 16}),
        (f"/admin/users/{me['id']}", {"rev": str(me["_rev"]), "display_name": "我", "roles": ["admin"]}),
        (f"/admin/users/{admin['id']}/password", {"pw-password": "Taken-over-2026!"}),
        (f"/admin/users/{admin['id']}/active/0", {}),
        (f"/admin/users/{admin['id']}/disable", {"confirmed": "1"}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert snapshot(store) == before
    assert accounts.find_by_username(store, "mole") is None
    assert sessions.authenticate(store, "admin", PASSWORD)  # password unchanged, still active
    # the users' change history is for admins only
    assert client.get(f"/history/users/{admin['id']}").status_code == 404


@pytest.mark.parametrize("username", NON_EDITORS)
def test_customer_and_product_editing_is_403_without_an_editor_role(client, store, seeded, username):
    c, p = seeded
    login(client, username)
    before = snapshot(store)
    for url in ("/customers/new", f"/customers/{c['id']}/edit", "/products/new", f"/products/{p['id']}/edit"):
        assert client.get(url).status_code == 403, url
    posts = [
        ("/customers/new", customer_form("越权新建")),
        (f"/customers/{c['id']}/edit", {**customer_form("越权修改"), "rev": str(c["_rev"])}),
        ("/products/new", product_form(c["id"], "SN-EVIL")),
        (f"/products/{p['id']}/edit", {**product_form(c["id"], "SN-EVIL-2"), "rev": str(p["_rev"])}),
    ]
    for url, data in posts:
        assert client.post(url, data=data).status_code == 403, url
    assert snapshot(store) == before
    # reading stays allowed for every logged-in user
    for url in ("/customers/", f"/customers/{c['id']}", "/products/", f"/products/{p['id']}"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("username", EDITORS)
def test_editors_may_create_and_edit_customers_and_products(client, store, seeded, username):
    c, p = seeded
    login(client, username)
    r = client.post("/customers/new", data=customer_form(f"{username} 的顾客"))
    assert r.status_code == 302
    created = customers.by_name(store, f"{username} 的顾客")
    assert created and created["_by"] == username
    r = client.post(f"/customers/{c['id']}/edit", data={**customer_form(f"{username} 改名"), "rev": str(c["_rev"])})
    assert r.status_code == 302 and store.get("customers", c["id"])["name"] == f"{username} 改名"
    r = client.post("/products/new", data=product_form(created["id"], f"SN-{username}"))
    assert r.status_code == 302 and products.by_serial(store, f"SN-{username}")
    r = client.post(f"/products/{p['id']}/edit", data={**product_form(c["id"], "SN-0001"), "rev": str(p["_rev"])})
    assert r.status_code == 302 and store.get("products", p["id"])["model"] == "XK-600"


@pytest.mark.parametrize("username", NON_ADMINS)
def test_menu_hides_user_admin_from_non_admins(client, username):
    login(client, username)
    html = client.get("/").get_data(as_text=True)
    assert "用户管理" not in html and "/admin/users" not in html


def test_menu_shows_user_admin_to_admins(client):
    login(client, "admin")
    html = client.get("/").get_data(as_text=True)
    assert "用户管理" in html and 'href="/admin/users"' in html


# --- the signing key ----------------------------------------------------------------------------
def _key_worker(folder, barrier, queue):
    import app as app_module
    barrier.wait()
    try:
        queue.put(app_module._secret_key(Path(folder)))
    except Exception as exc:  # reported to the parent, which fails the test
        queue.put(f"ERROR {type(exc).__name__}: {exc}")


def test_workers_starting_at_once_on_a_new_folder_share_one_complete_key(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for trial in range(5):
        folder = tmp_path / f"new{trial}"
        folder.mkdir()
        n = 6
        barrier, queue = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_key_worker, args=(str(folder), barrier, queue)) for _ in range(n)]
        for proc in procs:
            proc.start()
        keys = [queue.get(timeout=30) for _ in range(n)]
        for proc in procs:
            proc.join()
        assert len(set(keys)) == 1 and re.fullmatch(r"[0-9a-f]{64}", keys[0]), keys
        assert sorted(p.name for p in folder.iterdir()) == ["secret_key"]
        assert (folder / "secret_key").stat().st_mode & 0o777 == 0o600


def test_an_empty_key_file_is_refused(data_dir):
    # an initialised folder (issue 11: an empty one is refused before any key is made)
    (data_dir / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="secret_key"):
        create_app({"DATA_DIR": data_dir, "TESTING": True})


# --- CSRF (``csrf_app``: tests/conftest.py) ---------------------------------------------------
def test_csrf_is_enforced_on_login_and_on_changes(csrf_app, csrf_token_from):
    store = csrf_app.extensions["aftersales.store"]
    client = csrf_app.test_client()
    audit_before = store.audit.tail().size

    # login without a token: refused before any password check (nothing audited, no session)
    r = client.post("/login", data={"username": "sales", "password": PASSWORD})
    assert r.status_code == 400
    assert store.audit.tail().size == audit_before
    assert redirects_to_login(client.get("/"))

    # with the token from the page it works
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    r = client.post("/login", data={"username": "sales", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and client.get("/").status_code == 200

    # create a customer without a token, and with a token that belongs to another session
    before = snapshot(store)
    assert client.post("/customers/new", data=customer_form("无令牌")).status_code == 400
    other = csrf_app.test_client()
    foreign = csrf_token_from(other.get("/login").get_data(as_text=True))
    assert client.post("/customers/new", data={**customer_form("外来令牌"), "csrf_token": foreign}).status_code == 400
    assert snapshot(store) == before

    token = csrf_token_from(client.get("/customers/new").get_data(as_text=True))
    r = client.post("/customers/new", data={**customer_form("有令牌"), "csrf_token": token})
    assert r.status_code == 302
    assert customers.by_name(store, "有令牌") is not None

    # logout without the token is refused too (a cross-site page cannot log the user out)
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_every_form_page_carries_a_csrf_token(csrf_app, csrf_token_from):
    store = csrf_app.extensions["aftersales.store"]
    make_customer(store)
    make_product(store, 1)
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    for rule in rules(csrf_app, "GET"):
        resp = client.get(url_for_rule(csrf_app, rule))
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        html = resp.get_data(as_text=True)
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r'method="post"', form, flags=re.I):
                # a prefixed form (e.g. the admin's password reset) names it "<prefix>-csrf_token"
                assert re.search(r'name="([\w]+-)?csrf_token"', form), f"{rule.endpoint}: a POST form without a CSRF token"


# --- cookies and transport ------------------------------------------------------------------
def _session_cookie_header(resp, name="aftersales_session") -> str:
    headers = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert headers, resp.headers
    return headers[-1]


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    r = login(client)
    cookie = _session_cookie_header(r, app.config["SESSION_COOKIE_NAME"])
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # plain HTTP (development): a Secure cookie would never come back
    assert "Strict-Transport-Security" not in r.headers


def test_https_deployment_sets_secure_cookie_and_hsts(monkeypatch, data_dir):
    monkeypatch.setenv("AFTERSALES_HTTPS", "1")
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    r = client.post("/login", data={"username": "admin", "password": PASSWORD}, base_url="https://localhost")
    assert r.status_code == 302
    attrs = [a.strip().lower() for a in _session_cookie_header(r).split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(attrs)
    hsts = r.headers.get("Strict-Transport-Security", "")
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 15552000
    assert "Strict-Transport-Security" in client.get("/login", base_url="https://localhost").headers


# --- no GET changes anything ------------------------------------------------------------------
def test_no_get_changes_anything(app, client, store, seeded):
    login(client, "admin")
    client.get("/")  # settle the login
    before = snapshot(store)
    files_before = _data_files(store.root)
    visited = []
    for rule in rules(app, "GET"):
        variants = [fill_args(rule, s) for s in ("customers", "products", "users")] if any(
            type(rule._converters[a]).__name__ not in ("IntegerConverter", "NumberConverter")
            for a in rule.arguments) else [fill_args(rule)]
        for values in variants:
            url = url_for_rule(app, rule, **values)
            resp = client.get(url)
            assert resp.status_code < 500, f"GET {url} failed with {resp.status_code}"
            visited.append((url, resp.status_code))
    assert snapshot(store) == before, "a GET request changed a record or the audit trail"
    files_after = _data_files(store.root)
    changed = {k for k in files_before.keys() | files_after.keys() if files_before.get(k) != files_after.get(k)}
    # only the users' shard may differ, and only by the session's "seen" bookkeeping
    assert changed <= {str(store.shard_path("users", 1).relative_to(store.root))}, changed
    assert any(code == 200 for _, code in visited) and len(visited) >= 10


def _data_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and p.name != ".lock"}


def test_session_refresh_on_get_is_not_audited(app, client, store):
    """The one write a GET may cause: the session's last-seen time (bookkeeping, no audit)."""
    login(client, "receiver")
    me = accounts.find_by_username(store, "receiver")
    [key] = me["_sessions"]
    from datetime import datetime, timedelta, timezone
    past = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    with store.transaction("test") as tx:
        tx.touch("users", me["id"], {"_sessions": {key: {**me["_sessions"][key], "seen": past}}})
    audit, rev = store.audit.tail().size, store.get("users", me["id"])["_rev"]
    assert client.get("/customers/").status_code == 200
    after = store.get("users", me["id"])
    assert after["_sessions"][key]["seen"] > past  # refreshed
    assert store.audit.tail().size == audit and after["_rev"] == rev


# --- headers --------------------------------------------------------------------------------
def _assert_security_headers(resp, what):
    csp = resp.headers.get("Content-Security-Policy", "")
    assert csp, f"{what}: no CSP"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"]
    assert directives.get("object-src") == ["'none'"]
    assert directives.get("frame-ancestors") == ["'none'"]
    for src in directives.get("script-src", []):
        assert src == "'self'", f"{what}: script-src allows {src}"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", what
    assert resp.headers.get("X-Frame-Options") == "DENY", what
    assert resp.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin",
                                                   "strict-origin-when-cross-origin"), what


def test_security_headers_on_every_kind_of_response(client, seeded):
    _assert_security_headers(client.get("/login"), "login page")
    _assert_security_headers(client.get("/"), "redirect to login")
    login(client, "receiver")
    _assert_security_headers(client.get("/"), "home page")
    _assert_security_headers(client.get("/customers/1"), "detail page")
    _assert_security_headers(client.get("/customers/999"), "404 page")
    _assert_security_headers(client.get("/admin/users"), "403 page")
    _assert_security_headers(client.get("/static/app.css"), "static file")
    assert client.get("/").headers.get("Cache-Control") == "no-store"


def test_pages_need_no_inline_script_or_style(app, client, seeded):
    """The CSP forbids inline code, so no page may rely on it (or it would silently break)."""
    login(client, "admin")
    for rule in rules(app, "GET"):
        resp = client.get(url_for_rule(app, rule))
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        html = resp.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html, flags=re.I), f"{rule.endpoint}: inline <script>"
        assert not re.search(r"<style\b", html, flags=re.I), f"{rule.endpoint}: inline <style>"
        assert not re.search(r"\sstyle=\"", html, flags=re.I), f"{rule.endpoint}: style attribute"
        assert not re.search(r"\son[a-z]+=\"", html, flags=re.I), f"{rule.endpoint}: inline event handler"
        assert not re.search(r"\ssrc=\"(https?:)?//|<link\b[^>]*href=\"(https?:)?//", html, flags=re.I), \
            f"{rule.endpoint}: asset from another site (no CDN)"


# --- autoescaping ---------------------------------------------------------------------------
def test_customer_name_with_markup_is_escaped_everywhere(client, store):
    c = make_customer(store, name=XSS)
    p = make_product(store, c["id"], serial="SN-X", remarks='<img src=x onerror="alert(2)">')
    login(client, "receiver")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for url in ("/customers/", f"/customers/{c['id']}", "/customers/?q=script", f"/products/{p['id']}",
                "/products/", f"/history/customers/{c['id']}", f"/history/products/{p['id']}"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html and "<img src=x" not in html, url
        assert escaped in html or "&lt;img src=x" in html, url
    # a search term is echoed escaped too
    html = client.get("/customers/", query_string={"q": '"><script>alert(3)</script>'}).get_data(as_text=True)
    assert "<script>alert(3)" not in html


def test_autoescape_holds_for_every_template_whatever_its_file_ending(app, tmp_path):
    env = app.jinja_env
    for name in ("x.txt", "x.html", "x.tex", "x", None):
        assert (env.autoescape(name) if callable(env.autoescape) else env.autoescape) is True, name
    assert env.from_string("{{ v }}").render(v=XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;"

    folder = tmp_path / "probe_templates"
    folder.mkdir()
    (folder / "probe.txt").write_text("名称：{{ v }}", encoding="utf-8")
    (folder / "probe.tex").write_text("\\textbf{ {{- v -}} }", encoding="utf-8")
    app.register_blueprint(Blueprint("probe", __name__, template_folder=str(folder)))
    with app.test_request_context():
        assert render_template("probe.txt", v=XSS) == "名称：&lt;script&gt;alert(1)&lt;/script&gt;"
        assert "<script>" not in render_template("probe.tex", v=XSS)
        assert render_template_string("{{ v }}", v=XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_pdf_template_environment_autoescapes_too():
    """The PDF templates (pdf_templates/, rendered outside Flask) follow the same rule."""

    env = pdf.environment()
    assert (env.autoescape("form.html") if callable(env.autoescape) else env.autoescape) is True
    assert env.from_string("{{ v }}").render(v=XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;"


# --- error pages are Chinese ---------------------------------------------------------------
def _main_text(resp) -> str:
    html = resp.get_data(as_text=True)
    main = re.search(r"<main\b.*?</main>", html, flags=re.S).group(0)
    main = main[main.index("<h1"):]  # the page itself, after any flashed message
    return re.sub(r"<[^>]+>", " ", main)


def test_error_pages_are_chinese(app, csrf_app):
    client = app.test_client()
    login(client, "receiver")
    for url, code in (("/admin/users", 403), ("/customers/999", 404), ("/no-such-page", 404)):
        resp = client.get(url)
        assert resp.status_code == code
        assert not re.search(r"[A-Za-z]{3,}", _main_text(resp)), _main_text(resp)
    # Flask-WTF's English reasons for a refused CSRF token are not shown
    resp = csrf_app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert resp.status_code == 400
    text = _main_text(resp)
    assert "CSRF" not in text and "安全令牌" in text and not re.search(r"[A-Za-z]{3,}", text), text


def test_an_explicit_chinese_reason_is_still_shown(app):
    from flask import abort

    bp = Blueprint("probe_abort", __name__)

    @bp.get("/probe-abort")
    def probe():
        abort(403, "只有派往该案例的技术人员可以上传")

    app.register_blueprint(bp)
    client = app.test_client()
    login(client, "receiver")
    resp = client.get("/probe-abort")
    assert resp.status_code == 403 and "只有派往该案例的技术人员可以上传" in _main_text(resp)


# --- upload size limit ----------------------------------------------------------------------
def test_body_larger_than_max_content_length_is_refused_with_413(app, client, store):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit and 1024 * 1024 <= limit <= 64 * 1024 * 1024
    login(client, "admin")
    before = snapshot(store)
    big = io.BytesIO(b"\0" * (limit + 1))
    r = client.post("/customers/new", data={**customer_form("超大上传"), "file": (big, "scan.pdf")},
                    content_type="multipart/form-data")
    assert r.status_code == 413
    assert "上传的文件太大" in r.get_data(as_text=True)
    assert not re.search(r"[A-Za-z]{3,}", _main_text(r)), _main_text(r)  # no English default text
    _assert_security_headers(r, "413 page")
    assert snapshot(store) == before


def test_body_larger_than_the_limit_is_refused_before_login_too(app, client, store):
    before = snapshot(store)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD,
                                    "pad": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    assert r.status_code == 413
    assert snapshot(store) == before


# --- passwords at rest --------------------------------------------------------------------
def test_passwords_are_argon2id_and_never_stored_in_plain(app, client, store, data_dir):
    from argon2 import Type, extract_parameters

    for name in TEST_USERS:
        h = accounts.find_by_username(store, name)["_pw"]
        assert h.startswith("$argon2id$"), h[:12]
        params = extract_parameters(h)
        assert params.type is Type.ID
        assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2  # OWASP minimum for Argon2id
    # exercise every way a password reaches the server: login, a failed login, own change, reset
    wrong = "Wrong-guess-7781-zz"
    client.post("/login", data={"username": "sales", "password": wrong})
    login(client, "sales")
    new_own = "Own-new-password-4455"
    r = client.post("/password", data={"old_password": PASSWORD, "new_password": new_own, "confirm": new_own})
    assert r.status_code == 302
    admin = app.test_client()
    login(admin, "admin")
    reset = "Admin-reset-password-9911"
    r = admin.post(f"/admin/users/{accounts.find_by_username(store, 'receiver')['id']}/password",
                   data={"pw-password": reset})
    assert r.status_code == 302
    created = "Created-user-password-3377"
    r = admin.post("/admin/users/new", data={"username": "newbie", "display_name": "新人", "email": "",
                                             "roles": ["receiver"], "password": created})
    assert r.status_code == 302
    for secret in (PASSWORD, wrong, new_own, reset, created):
        for path in Path(data_dir).rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), f"{secret!r} stored in {path}"
    # and the session token is stored only as a hash
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    user_id, _, token = session["_user_id"].partition(":")
    sales = accounts.find_by_username(store, "sales")
    assert user_id == str(sales["id"]) and len(token) >= 32
    assert list(sales["_sessions"]) == [hashlib.sha256(token.encode()).hexdigest()]
    for path in Path(data_dir).rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"session token stored in {path}"


def test_history_is_shown_only_to_those_who_may_see_the_record(client, auth, store):
    """A case's history holds the whole case: the case page's own rule (may_read) applies."""
    customer = store.insert("customers", {"name": "历史测试单位", "distance_km": 10, "contacts": []}, "t")
    case = workflow.intake(store, WorkCalendar.default(), {
        "type": "consultation", "customer_id": customer["id"], "caller_name": "甲", "caller_phone": "1",
        "channel": "phone", "description": "机密内容"}, {"username": "engineer", "roles": ["tq_engineer", "receiver"]})
    auth.login("sales")  # sales reads every case
    assert client.get(f"/history/cases/{case['id']}").status_code == 200
    auth.logout()
    auth.login("receiver")  # neither a reader role nor on this case
    assert client.get(f"/cases/{case['id']}").status_code in (403, 404)
    r = client.get(f"/history/cases/{case['id']}")
    assert r.status_code == 404 and "机密内容" not in r.get_data(as_text=True)
    assert client.get("/history/users/1").status_code == 404  # users' history: admins only
