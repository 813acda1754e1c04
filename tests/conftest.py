"""Fixture chain (as in Flask's tutorial): data folder → app → client → auth helper, and the
CLI runner.

Every test gets its own real data folder (a copy of one seeded once per session with a user
for every role, since Argon2 hashing is deliberately slow) and the real app.

The shared fixtures of the areas live in tests/fixtures/ (see its ``__init__``), the browser's
in tests/browser_support.py; both are loaded below as plugins.
"""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from app import create_app
from records.core.store import Store
from records.users import accounts, install
from scripts.cli import cli

pytest.register_assert_rewrite("tests.fixtures")  # their asserts report like a test's, imported from here or not
from tests.fixtures.users import PASSWORD, TEST_USERS  # noqa: E402 (after the line above)

pytest_plugins = [
    "tests.fixtures.users",
    "tests.fixtures.calendar",
    "tests.fixtures.catalog",
    "tests.fixtures.service_forms",
    "tests.fixtures.cases",
    "tests.fixtures.archive",
    "tests.fixtures.mail",
    "tests.fixtures.signing",
    "tests.browser_support",  # live_server, browser, page (browser tests)
]


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "data"
    store = Store(path)
    for name, roles in TEST_USERS.items():
        accounts.create_user(store, name, PASSWORD, roles, "test", display_name=f"{name}-姓名")
    with store.transaction("test") as tx:  # a real folder, as `aftersales init` leaves it
        install.mark(tx, install.REAL, "测试数据")
    return path


@pytest.fixture
def data_dir(seeded_dir, tmp_path):
    path = tmp_path / "data"
    shutil.copytree(seeded_dir, path)
    return path


@pytest.fixture
def app(data_dir):
    return create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False})


@pytest.fixture
def csrf_app(data_dir):
    """The app with CSRF protection on, as in production."""
    return create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": True})


@pytest.fixture
def store(app) -> Store:
    return app.extensions["aftersales.store"]


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username: str = "admin", password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


class ProjectCliRunner(CliRunner):
    """click's CliRunner bound to the project's CLI (``scripts.cli.cli``), as flaskr's
    ``app.test_cli_runner()`` is to ``app.cli``: ``runner.invoke(["verify", "--data-dir", …])``."""

    def invoke(self, args=None, **kwargs):
        return super().invoke(cli, args, **kwargs)


@pytest.fixture
def runner() -> ProjectCliRunner:
    return ProjectCliRunner()
