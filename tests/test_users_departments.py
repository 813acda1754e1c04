"""部门 and 主管领导 (GLOSSARY): the admin's list of departments, each user's department and
supervisor. The rules on a real store, then the admin's pages through the app."""
from __future__ import annotations

import pytest

from forms.base import BAD_REVISION
from records.core.store import Store
from records.demo import DEMO_DEPARTMENTS, DEMO_PLACES, load_departments
from records.users import accounts, departments
from records.users.departments import DepartmentError, department_of, supervisor_of
from tests.fixtures.users import PASSWORD, user


@pytest.fixture
def db(data_dir) -> Store:
    return Store(data_dir)


def uid(store, name: str) -> int:
    return user(store, name)["id"]


def place(store, name: str, dept=None, supervisor=""):
    return accounts.update_user(store, uid(store, name), "admin", department_id=dept, supervisor=supervisor)


def test_the_users_table_is_named_alike_in_both_modules():
    assert departments.USERS == accounts.TABLE


# --- Departments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("existing, name, refused", [
    (["技质部"], "销售部", None),
    (["技质部"], "技质部", "已有同名部门"),
    (["Sales"], " sales ", "已有同名部门"),          # any case, spaces trimmed
    (["技质部"], "  ", "请输入部门名称"),
    ([], "部" * 41, "不能超过 40 个字"),
])
def test_create_department(db, existing, name, refused):
    for n in existing:
        departments.create_department(db, n, "admin")
    if refused:
        with pytest.raises(DepartmentError, match=refused) as e:
            departments.create_department(db, name, "admin")
        assert e.value.field == "name"
        assert len(departments.departments(db)) == len(existing)  # nothing half-written
    else:
        made = departments.create_department(db, name, "admin")
        assert made["name"] == name.strip() and made["active"] is True


def test_rename_refuses_a_duplicate_and_members_follow(db):
    tq = departments.create_department(db, "技质部", "admin")
    departments.create_department(db, "销售部", "admin")
    place(db, "engineer", tq["id"])
    with pytest.raises(DepartmentError, match="已有同名部门"):
        departments.rename_department(db, tq["id"], "销售部", "admin")
    departments.rename_department(db, tq["id"], "技术质量部", "admin")
    assert department_of(db, user(db, "engineer"))["name"] == "技术质量部"
    history = db.history("departments", tq["id"])
    assert [e["action"] for e in history] == ["create", "update"] and history[-1]["actor"] == "admin"


def test_a_department_in_use_cannot_be_removed(db):
    tq = departments.create_department(db, "技质部", "admin")
    empty = departments.create_department(db, "生产部", "admin")
    place(db, "engineer", tq["id"])
    accounts.set_active(db, uid(db, "engineer"), False, "admin")  # a disabled member still uses it
    with pytest.raises(DepartmentError, match="还有 1 名成员"):
        departments.remove_department(db, tq["id"], "admin")
    departments.remove_department(db, empty["id"], "admin")
    assert [d["name"] for d in departments.departments(db)] == ["技质部"]
    departments.create_department(db, "生产部", "admin")  # the name is free again
    assert db.history("departments", empty["id"])[-1]["changes"]["removed"] == [False, True]


def test_a_deactivated_department_keeps_its_members_and_takes_no_new_one(db):
    tq = departments.create_department(db, "技质部", "admin")
    place(db, "engineer", tq["id"])
    departments.set_department_active(db, tq["id"], False, "admin")
    assert departments.departments(db, active_only=True) == []
    place(db, "engineer", tq["id"], supervisor="manager")  # stays in it, other fields change
    with pytest.raises(DepartmentError, match="已停用") as e:
        place(db, "tech", tq["id"])
    assert e.value.field == "department_id"
    assert department_of(db, user(db, "engineer"))["name"] == "技质部"


# --- 主管领导 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("chain, who, boss, refused", [
    ({}, "engineer", "manager", None),
    ({}, "engineer", "", None),                                          # none
    ({}, "engineer", "engineer", "不能是本人"),
    ({}, "engineer", "nobody", "不存在"),
    ({"manager": "engineer"}, "engineer", "manager", "循环"),             # engineer → manager → engineer
    ({"manager": "vp", "vp": "engineer"}, "engineer", "manager", "循环"),  # a longer cycle
    ({"manager": "vp", "vp": "gm"}, "engineer", "manager", None),         # a chain upward
])
def test_supervisor_rules(db, chain, who, boss, refused):
    for name, up in chain.items():
        place(db, name, supervisor=up)
    if refused:
        with pytest.raises(DepartmentError, match=refused) as e:
            place(db, who, supervisor=boss)
        assert e.value.field == "supervisor" and not user(db, who).get("supervisor")
    else:
        place(db, who, supervisor=boss)
        assert (supervisor_of(db, user(db, who)) or {}).get("username", "") == boss


def test_a_disabled_user_cannot_become_a_supervisor_and_is_nobodys(db):
    place(db, "engineer", supervisor="manager")
    accounts.set_active(db, uid(db, "manager"), False, "admin")
    assert supervisor_of(db, user(db, "engineer")) is None  # nobody approves for them any more
    with pytest.raises(DepartmentError, match="已停用"):
        place(db, "tech", supervisor="manager")
    place(db, "engineer", supervisor="manager")  # unchanged: the edit of other fields goes on


def test_users_stored_before_departments_read_as_none(db, client, auth):
    old = db.insert("users", {"username": "lao.zhang", "display_name": "老张", "email": "", "roles": ["receiver"],
                              "active": True}, "test")  # a user as stored before this issue
    assert department_of(db, old) is None and supervisor_of(db, old) is None
    auth.login("admin")
    assert "老张" in html(client.get("/admin/users"))
    assert client.get(f"/admin/users/{old['id']}").status_code == 200
    place(db, "lao.zhang", supervisor="manager")
    assert supervisor_of(db, user(db, "lao.zhang"))["username"] == "manager"


def test_a_new_user_gets_department_and_supervisor(db):
    tq = departments.create_department(db, "技质部", "admin")
    made = accounts.create_user(db, "xiao.li", PASSWORD, ["tq_engineer"], "admin", display_name="小李",
                                department_id=tq["id"], supervisor="manager")
    assert made["department_id"] == tq["id"] and made["supervisor"] == "manager"
    assert supervisor_of(db, made)["username"] == "manager" and "_pw" not in supervisor_of(db, made)
    with pytest.raises(DepartmentError, match="部门不存在"):
        accounts.create_user(db, "xiao.wang", PASSWORD, ["receiver"], "admin", department_id=999)
    assert user(db, "xiao.wang") is None


def test_demo_departments_and_supervisors(db):
    assert load_departments(db) == len(DEMO_DEPARTMENTS)
    assert department_of(db, user(db, "admin"))["name"] == DEMO_PLACES["admin"][0]  # the one demo user seeded here
    assert load_departments(db) == 0  # safe to run twice
    assert {d["name"] for d in departments.departments(db)} == set(DEMO_DEPARTMENTS)
    assert {dept for dept, _ in DEMO_PLACES.values()} <= set(DEMO_DEPARTMENTS)
    # every supervisor is a demo user; following the chain always ends (no cycle)
    for name in DEMO_PLACES:
        seen, up = {name}, DEMO_PLACES[name][1]
        while up:
            assert up in DEMO_PLACES and up not in seen
            seen.add(up)
            up = DEMO_PLACES[up][1]


# --- The admin's pages -----------------------------------------------------------------------------


def html(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def test_admin_departments_page(admin, store):
    assert admin.get("/admin/departments").status_code == 200
    r = admin.post("/admin/departments", data={"name": "技质部"})
    assert r.status_code == 302
    [tq] = departments.departments(store)
    r = admin.post("/admin/departments", data={"name": "技质部"})
    assert r.status_code == 400 and "已有同名部门" in html(r) and 'value="技质部"' in html(r)
    departments.create_department(store, "生产部", "admin")
    place(store, "engineer", tq["id"])
    page = html(admin.get("/admin/departments"))
    assert "技质部" in page and "生产部" in page and 'href="/admin/departments"' in page  # in the admin's menu
    assert f"/admin/departments/{tq['id']}/remove" not in page  # in use: no delete button
    r = admin.post(f"/admin/departments/{tq['id']}/remove", follow_redirects=True)
    assert "不能删除" in html(r) and departments.departments(store)[0]["name"] == "技质部"
    r = admin.post(f"/admin/departments/{tq['id']}", data={"name": "技术质量部"})  # no revision: refused
    assert r.status_code != 302 and BAD_REVISION in html(r) and store.get("departments", tq["id"])["name"] == "技质部"
    r = admin.post(f"/admin/departments/{tq['id']}", data={"name": "技术质量部", "rev": tq["_rev"]})
    assert r.status_code == 302 and store.get("departments", tq["id"])["name"] == "技术质量部"
    assert "engineer-姓名" in html(admin.get(f"/admin/departments/{tq['id']}"))  # its members
    r = admin.post(f"/admin/departments/{tq['id']}/active/0")
    assert r.status_code == 302 and store.get("departments", tq["id"])["active"] is False
    assert "已停用" in html(admin.get("/admin/departments"))
    assert admin.get(f"/history/departments/{tq['id']}").status_code == 200


def test_departments_page_is_the_admins(client, auth):
    auth.login("manager")
    assert client.get("/admin/departments").status_code == 403
    assert client.post("/admin/departments", data={"name": "x"}).status_code == 403


def test_user_form_sets_department_and_supervisor(admin, store):
    tq = departments.create_department(store, "技质部", "admin")
    page = html(admin.get("/admin/users/new"))
    assert 'name="department_id"' in page and 'name="supervisor"' in page and "技质部" in page
    r = admin.post("/admin/users/new", data={"username": "xiao.li", "display_name": "小李", "roles": ["tq_engineer"],
                                             "password": "Fresh-password-2026", "department_id": tq["id"],
                                             "supervisor": "manager"})
    assert r.status_code == 302
    made = user(store, "xiao.li")
    assert made["department_id"] == tq["id"] and made["supervisor"] == "manager"
    listing = html(admin.get("/admin/users"))
    row = listing[listing.index(">xiao.li<"):]
    row = row[:row.index("</tr>")]
    assert "技质部" in row and "manager-姓名" in row

    # the manager's supervisor cannot be xiao.li: xiao.li answers to the manager
    mid = uid(store, "manager")
    doc = store.get("users", mid)
    r = admin.post(f"/admin/users/{mid}", data={"rev": doc["_rev"], "display_name": doc["display_name"],
                                                "roles": doc["roles"], "department_id": tq["id"],
                                                "supervisor": "xiao.li"})
    assert r.status_code == 200 and "循环" in html(r)
    assert not store.get("users", mid).get("supervisor")
    edit = html(admin.get(f"/admin/users/{mid}"))
    assert 'value="manager"' not in edit  # nobody is offered as their own supervisor
