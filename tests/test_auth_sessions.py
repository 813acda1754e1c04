"""Log in / log out, lockout, server-side sessions and their end (issue 2, "Log in" and "Security").

Real app, real temp data folder. Cookie replay: the session cookie of client A is copied onto
a fresh client B, which is what an attacker holding a stolen or old cookie would do.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from records.users import accounts, sessions
from tests.fixtures.users import PASSWORD, redirects_to_login, user

LOCK_MESSAGE = "账号已锁定"
WRONG = "Not-the-password-123"


def login(client, username="admin", password=PASSWORD, **kw):
    r = client.post("/login", data={"username": username, "password": password}, **kw)
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    return r



def cookie_name(app) -> str:
    return app.config["SESSION_COOKIE_NAME"]


def replay(app, client):
    """A fresh client carrying a copy of ``client``'s current session cookie."""
    value = client.get_cookie(cookie_name(app)).value
    other = app.test_client()
    other.set_cookie(cookie_name(app), value)
    return other



def events(store, name, action=None):
    entries = store.history("users", user(store, name)["id"])
    return [e for e in entries if action is None or e["action"] == action]


# --- log in / log out -----------------------------------------------------------------------
def test_login_page_is_chinese_and_login_works(client, store):
    html = client.get("/login").get_data(as_text=True)
    assert "用户名" in html and "密码" in html and "登录" in html
    r = login(client, "receiver")
    assert urlsplit(r.headers["Location"]).path == "/"
    page = client.get("/")
    assert page.status_code == 200 and "receiver-姓名" in page.get_data(as_text=True)
    assert [e["note"] for e in events(store, "receiver", "login")] == ["登录"]


@pytest.mark.parametrize("username,password", [("receiver", WRONG), ("nobody", PASSWORD), ("", ""), ("receiver", "")])
def test_bad_login_shows_one_message_and_no_session(client, username, password):
    r = client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    if username and password:
        # the same words for an unknown user and a wrong password: no username probing
        assert "用户名或密码不正确" in html
    else:
        assert "请输入" in html
    assert redirects_to_login(client.get("/"))


def test_username_is_case_insensitive(client):
    login(client, "ReCeIvEr")
    assert client.get("/").status_code == 200


def test_login_redirects_back_to_the_page_asked_for(client):
    r = client.get("/customers/?q=abc")
    assert redirects_to_login(r)
    nxt = parse_qs(urlsplit(r.headers["Location"]).query)["next"][0]
    assert nxt == "/customers/?q=abc"
    r = login(client, "receiver", query_string={"next": nxt})
    assert r.headers["Location"] == "/customers/?q=abc"


OFFSITE = [
    "//evil.example", "//evil.example/login", "https://evil.example/", "http:evil.example",
    "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
    " //evil.example", "/ /evil.example", "javascript:alert(1)", "///evil.example", "/\x00/evil.example",
]


@pytest.mark.parametrize("target", OFFSITE)
def test_next_target_must_be_a_local_path(app, target):
    from views.auth import safe_next
    with app.test_request_context():
        assert safe_next(target) == "/"
        assert safe_next("/customers/?q=%E5%8C%97") == "/customers/?q=%E5%8C%97"
        assert safe_next(None) == "/"


@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "https://evil.example/"])
def test_login_does_not_follow_an_offsite_next(client, target):
    r = login(client, "receiver", query_string={"next": target})
    loc = r.headers["Location"]
    parts = urlsplit(loc)
    assert not parts.netloc and not parts.scheme and not loc.startswith("//"), loc
    assert loc == "/"


def test_logout_is_post_only_and_ends_the_session(app, client, store):
    login(client, "receiver")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200
    r = client.post("/logout")
    assert redirects_to_login(r)
    assert redirects_to_login(client.get("/"))
    assert user(store, "receiver")["_sessions"] == {}
    assert [e["action"] for e in events(store, "receiver")][-2:] == ["login", "logout"]


def test_login_starts_a_fresh_session(app, client):
    """No session fixation: the cookie a visitor had before login is not the one after it."""
    client.get("/login")
    client.post("/login", data={"username": "receiver", "password": WRONG})
    before = client.get_cookie(cookie_name(app))
    login(client, "receiver")
    after = client.get_cookie(cookie_name(app))
    assert after is not None and (before is None or before.value != after.value)


# --- lockout ----------------------------------------------------------------------------------
def test_five_wrong_passwords_lock_the_account_across_workers(app, client, store, data_dir):
    for i in range(1, 5):
        html = client.post("/login", data={"username": "sales", "password": WRONG}).get_data(as_text=True)
        assert "用户名或密码不正确" in html, i
    html = client.post("/login", data={"username": "sales", "password": WRONG}).get_data(as_text=True)
    assert LOCK_MESSAGE in html and "15 分钟" in html

    # the right password does not help now
    r = client.post("/login", data={"username": "sales", "password": PASSWORD})
    assert r.status_code == 200 and LOCK_MESSAGE in r.get_data(as_text=True)
    assert redirects_to_login(client.get("/"))

    # another worker process (a second app on the same data folder) sees the same lock
    other = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    r = other.test_client().post("/login", data={"username": "sales", "password": PASSWORD})
    assert r.status_code == 200 and LOCK_MESSAGE in r.get_data(as_text=True)

    # the counter and the lock are in the store, not in the process
    doc = user(other.extensions["aftersales.store"], "sales")
    locked_until = datetime.fromisoformat(doc["_locked_until"])
    remaining = locked_until - datetime.now(timezone.utc)
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)

    # every failure is in the user's audited history; the lock is named
    failed = events(store, "sales", "login_failed")
    assert len(failed) == 5
    assert [e["note"] for e in failed] == [f"第 {i} 次密码错误" for i in range(1, 5)] + ["账号已锁定"]
    assert all(e["actor"] == "sales" and e["table"] == "users" for e in failed)
    assert events(store, "sales", "login") == []

    # other accounts are not affected
    login(app.test_client(), "finance")


def test_lock_lasts_fifteen_minutes_then_the_right_password_works(store):
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    for i in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(accounts.LoginRefused):
            sessions.authenticate(store, "vp", WRONG, now=t0 + timedelta(seconds=i))
    locked_at = t0 + timedelta(seconds=accounts.MAX_FAILED_LOGINS - 1)
    for later in (timedelta(seconds=1), timedelta(minutes=7), timedelta(minutes=14, seconds=59)):
        with pytest.raises(accounts.LoginRefused, match=LOCK_MESSAGE):
            sessions.authenticate(store, "vp", PASSWORD, now=locked_at + later)
    doc, token = sessions.authenticate(store, "vp", PASSWORD, now=locked_at + timedelta(minutes=15, seconds=1))
    assert doc["username"] == "vp" and token
    fresh = user(store, "vp")
    assert fresh["_failed"] == 0 and fresh["_locked_until"] is None


def test_a_success_resets_the_counter(store):
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    for i in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(accounts.LoginRefused):
            sessions.authenticate(store, "gm", WRONG, now=t0)
    sessions.authenticate(store, "gm", PASSWORD, now=t0)
    for i in range(accounts.MAX_FAILED_LOGINS - 1):
        with pytest.raises(accounts.LoginRefused, match="用户名或密码不正确"):
            sessions.authenticate(store, "gm", WRONG, now=t0)
    assert sessions.authenticate(store, "gm", PASSWORD, now=t0)


def test_lock_holds_against_a_burst_of_parallel_guesses(store):
    """Guesses already past the lock check while the lock is being written must not clear it
    (they used to reset the counter, so parallel requests could guess without limit)."""
    n = 12
    barrier = threading.Barrier(n)
    refused = []

    def guess():
        barrier.wait()
        try:
            sessions.authenticate(store, "tech", WRONG)
        except accounts.LoginRefused as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(refused) == n
    doc = user(store, "tech")
    assert doc["_locked_until"] is not None
    with pytest.raises(accounts.LoginRefused, match=LOCK_MESSAGE):
        sessions.authenticate(store, "tech", PASSWORD)


def test_an_attempt_that_read_the_account_before_the_lock_cannot_clear_it(store, monkeypatch):
    """The same race, made deterministic: the attempt sees the account as it was before."""
    stale = user(store, "tech2")
    t0 = datetime.now(timezone.utc)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(accounts.LoginRefused):
            sessions.authenticate(store, "tech2", WRONG, now=t0)
    lock = user(store, "tech2")["_locked_until"]
    assert lock
    monkeypatch.setattr(sessions, "find_by_username", lambda s, name: dict(stale))
    for pw in (WRONG, PASSWORD):
        with pytest.raises(accounts.LoginRefused, match=LOCK_MESSAGE):
            sessions.authenticate(store, "tech2", pw, now=t0)
    monkeypatch.undo()
    doc = user(store, "tech2")
    assert doc["_locked_until"] == lock and doc["_sessions"] == {}


def test_disabled_user_cannot_log_in_and_the_refusal_is_audited(app, client, store):
    accounts.set_active(store, user(store, "finance")["id"], False, "admin")
    r = client.post("/login", data={"username": "finance", "password": PASSWORD})
    assert r.status_code == 200 and "该账号已停用" in r.get_data(as_text=True)
    assert redirects_to_login(client.get("/"))
    assert [e["note"] for e in events(store, "finance", "login_refused")] == ["账号已停用"]


# --- sessions end on the server -----------------------------------------------------------------
def test_logout_ends_the_session_for_a_replayed_cookie(app, client, store):
    login(client, "engineer")
    thief = replay(app, client)
    assert thief.get("/").status_code == 200  # the copy is the same session ...
    client.post("/logout")
    r = thief.get("/")
    assert redirects_to_login(r)  # ... and it ends with it
    assert redirects_to_login(thief.get("/customers/"))
    assert thief.post("/customers/new", data={"name": "x", "distance_km": "1"}).status_code == 302
    assert store.count("customers") == 0


def test_logout_ends_only_that_session(app, store):
    a, b = app.test_client(), app.test_client()
    login(a, "engineer")
    login(b, "engineer")
    assert len(user(store, "engineer")["_sessions"]) == 2
    a.post("/logout")
    assert redirects_to_login(a.get("/"))
    assert b.get("/").status_code == 200


def test_own_password_change_ends_the_other_sessions(app, client, store):
    login(client, "manager")
    elsewhere = app.test_client()
    login(elsewhere, "manager")
    old_cookie = replay(app, client)
    new = "Manager-new-pass-2026"
    r = client.post("/password", data={"old_password": PASSWORD, "new_password": new, "confirm": new})
    assert r.status_code == 302
    assert client.get("/").status_code == 200  # this browser carries on with a new session
    assert redirects_to_login(old_cookie.get("/"))  # its old cookie is dead
    assert redirects_to_login(elsewhere.get("/"))  # and so is every other browser
    assert len(user(store, "manager")["_sessions"]) == 1
    assert [e["action"] for e in events(store, "manager", "password_set")] == ["password_set"]
    # the new password works, the old one does not
    with pytest.raises(accounts.LoginRefused):
        sessions.authenticate(store, "manager", PASSWORD)
    login(app.test_client(), "manager", new)


def test_own_password_change_needs_the_old_password(app, client, store):
    login(client, "manager")
    new = "Manager-new-pass-2026"
    r = client.post("/password", data={"old_password": WRONG, "new_password": new, "confirm": new})
    assert r.status_code == 200 and "原密码不正确" in r.get_data(as_text=True)
    r = client.post("/password", data={"old_password": PASSWORD, "new_password": new, "confirm": new + "x"})
    assert r.status_code == 200 and "两次输入的新密码不一致" in r.get_data(as_text=True)
    assert client.get("/").status_code == 200
    login(app.test_client(), "manager", PASSWORD)


def test_short_new_password_is_refused_beside_the_field(app, client):
    login(client, "manager")
    short = "Short-pw-11"
    assert len(short) == 11
    r = client.post("/password", data={"old_password": PASSWORD, "new_password": short, "confirm": short})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    field = html[html.index('id="new_password"'):]
    field = field[:field.index("<input", 10)]
    assert "密码至少 12 个字符" in field
    login(app.test_client(), "manager", PASSWORD)


def test_admin_disabling_a_user_ends_their_sessions(app, client, store):
    login(client, "sales")
    stolen = replay(app, client)
    admin = app.test_client()
    login(admin, "admin")
    sid = user(store, "sales")["id"]
    assert admin.post(f"/admin/users/{sid}/disable", data={"confirmed": "1"}).status_code == 302
    assert redirects_to_login(client.get("/"))
    assert redirects_to_login(stolen.get("/"))
    assert user(store, "sales")["_sessions"] == {}
    # enabling again does not bring the old sessions back
    assert admin.post(f"/admin/users/{sid}/active/1").status_code == 302
    assert redirects_to_login(stolen.get("/"))
    login(app.test_client(), "sales")


def test_admin_password_reset_ends_the_users_sessions(app, client, store):
    login(client, "finance")
    stolen = replay(app, client)
    admin = app.test_client()
    login(admin, "admin")
    fid = user(store, "finance")["id"]
    new = "Reset-by-admin-2026"
    assert admin.post(f"/admin/users/{fid}/password", data={"pw-password": new}).status_code == 302
    assert redirects_to_login(client.get("/"))
    assert redirects_to_login(stolen.get("/"))
    assert client.post("/login", data={"username": "finance", "password": PASSWORD}).status_code == 200
    login(client, "finance", new)
    assert admin.get("/admin/users").status_code == 200  # the admin's own session is untouched


def test_idle_session_expires(app, client, store):
    login(client, "receiver")
    stolen = replay(app, client)
    doc = user(store, "receiver")
    [key] = doc["_sessions"]
    idle = timedelta(minutes=app.config["IDLE_MINUTES"])
    past = (datetime.now(timezone.utc) - idle - timedelta(seconds=5)).isoformat()
    with store.transaction("test") as tx:
        tx.touch("users", doc["id"], {"_sessions": {key: {**doc["_sessions"][key], "seen": past}}})
    r = client.get("/customers/")
    assert redirects_to_login(r)
    assert "长时间未操作" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert user(store, "receiver")["_sessions"] == {}  # removed on the server, not just refused
    assert redirects_to_login(stolen.get("/"))


def test_idle_minutes_setting_is_honoured(data_dir):
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False, "IDLE_MINUTES": 0})
    client = app.test_client()
    login(client, "receiver")
    assert redirects_to_login(client.get("/"))


def test_check_session_idle_expiry_in_the_domain(store):
    uid = user(store, "receiver")["id"]
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
    idle = timedelta(minutes=30)
    token = sessions.open_session(store, uid, now=t0)
    assert sessions.check_session(store, uid, token, idle, now=t0 + timedelta(minutes=29)).user
    # that use moved "seen" on: 29 more minutes are fine again, 31 are not
    assert sessions.check_session(store, uid, token, idle, now=t0 + timedelta(minutes=58)).user
    check = sessions.check_session(store, uid, token, idle, now=t0 + timedelta(minutes=58 + 31))
    assert check.user is None and "长时间未操作" in check.reason
    assert sessions.check_session(store, uid, token, idle, now=t0 + timedelta(minutes=90)).user is None
    assert sessions.check_session(store, uid, "forged-token", idle, now=t0).user is None
    assert sessions.check_session(store, 999, token, idle, now=t0).user is None


def test_forged_or_tampered_cookies_are_refused(app, client, store):
    login(client, "receiver")
    value = client.get_cookie(cookie_name(app)).value
    forger = app.test_client()
    forger.set_cookie(cookie_name(app), value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert redirects_to_login(forger.get("/"))
    # a correctly signed cookie naming another user with a made-up token (key leaked) is refused too
    admin_id = user(store, "admin")["id"]
    signed = app.session_interface.get_signing_serializer(app).dumps({"_user_id": f"{admin_id}:made-up", "_fresh": True})
    forger.set_cookie(cookie_name(app), signed)
    assert redirects_to_login(forger.get("/admin/users"))


def test_abandoned_sessions_are_pruned_at_the_next_login(store):
    t0 = datetime(2026, 1, 1, 8, 0, tzinfo=timezone.utc)
    for day in range(10):  # ten logins from browsers that were closed without logging out
        sessions.authenticate(store, "receiver", PASSWORD, now=t0 + timedelta(days=day))
    kept = user(store, "receiver")["_sessions"]
    assert len(kept) <= sessions.SESSION_RETENTION.days + 1
    newest = max(datetime.fromisoformat(s["seen"]) for s in kept.values())
    assert newest == t0 + timedelta(days=9)
    assert all(newest - datetime.fromisoformat(s["seen"]) <= sessions.SESSION_RETENTION for s in kept.values())
