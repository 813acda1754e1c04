"""Fixture chain (as in Flask's tutorial): data folder → app → client → auth helper.

Every test gets its own real data folder (a copy of one seeded once per session with a user
for every role, since Argon2 hashing is deliberately slow) and the real app.
"""
from __future__ import annotations

import re
import shutil

import pytest

from app import create_app
from records.catalog import customers, products
from records.core.store import Store
from records.users import accounts

pytest_plugins = ["tests.browser_support"]  # live_server, browser, page (browser tests)

PASSWORD = "Test-password-2026"

# username -> roles; one user per role plus a few combinations the workflow needs
TEST_USERS = {
    "admin": ["admin"],
    "receiver": ["receiver"],
    "engineer": ["tq_engineer", "receiver"],
    "manager": ["tq_manager", "tq_engineer", "receiver"],
    "tech": ["technician", "receiver"],
    "tech2": ["technician", "receiver"],
    "sales": ["sales", "receiver"],
    "finance": ["finance", "receiver"],
    "vp": ["vp", "receiver"],
    "gm": ["gm", "receiver"],
}


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "data"
    store = Store(path)
    for name, roles in TEST_USERS.items():
        accounts.create_user(store, name, PASSWORD, roles, "test", display_name=f"{name}-姓名")
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


def near_and_far(store: Store, items=(("near", "IN-001", "JX-200", "电源控制箱", "2025-01-10", 36),
                                      ("far", "OUT-001", "TX-9", "通信终端", "2020-01-10", 12))) -> dict:
    """The case tests' two customers, "near" (150 km) and "far" (820 km), and their products:
    ``items`` (customer, serial, model, name, delivered, warranty months); by default one in
    warranty near, one out of it far."""
    made = {"near": customers.create_customer(store, {"name": "某部队第一修理所", "distance_km": 150}, "t"),
            "far": customers.create_customer(store, {"name": "西北某试验基地", "distance_km": 820}, "t")}
    for who, serial, model, name, delivered, months in items:
        products.create_product(store, {"model": model, "name": name, "serial_no": serial, "customer_id": made[who]["id"],
                                        "delivery_date": delivered, "warranty_months": months}, "t")
    return made


def csrf_token_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in page"
    return m.group(1)
