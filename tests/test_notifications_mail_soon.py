"""A step's mail leaves right after its commit, sent by the app outside the request (issue 10):
views/mail_soon.py and records/notifications/courier.py, against a real SMTP server (aiosmtpd).

The app runs here as in production ("thread": a background sender per request), joined by the
test; no scheduled run is started, except to show that it still sends what the app could not.
"""
from __future__ import annotations

import threading
from datetime import datetime

import pytest

from app import create_app
from records.core.files import FileLock
from records.notifications import inbox, outbox, smtp_settings
from records.notifications.courier import Courier
from tests.fixtures.calendar import TZ
from tests.fixtures.mail import set_email
from tests.fixtures.users import PASSWORD


@pytest.fixture
def threaded(data_dir):
    """The app with the production sender (a background thread per request)."""
    app = create_app({"DATA_DIR": data_dir, "TESTING": True, "WTF_CSRF_ENABLED": False, "MAIL_AFTER_COMMIT": "thread"})
    yield app
    courier = app.extensions["aftersales.courier"]
    courier.join(timeout=30)
    assert not any(t.name == "aftersales-mail" and t.is_alive() for t in threading.enumerate())


def configure(store, port: int) -> None:
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": port, "starttls": False,
                                             "sender": "aftersales@example.com", "base_url": "https://as.example.com"},
                                     "admin")
    set_email(store, "engineer", "engineer@example.com")


def decide(client, case):
    return client.post(f"/cases/{case['id']}/decide", data={
        "decide-rev": case["_rev"], "decide-solution": "onsite_free", "decide-analysis": "电源模块损坏"})


def test_a_steps_mail_reaches_the_server_without_the_scheduled_run(threaded, smtp, make_case):
    store = threaded.extensions["aftersales.store"]
    configure(store, smtp.port)
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))  # the engineer owns it
    client = threaded.test_client()
    client.post("/login", data={"username": "manager", "password": PASSWORD})
    assert decide(client, case).status_code == 302
    threaded.extensions["aftersales.courier"].join(timeout=30)

    [msg] = smtp.sink.messages
    assert msg["To"] == "engineer@example.com" and case["number"] in str(msg["Subject"])
    body = msg.get_content()
    assert "确定解决方案（6.2.2）" in body and f"https://as.example.com/cases/{case['id']}" in body
    [n] = [n for n in store.scan(inbox.TABLE) if n["recipient"] == "engineer"]
    assert n["email"]["state"] == "sent" and n["email"]["attempts"] == 1
    # the case page's history says who was told
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "已通知：engineer-姓名" in page


def test_while_the_server_is_down_the_step_commits_and_the_scheduled_run_sends_later(threaded, smtp, make_case):
    store = threaded.extensions["aftersales.store"]
    configure(store, smtp.port)
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    smtp.stop()
    client = threaded.test_client()
    client.post("/login", data={"username": "manager", "password": PASSWORD})
    assert decide(client, case).status_code == 302
    threaded.extensions["aftersales.courier"].join(timeout=30)
    assert store.get("cases", case["id"])["state"] == "awaiting_dispatch"
    [n] = [n for n in store.scan(inbox.TABLE) if n["recipient"] == "engineer"]
    assert n["email"]["state"] == "pending" and "无法连接" in outbox.outbox_status(store)["last_error"]

    smtp.start()
    result = outbox.deliver(store, datetime.now(TZ))  # the scheduled run retries what failed
    assert result["sent"] == 1 and len(smtp.sink.messages) == 1


def test_the_sender_waits_for_the_scheduled_run_holding_the_outbox_lock(store, smtp, make_case):
    configure(store, smtp.port)
    case = make_case(username="receiver")  # told to every 技质部 engineer: the engineer has an address
    [pending] = [n["id"] for n in store.scan(inbox.TABLE) if n["email"]["state"] == "pending"]
    courier = Courier(store, "thread", wait=20, retry_every=0.05)
    lock = FileLock(store.root / outbox.OUTBOX_LOCK)
    with lock.hold():
        courier.send([pending])
        courier.join(timeout=0.3)  # still waiting for the lock
        assert smtp.sink.messages == []
    courier.join(timeout=30)
    assert [m["To"] for m in smtp.sink.messages] == ["engineer@example.com"]
    assert case["number"] in str(smtp.sink.messages[0]["Subject"])


def test_without_mail_settings_nothing_is_queued_and_nothing_is_sent(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    auth.login("manager")
    assert decide(client, case).status_code == 302
    [n] = [n for n in store.scan(inbox.TABLE) if n["recipient"] == "engineer"]
    assert n["email"]["state"] == "none"  # in the inbox only
