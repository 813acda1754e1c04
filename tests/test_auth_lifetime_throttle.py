"""Sessions end 12 hours after login whatever the activity (company practice), the tablet's
draft outlives that; the login throttle per client address, behind the HTTPS proxy through
its trusted X-Forwarded-For (issue 11, "Hostile files and input").

records/users/sessions.py, records/users/throttle.py, views/auth.py, app.py (ProxyFix).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from app import create_app
from records.core.store import Store
from records.users import sessions, throttle
from tests.fixtures.users import PASSWORD, redirects_to_login, user

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
WRONG = "Not-the-password-123"


def age_logins(store, username: str, hours: float) -> None:
    """Every open session of ``username`` logged in ``hours`` ago, and used just now."""
    doc = user(store, username)
    now = datetime.now(timezone.utc)
    created = (now - timedelta(hours=hours)).isoformat()
    with store.transaction("test") as tx:
        tx.touch("users", doc["id"], {"_sessions": {k: {**v, "created": created, "seen": now.isoformat()}
                                                    for k, v in doc["_sessions"].items()}})


# --- the 12-hour lifetime -----------------------------------------------------------------------
def test_a_session_ends_twelve_hours_after_login_however_busy(store):
    uid = user(store, "receiver")["id"]
    idle = timedelta(minutes=90)
    token = sessions.open_session(store, uid, now=T0)
    t = T0
    while t < T0 + timedelta(hours=11):  # busy all day: never idle
        t += timedelta(hours=1)
        assert sessions.check_session(store, uid, token, idle, now=t).user, t
    assert sessions.MAX_AGE == timedelta(hours=12)
    check = sessions.check_session(store, uid, token, idle, now=T0 + timedelta(hours=12, minutes=1))
    assert check.user is None and "12 小时" in check.reason and "公司规定" in check.reason
    assert user(store, "receiver")["_sessions"] == {}  # ended on the server
    assert sessions.check_session(store, uid, token, idle, now=T0 + timedelta(hours=12, minutes=2)).user is None


def test_the_app_ends_an_old_login_and_says_why(client, auth, store):
    auth.login("receiver")
    age_logins(store, "receiver", 11.9)
    assert client.get("/").status_code == 200
    age_logins(store, "receiver", 12.1)
    r = client.get("/")
    assert redirects_to_login(r)
    assert "登录已满 12 小时" in client.get(r.headers["Location"]).get_data(as_text=True)
    assert user(store, "receiver")["_sessions"] == {}


# None: no override, the company parameter session_hours (default 12, policy.SESSION_HOURS) is in force
@pytest.mark.parametrize("env,hours", [(None, None), ("8", 8.0), ("0.5", 0.5)])
def test_the_lifetime_is_a_setting(data_dir, monkeypatch, env, hours):
    if env is not None:
        monkeypatch.setenv("AFTERSALES_SESSION_HOURS", env)
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert app.config["SESSION_MAX_HOURS"] == hours
    if hours == 0.5:  # honoured: a login 40 minutes old has ended
        client = app.test_client()
        assert client.post("/login", data={"username": "tech", "password": PASSWORD}).status_code == 302
        store = app.extensions["aftersales.store"]
        age_logins(store, "tech", 40 / 60)
        assert redirects_to_login(client.get("/"))


def test_the_tablet_draft_survives_the_forced_logout(client, auth, store, dispatched_case):
    """The draft (signature.js, sessionStorage) is keyed by case and form version only: the same
    key after the forced logout and a new login, and logging out does not clear it."""
    case = dispatched_case(store, technicians=("tech",))
    url = f"/forms/case/{case['id']}/tablet"

    def draft_key() -> str:
        html = client.get(url).get_data(as_text=True)
        return re.search(r'data-draft-key="([^"]+)"', html).group(1)

    auth.login("tech")
    first = draft_key()
    age_logins(store, "tech", 13)
    assert redirects_to_login(client.get(url))  # the forced logout
    auth.login("tech")
    second = draft_key()
    assert first == second == f"tablet:{case['id']}:v1"
    cookie = client.get_cookie("aftersales_session").value
    token = next(iter(user(store, "tech")["_sessions"]))
    assert cookie not in second and token not in second
    out = auth.logout()
    assert "Clear-Site-Data" not in out.headers  # the browser's storage is left alone
    script = client.get("/static/signature.js").get_data(as_text=True)
    assert "sessionStorage.clear" not in script and "localStorage.clear" not in script


# --- the login throttle ---------------------------------------------------------------------------
@pytest.mark.parametrize("failures,later,blocked", [
    (19, timedelta(0), False),
    (20, timedelta(0), True),
    (20, timedelta(minutes=14, seconds=59), True),
    (20, timedelta(minutes=15, seconds=1), False),  # the block lasts 15 minutes
])
def test_throttle_counts_failures_per_address(store, failures, later, blocked):
    for i in range(failures):
        throttle.count_failure(store, "10.0.0.1", T0 + timedelta(seconds=i))
    at = T0 + timedelta(seconds=failures - 1) + later  # after the last failure
    assert (throttle.blocked_until(store, "10.0.0.1", at) is not None) is blocked
    assert throttle.blocked_until(store, "10.0.0.2", at) is None


def test_throttle_counts_only_the_last_ten_minutes(store):
    for i in range(19):
        throttle.count_failure(store, "10.0.0.1", T0 + timedelta(seconds=i))
    # ten minutes after those failures they no longer count: the 20th is the first again
    now = T0 + timedelta(minutes=10, seconds=19)
    assert throttle.count_failure(store, "10.0.0.1", now) is False
    assert throttle.blocked_until(store, "10.0.0.1", now) is None
    assert list(store.scan(throttle.TABLE))[0]["_addresses"]["10.0.0.1"]["failures"] == [now.isoformat()]


def login(client, username="receiver", password=PASSWORD, addr="127.0.0.1", **headers):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers)


def test_twenty_failures_refuse_the_address_even_with_the_right_password(app, client, store, data_dir):
    for i in range(19):  # counted as the login path counts them (no Argon2 work for each)
        throttle.count_failure(store, "192.0.2.7", datetime.now(timezone.utc))
    r = login(client, "nobody", WRONG, addr="192.0.2.7")  # the 20th, through the page
    assert r.status_code == 200 and "用户名或密码不正确" in r.get_data(as_text=True)
    r = login(client, addr="192.0.2.7")  # the 21st: the right password
    assert r.status_code == 429 and "登录失败次数过多" in r.get_data(as_text=True)
    assert user(store, "receiver")["_sessions"] == {}
    # held across worker processes: another app (process) on the folder sees it
    other = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert login(other.test_client(), addr="192.0.2.7").status_code == 429
    # another address is not affected
    assert login(client, addr="192.0.2.8").status_code == 302
    # the domain, with the time pinned: 15 minutes later the address may log in again
    later = datetime.now(timezone.utc) + throttle.BLOCK + timedelta(seconds=1)
    assert sessions.authenticate(Store(data_dir), "receiver", PASSWORD, now=later, address="192.0.2.7")[1]


def test_the_header_is_ignored_without_the_proxy_setting(client, store):
    now = datetime.now(timezone.utc)
    for _ in range(throttle.MAX_FAILURES):
        throttle.count_failure(store, "10.9.9.9", now)
    assert login(client, **{"X-Forwarded-For": "10.9.9.9"}).status_code == 302  # the connection's address counts


def test_behind_the_proxy_each_forwarded_address_is_throttled_on_its_own(data_dir, monkeypatch):
    monkeypatch.setenv("AFTERSALES_HTTPS", "1")
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert app.config["PROXY_HOPS"] == 1
    store = app.extensions["aftersales.store"]
    now = datetime.now(timezone.utc)
    for _ in range(throttle.MAX_FAILURES):
        throttle.count_failure(store, "10.9.9.9", now)
    client = app.test_client()
    assert login(client, addr="172.16.0.1", **{"X-Forwarded-For": "10.9.9.9"}).status_code == 429
    # one trusted hop: the proxy's own entry (the last) counts, a forged first entry does not
    assert login(client, addr="172.16.0.1", **{"X-Forwarded-For": "10.9.9.9, 10.9.9.10"}).status_code == 302
    assert login(client, addr="172.16.0.1", **{"X-Forwarded-For": "10.9.9.8"}).status_code == 302
    monkeypatch.setenv("AFTERSALES_PROXY_HOPS", "2")
    two = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert two.config["PROXY_HOPS"] == 2
    assert login(two.test_client(), addr="172.16.0.1",
                 **{"X-Forwarded-For": "10.9.9.9, 10.9.9.10"}).status_code == 429
