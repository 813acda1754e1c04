"""The admin's user pages: create, edit roles, reset password, disable/enable, history.

Real app, real temp data folder; the admin works through the web pages, results are checked
in the store and by logging in as the user concerned.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from records.catalog import customers
from records.users import accounts, sessions
from tests.fixtures.users import PASSWORD, redirects_to_login, user

NEW_PASSWORD = "Fresh-password-2026"


def login(client, username="admin", password=PASSWORD):
    r = client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    return r




def field_html(html: str, field_id: str) -> str:
    """The markup of one form field: from its input to the start of the next field's block."""
    start = html.index(f'id="{field_id}"')
    nxt = re.search(r'class="mb-3|</form>', html[start:])
    return html[start:start + (nxt.start() if nxt else len(html))]


def input_value(html: str, field_id: str) -> str | None:
    m = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', html)
    v = m and re.search(r'value="([^"]*)"', m.group(0))
    return v.group(1) if v else None


def checked_roles(html: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r'<input checked[^>]*name="roles"[^>]*value="([^"]+)"', html)}


def new_user_form(**over):
    data = {"username": "wanglei", "display_name": "王磊", "email": "wanglei@example.cn",
            "roles": ["receiver", "technician"], "password": NEW_PASSWORD}
    data.update(over)
    return data


@pytest.fixture
def admin(client):
    login(client, "admin")
    return client


# --- list ------------------------------------------------------------------------------------
def test_user_list_shows_every_user_with_roles_in_chinese(admin, store):
    html = admin.get("/admin/users").get_data(as_text=True)
    for doc in store.find("users"):
        assert f">{doc['username']}<" in html
    assert "技质部经理" in html and "系统管理员" in html
    assert "$argon2" not in html  # no secrets in the page


# --- create ------------------------------------------------------------------------------------
def test_admin_creates_a_user_who_can_log_in(app, admin, store):
    count = store.count("users")
    r = admin.post("/admin/users/new", data=new_user_form())
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/admin/users"
    assert store.count("users") == count + 1
    doc = user(store, "wanglei")
    assert doc["display_name"] == "王磊" and doc["email"] == "wanglei@example.cn"
    assert doc["roles"] == ["receiver", "technician"] and doc["active"] is True
    assert doc["_by"] == "admin" and doc["_pw"].startswith("$argon2id$")
    assert "王磊" in admin.get("/admin/users").get_data(as_text=True)
    [created] = [e for e in store.history("users", doc["id"]) if e["action"] == "create"]
    assert created["actor"] == "admin" and created["changes"]["roles"] == [None, ["receiver", "technician"]]
    assert "_pw" not in created["changes"]
    other = app.test_client()
    login(other, "wanglei", NEW_PASSWORD)
    assert other.get("/").status_code == 200


@pytest.mark.parametrize("typed", ["receiver", "Receiver", "RECEIVER"])
def test_duplicate_username_is_refused_naming_the_existing_user(admin, store, typed):
    count = store.count("users")
    r = admin.post("/admin/users/new", data=new_user_form(username=typed))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "用户名已存在：receiver（receiver-姓名）" in field_html(html, "username")
    # the typed values stay in the form
    assert input_value(html, "username") == typed
    assert input_value(html, "display_name") == "王磊"
    assert input_value(html, "email") == "wanglei@example.cn"
    assert checked_roles(html) == {"receiver", "technician"}
    assert input_value(html, "password") in (None, "")  # a password is never sent back
    assert store.count("users") == count


@pytest.mark.parametrize("over,field,message", [
    ({"password": "Elevenchars"}, "password", "密码至少 12 个字符"),
    ({"password": ""}, "password", "请输入初始密码"),
    ({"username": "王磊"}, "username", "用户名只能包含字母"),
    ({"username": "a b"}, "username", "用户名只能包含字母"),
    ({"username": ""}, "username", "请输入用户名"),
    ({"display_name": ""}, "display_name", "请输入姓名"),
    ({"email": "not-an-address"}, "email", "电子邮箱格式不正确"),
    ({"roles": []}, "roles", "至少选择一个角色"),
    ({"roles": ["root"]}, "roles", ""),
])
def test_bad_new_user_is_shown_again_with_a_message_beside_the_field(admin, store, over, field, message):
    count = store.count("users")
    r = admin.post("/admin/users/new", data=new_user_form(**over))
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    beside = field_html(html, field)
    assert "invalid-feedback" in beside and message in beside, beside
    for name, value in (("display_name", "王磊"), ("email", "wanglei@example.cn")):
        if name not in over:
            assert input_value(html, name) == value
    assert store.count("users") == count


def test_twelve_characters_is_enough(admin, store):
    assert admin.post("/admin/users/new", data=new_user_form(password="Twelve-chars")).status_code == 302
    assert sessions.authenticate(store, "wanglei", "Twelve-chars")


def test_password_policy_in_the_domain(store):
    with pytest.raises(accounts.UserError) as exc:
        accounts.create_user(store, "shorty", "x" * 11, ["receiver"], "admin")
    assert exc.value.field == "password" and "12" in str(exc.value)
    with pytest.raises(accounts.UserError):
        accounts.set_password(store, user(store, "receiver")["id"], "x" * 11, "admin")
    with pytest.raises(accounts.UserError):
        accounts.create_user(store, "longy", "x" * 129, ["receiver"], "admin")
    assert user(store, "shorty") is None


# --- edit roles ------------------------------------------------------------------------------
def test_admin_edits_roles_and_they_apply_at_once(app, admin, store):
    receiver = app.test_client()
    login(receiver, "receiver")
    assert receiver.get("/customers/new").status_code == 403
    doc = user(store, "receiver")
    page = admin.get(f"/admin/users/{doc['id']}").get_data(as_text=True)
    assert checked_roles(page) == {"receiver"}
    r = admin.post(f"/admin/users/{doc['id']}", data={"rev": str(doc["_rev"]), "display_name": "接收人",
                                                       "email": "", "roles": ["receiver", "sales"]})
    assert r.status_code == 302
    after = user(store, "receiver")
    assert after["roles"] == ["receiver", "sales"] and after["display_name"] == "接收人"
    assert after["_rev"] == doc["_rev"] + 1
    # the logged-in user gets the new role on the next request, without logging in again
    assert receiver.get("/customers/new").status_code == 200
    # and loses it the same way
    r = admin.post(f"/admin/users/{doc['id']}", data={"rev": str(after["_rev"]), "display_name": "接收人",
                                                       "email": "", "roles": ["receiver"]})
    assert r.status_code == 302
    assert receiver.get("/customers/new").status_code == 403


def test_edit_with_a_stale_revision_is_refused(admin, store):
    doc = user(store, "tech")
    accounts.update_user(store, doc["id"], "someone", display_name="别人改过")
    r = admin.post(f"/admin/users/{doc['id']}", data={"rev": str(doc["_rev"]), "display_name": "我的修改",
                                                       "email": "", "roles": ["technician", "admin"]})
    assert r.status_code == 302
    after = user(store, "tech")
    assert after["display_name"] == "别人改过" and "admin" not in after["roles"]
    assert "已被他人修改" in admin.get(r.headers["Location"]).get_data(as_text=True)


def test_edit_without_roles_is_refused(admin, store):
    doc = user(store, "tech")
    r = admin.post(f"/admin/users/{doc['id']}", data={"rev": str(doc["_rev"]), "display_name": "x", "roles": []})
    assert r.status_code == 200 and "至少选择一个角色" in r.get_data(as_text=True)
    assert user(store, "tech") == doc


def test_unknown_user_is_404(admin):
    assert admin.get("/admin/users/999").status_code == 404
    assert admin.post("/admin/users/999/password", data={"pw-password": NEW_PASSWORD}).status_code == 404
    assert admin.post("/admin/users/999/active/0").status_code == 404


# --- reset password -------------------------------------------------------------------------------
def test_admin_resets_a_password(app, admin, store):
    doc = user(store, "engineer")
    r = admin.post(f"/admin/users/{doc['id']}/password", data={"pw-password": NEW_PASSWORD})
    assert r.status_code == 302
    assert "已重置 engineer 的密码" in admin.get(r.headers["Location"]).get_data(as_text=True)
    with pytest.raises(accounts.LoginRefused):
        sessions.authenticate(store, "engineer", PASSWORD)
    login(app.test_client(), "engineer", NEW_PASSWORD)
    assert user(store, "engineer")["_pw"] != doc["_pw"]


def test_reset_with_a_short_password_is_refused_beside_the_field(admin, store):
    doc = user(store, "engineer")
    r = admin.post(f"/admin/users/{doc['id']}/password", data={"pw-password": "Short-pw-11"})
    assert r.status_code == 400
    assert "密码至少 12 个字符" in field_html(r.get_data(as_text=True), "pw-password")
    assert user(store, "engineer")["_pw"] == doc["_pw"]


# --- disable / enable -----------------------------------------------------------------------------
def test_disabled_user_cannot_log_in_and_keeps_their_records(app, admin, store):
    sales = app.test_client()
    login(sales, "sales")
    assert sales.post("/customers/new", data={"name": "销售建的单位", "distance_km": "10"}).status_code == 302
    made = customers.by_name(store, "销售建的单位")
    count = store.count("users")
    sid = user(store, "sales")["id"]

    # disabling is a second step: the page with their open work (tests/test_admin_disable_reassign.py)
    assert admin.post(f"/admin/users/{sid}/active/0").headers["Location"].endswith(f"/admin/users/{sid}/disable")
    r = admin.post(f"/admin/users/{sid}/disable", data={"confirmed": "1"})
    assert r.status_code == 302
    assert "已停用" in admin.get("/admin/users").get_data(as_text=True)
    doc = store.get("users", sid)
    assert doc is not None and doc["active"] is False  # disabled, never deleted
    assert store.count("users") == count
    assert store.get("customers", made["id"])["_by"] == "sales"  # their records stay theirs
    assert accounts.users_with_role(store, "sales") == []  # not offered for new work

    r = app.test_client().post("/login", data={"username": "sales", "password": PASSWORD})
    assert r.status_code == 200 and "该账号已停用" in r.get_data(as_text=True)
    assert redirects_to_login(sales.get("/"))

    r = admin.post(f"/admin/users/{sid}/active/1")
    assert r.status_code == 302 and store.get("users", sid)["active"] is True
    login(app.test_client(), "sales")


def test_there_is_no_delete(app):
    """Users are disabled, never deleted (an unused department may be removed: test_users_departments.py)."""
    user_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("admin.") and r.rule.startswith("/admin/users")]
    assert user_rules and "DELETE" not in {m for r in user_rules for m in r.methods}
    assert not [r.rule for r in user_rules if "delete" in r.rule.lower() or "remove" in r.rule.lower()]


# --- history ----------------------------------------------------------------------------------------
def test_user_history_page_shows_the_changes(app, admin, store):
    doc = user(store, "vp")
    app.test_client().post("/login", data={"username": "vp", "password": "Wrong-password-00"})
    admin.post(f"/admin/users/{doc['id']}", data={"rev": str(doc["_rev"]), "display_name": "副总",
                                                   "email": "vp@example.cn", "roles": ["vp", "gm"]})
    admin.post(f"/admin/users/{doc['id']}/password", data={"pw-password": NEW_PASSWORD})
    admin.post(f"/admin/users/{doc['id']}/disable", data={"confirmed": "1"})
    admin.post(f"/admin/users/{doc['id']}/active/1")

    actions = [(e["action"], e["actor"]) for e in store.history("users", doc["id"])]
    assert actions == [("create", "test"), ("login_failed", "vp"), ("update", "admin"), ("password_set", "admin"),
                       ("update", "admin"), ("update", "admin")]
    r = admin.get(f"/history/users/{doc['id']}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for text in ("角色", "副总", "vp@example.cn", "设置密码", "密码已更改", "登录失败", "启用",
                 "admin"):
        assert text in html, text
    assert "$argon2" not in html and NEW_PASSWORD not in html
    assert f"/history/users/{doc['id']}" in admin.get("/admin/users").get_data(as_text=True)


# --- the same pages with CSRF on ------------------------------------------------------------------
def test_admin_forms_work_with_csrf_on(csrf_app, csrf_token_from):
    store = csrf_app.extensions["aftersales.store"]
    c = csrf_app.test_client()
    token = csrf_token_from(c.get("/login").get_data(as_text=True))
    assert c.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}).status_code == 302

    assert c.post("/admin/users/new", data=new_user_form()).status_code == 400
    assert user(store, "wanglei") is None
    token = csrf_token_from(c.get("/admin/users/new").get_data(as_text=True))
    assert c.post("/admin/users/new", data={**new_user_form(), "csrf_token": token}).status_code == 302
    uid = user(store, "wanglei")["id"]

    page = c.get(f"/admin/users/{uid}").get_data(as_text=True)
    pw_token = re.search(r'name="pw-csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert c.post(f"/admin/users/{uid}/password", data={"pw-password": "Another-pass-2026"}).status_code == 400
    assert c.post(f"/admin/users/{uid}/password",
                  data={"pw-password": "Another-pass-2026", "pw-csrf_token": pw_token}).status_code == 302
    assert sessions.authenticate(store, "wanglei", "Another-pass-2026")

    assert c.post(f"/admin/users/{uid}/disable", data={"confirmed": "1"}).status_code == 400
    assert user(store, "wanglei")["active"] is True
    list_token = csrf_token_from(c.get(f"/admin/users/{uid}/disable").get_data(as_text=True))
    assert c.post(f"/admin/users/{uid}/disable", data={"confirmed": "1", "csrf_token": list_token}).status_code == 302
    assert user(store, "wanglei")["active"] is False


def _admin_id(store):
    return next(u["id"] for u in store.scan("users") if u["username"] == "admin")


def test_last_active_admin_cannot_be_disabled_or_demoted(client, auth, store):
    auth.login("admin")
    admin_id = _admin_id(store)
    r = client.post(f"/admin/users/{admin_id}/disable", data={"confirmed": "1"}, follow_redirects=True)
    assert "最后一个启用的系统管理员" in r.text
    assert store.get("users", admin_id)["active"] is True
    user = store.get("users", admin_id)
    r = client.post(f"/admin/users/{admin_id}", data={
        "rev": user["_rev"], "display_name": "管理员", "email": "", "roles": ["receiver"]})
    assert r.status_code == 200 and "最后一个启用的系统管理员" in r.text
    assert store.get("users", admin_id)["roles"] == ["admin"]


def test_a_second_admin_makes_demotion_possible(client, auth, store):
    accounts.create_user(store, "admin2", "Another-password-1", ["admin"], "test")
    auth.login("admin")
    admin_id = _admin_id(store)
    r = client.post(f"/admin/users/{admin_id}/disable", data={"confirmed": "1"}, follow_redirects=True)
    assert "已停用用户 admin-姓名" in r.get_data(as_text=True)  # by the name people know
    assert store.get("users", admin_id)["active"] is False


def test_wrong_old_password_counts_towards_lockout(client, auth, store):
    auth.login("engineer")
    for _ in range(5):
        r = client.post("/password", data={"old_password": "wrong-password-x", "new_password": "Brand-new-pass-1",
                                           "confirm": "Brand-new-pass-1"})
    assert "已锁定" in r.text
    r = client.get("/")  # the session was ended with the lock
    assert r.status_code == 302 and "/login" in r.location
    r = auth.login("engineer", PASSWORD)
    assert "锁定" in r.text
