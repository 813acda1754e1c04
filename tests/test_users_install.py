"""The demo folder and the real one (issue 11, "Data safety": an emptied users table brought
back the demo admin). records/users/install.py, ``aftersales init`` / ``demo`` / ``serve``,
and the app factory's start check (app.py).
"""
from __future__ import annotations

import shutil

import pytest

from app import create_app
from records.core.store import Store
from records.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from records.users import accounts, install, sessions
from tests.fixtures.users import PASSWORD

BANNER = "演示数据，仅供试用"


@pytest.fixture
def password_file(tmp_path):
    path = tmp_path / "admin-password"
    path.write_text(PASSWORD + "\n")
    return path


def init(runner, folder, password_file, *extra):
    return runner.invoke(["init", "--data-dir", str(folder), "--admin-password-file", str(password_file), *extra])


def empty_users(folder) -> None:
    """What the attack did: the users table emptied (its shard files gone)."""
    shutil.rmtree(folder / "tables" / accounts.TABLE)


# --- aftersales init ---------------------------------------------------------------------------
def test_init_makes_a_real_folder_with_its_first_admin_and_no_demo_users(tmp_path, runner, password_file):
    folder = tmp_path / "real"
    result = init(runner, folder, password_file, "--admin", "boss", "--name", "老板")
    assert result.exit_code == 0, result.output
    store = Store(folder)
    assert install.kind(store) == install.REAL
    [user] = store.scan(accounts.TABLE)
    assert user["username"] == "boss" and user["roles"] == ["admin"] and user["display_name"] == "老板"
    assert sessions.authenticate(store, "boss", PASSWORD)[1]
    assert all(accounts.find_by_username(store, name) is None for name, _, _ in DEMO_USERS if name != "boss")
    app = create_app({"DATA_DIR": folder, "TESTING": True})
    assert app.config["DEMO"] is False
    assert BANNER not in app.test_client().get("/login").get_data(as_text=True)
    # once only
    again = init(runner, folder, password_file)
    assert again.exit_code == 1 and "已初始化" in again.output


def test_init_asks_for_the_password_twice(tmp_path, runner):
    folder = tmp_path / "real"
    answers = f"{PASSWORD}\nsomething-else-123\n{PASSWORD}\n{PASSWORD}\n"
    result = runner.invoke(["init", "--data-dir", str(folder)], input=answers)
    assert result.exit_code == 0, result.output
    assert result.output.count("再次输入密码") == 2  # the mismatch was asked again
    assert sessions.authenticate(Store(folder), "admin", PASSWORD)[1]


def test_init_refuses_a_short_password_and_a_folder_in_use(tmp_path, runner, password_file, data_dir):
    short = tmp_path / "short"
    short.write_text("short\n")
    result = init(runner, tmp_path / "a", short)
    assert result.exit_code == 1 and "密码至少" in result.output
    assert install.kind(Store(tmp_path / "a")) is None and Store(tmp_path / "a").count(accounts.TABLE) == 0
    # a folder holding records (not a user): not empty, not initialised here
    other = Store(tmp_path / "b")
    other.insert("customers", {"name": "某单位", "distance_km": 1, "contacts": []}, "x")
    result = init(runner, tmp_path / "b", password_file)
    assert result.exit_code == 1 and "不是空的" in result.output
    assert init(runner, data_dir, password_file).exit_code == 1  # the test users' folder: initialised


# --- the start check -----------------------------------------------------------------------------
def test_an_initialised_folder_that_lost_its_users_refuses_to_start(data_dir, runner):
    empty_users(data_dir)
    with pytest.raises(install.FolderRefused, match="用户表为空"):
        create_app({"DATA_DIR": data_dir, "TESTING": True})
    for args in (["serve"], ["serve", "--demo"]):  # --demo never fills a real folder
        result = runner.invoke([*args, "--data-dir", str(data_dir), "--port", "1"])
        assert result.exit_code == 1 and ("用户表为空" in result.output or "正式数据" in result.output), result.output
    demo = runner.invoke(["demo", "--data-dir", str(data_dir)])
    assert demo.exit_code == 1 and "正式数据" in demo.output
    assert Store(data_dir).count(accounts.TABLE) == 0  # no demo admin came back


def test_an_empty_folder_is_refused_with_the_way_to_initialise_it(tmp_path, runner):
    folder = tmp_path / "new"
    for make in (False, True):
        if make:
            folder.mkdir()
        with pytest.raises(install.FolderRefused, match="aftersales init"):
            create_app({"DATA_DIR": folder, "TESTING": True})
        assert not folder.exists() or list(folder.iterdir()) == []  # nothing written into it
    result = runner.invoke(["serve", "--data-dir", str(folder), "--port", "1"])
    assert result.exit_code == 1 and "aftersales init" in result.output
    # a folder with records but no users and no marker (an older install that lost its users)
    Store(folder).insert("customers", {"name": "某单位", "distance_km": 1, "contacts": []}, "x")
    with pytest.raises(install.FolderRefused, match="没有任何用户"):
        create_app({"DATA_DIR": folder, "TESTING": True})
    assert runner.invoke(["demo", "--data-dir", str(folder)]).exit_code == 1


def test_an_older_install_keeps_working_and_is_marked_real(tmp_path, runner):
    folder = tmp_path / "data"  # users, no marker: as `--data-dir ./data` of an older install
    accounts.create_user(Store(folder), "old.admin", PASSWORD, ["admin"], "test")
    app = create_app({"DATA_DIR": folder, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert install.kind(Store(folder)) == install.REAL and app.config["DEMO"] is False
    r = app.test_client().post("/login", data={"username": "old.admin", "password": PASSWORD})
    assert r.status_code == 302
    assert runner.invoke(["demo", "--data-dir", str(folder)]).exit_code == 1
    empty_users(folder)
    with pytest.raises(install.FolderRefused, match="用户表为空"):
        create_app({"DATA_DIR": folder, "TESTING": True})


# --- the demo folder -------------------------------------------------------------------------------
def test_the_demo_folder_is_marked_and_every_page_says_it_is_the_demo(tmp_path, runner):
    folder = tmp_path / "demo-data"
    result = runner.invoke(["demo", "--data-dir", str(folder)])
    assert result.exit_code == 0, result.output
    store = Store(folder)
    assert install.kind(store) == install.DEMO
    assert load_demo(store)["users"] == 0  # safe to run twice
    app = create_app({"DATA_DIR": folder, "TESTING": True, "WTF_CSRF_ENABLED": False})
    assert app.config["DEMO"] is True
    client = app.test_client()
    assert BANNER in client.get("/login").get_data(as_text=True)
    assert client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD}).status_code == 302
    for path in ("/", "/customers/", "/no-such-page"):
        assert BANNER in client.get(path).get_data(as_text=True), path
    # a demo folder that lost its users may be filled again; the app refuses it until then
    empty_users(folder)
    with pytest.raises(install.FolderRefused, match="aftersales demo"):
        create_app({"DATA_DIR": folder, "TESTING": True})
    assert runner.invoke(["demo", "--data-dir", str(folder)]).exit_code == 0
    assert Store(folder).count(accounts.TABLE) == len(DEMO_USERS)


def test_serve_demo_defaults_to_its_own_folder():
    """``bash scripts/run.sh`` serves ``aftersales serve --demo``: ./demo-data, never ./data,
    unless a data folder is named (then no --demo: a real folder never gets demo data)."""
    from app import DEFAULT_DATA_DIR, DEMO_DATA_DIR

    assert DEMO_DATA_DIR.name == "demo-data" and DEMO_DATA_DIR != DEFAULT_DATA_DIR
    script = (DEFAULT_DATA_DIR.parent / "scripts" / "run.sh").read_text()
    assert "serve \"${demo[@]}\"" in script and "--data-dir|--data-dir=*) demo=()" in script
    assert "AFTERSALES_DATA:-}\" ] && demo=()" in script
