"""The page 公司参数 (/admin/parameters): the admin sets every company parameter, 财务部 the
labour rate; a bad value is refused beside the field with the typed value kept; a change is
audited and takes effect; pages that use a parameter name it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from records import policy
from records.core import parameters
from tests.fixtures.users import PASSWORD, redirects_to_login, user


def login(client, username="admin"):
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302
    return client


def field_block(html: str, field_id: str) -> str:
    start = html.index(f'id="{field_id}"')
    nxt = re.search(r'class="mb-3|</form>', html[start:])
    return html[start:start + (nxt.start() if nxt else len(html))]


def test_the_admin_sees_every_parameter_with_its_default_and_use(client):
    html = login(client).get("/admin/parameters").get_data(as_text=True)
    for p in policy.COMPANY_PARAMETERS.values():
        assert p.label in html and f"/admin/parameters/{p.key}" in html
    assert "公司惯例" in html and "返修认定天数" in html and "技术人员考核（9.1）" in html
    assert "records/" not in html  # no internal paths in users' words
    assert 'href="/admin/parameters"' in html  # in the menu


@pytest.mark.parametrize("username, url, status", [
    ("engineer", "/admin/parameters", 403),
    ("finance", "/admin/parameters", 200),
    ("finance", "/admin/parameters/labour_rate", 200),
    ("finance", "/admin/parameters/mail_max_attempts", 403),
    ("admin", "/admin/parameters/nonexistent", 404),
])
def test_who_opens_what(client, username, url, status):
    assert login(client, username).get(url).status_code == status


@pytest.mark.parametrize("raw, message", [
    ("0", "须在 1—100 次之间"),
    ("abc", "必须是整数"),
    ("", "请输入数值"),
])
def test_a_bad_value_is_refused_beside_the_field(client, store, raw, message):
    r = login(client).post("/admin/parameters/mail_max_attempts", data={"value": raw, "note": "试试"})
    assert r.status_code == 400
    block = field_block(r.get_data(as_text=True), "value")
    assert message in block and f'value="{raw}"' in block
    assert parameters.stored(store, "mail_max_attempts") is None  # nothing written


def test_a_change_is_audited_shown_and_in_force(client, store):
    login(client)
    r = client.post("/admin/parameters/mail_max_attempts", data={"value": "3", "note": "服务器不稳定"})
    assert r.status_code == 302
    assert policy.parameter(store, "mail_max_attempts") == 3
    entry = store.history(parameters.TABLE, parameters.stored(store, "mail_max_attempts")["id"])[-1]
    assert entry["actor"] == "admin" and entry["changes"]["value"] == [None, 3]
    edit = client.get("/admin/parameters/mail_max_attempts").get_data(as_text=True)
    assert "服务器不稳定" in edit and "（默认 10）" in edit
    mail = client.get("/inbox/settings").get_data(as_text=True)  # the page that uses it names it
    assert "公司参数：邮件最多尝试次数 3 次" in mail and 'href="/admin/parameters/mail_max_attempts"' in mail


def test_finance_sets_the_labour_rate(client, store):
    login(client, "finance")
    assert client.post("/admin/parameters/labour_rate", data={"value": "450"}).status_code == 302
    assert policy.parameter(store, "labour_rate") == 450
    assert parameters.history(store, "labour_rate")[-1]["by"] == "finance"
    history = client.get("/admin/parameters/labour_rate").get_data(as_text=True)
    assert "finance-姓名" in history[history.index('id="parameter-history"'):]  # who, by the name people know
    assert client.post("/admin/parameters/mail_max_attempts", data={"value": "3"}).status_code == 403


def test_the_session_lifetime_set_by_the_admin_ends_older_logins(app, store):
    login(app.test_client()).post("/admin/parameters/session_hours", data={"value": "2"})
    tech = login(app.test_client(), "tech")
    doc = user(store, "tech")
    now = datetime.now(timezone.utc)
    with store.transaction("test") as tx:
        tx.touch("users", doc["id"], {"_sessions": {k: {**v, "created": (now - timedelta(hours=2.1)).isoformat(),
                                                           "seen": now.isoformat()} for k, v in doc["_sessions"].items()}})
    r = tech.get("/")
    assert redirects_to_login(r)
    assert "登录已满 2 小时" in tech.get(r.headers["Location"]).get_data(as_text=True)
