"""The inbox, the e-mail outbox and the SMTP settings (records/notifications/, records/core/mailer.py,
views/notifications.py; issue 6).

E-mail goes to a real SMTP server on loopback (aiosmtpd; ``smtp`` and the helpers of
tests/fixtures/mail.py) started by the test, including a run while it is down and the retry once
it is back: every mail is delivered exactly once.
"""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from records.core.files import FileLock
from records.core.mailer import Mailer, MailError, SmtpSettings
from records.notifications import inbox, outbox, smtp_settings
from records.notifications.inbox import Notice
from tests.fixtures.mail import free_port, set_email

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


def configure(store, port: int) -> None:
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": port, "starttls": False,
                                             "sender": "aftersales@example.com", "base_url": "https://as.example.com",
                                             "password": ""}, "admin")


def notice(recipient: str, key: str, subject: str = "主题", link: str = "/cases/1") -> Notice:
    return Notice(recipient, "test", subject, "正文第一行\n第二行", key=key, link=link,
                  ref={"table": "cases", "id": 1})


# --- The inbox -----------------------------------------------------------------------------------


def test_the_same_key_is_never_stored_twice_and_counts_follow(store):
    made = outbox.notify(store, [notice("engineer", "k1"), notice("engineer", "k1"),
                                        notice("manager", "k2")], NOW)
    assert len(made) == 2
    assert outbox.notify(store, [notice("engineer", "k1")], NOW) == []
    assert store.count(inbox.TABLE) == 2
    assert inbox.unread_count(store, "engineer") == 1
    assert inbox.unread_count(store, "manager") == 1
    assert inbox.unread_count(store, "admin") == 0

    doc = made[0]
    assert doc["recipient"] == "engineer" and doc["link"] == "/cases/1" and doc["read_at"] is None
    assert doc["created_at"] == "2026-03-02T10:00:00+08:00"
    assert doc["email"]["state"] == "none"  # mail not configured

    inbox.mark_read(store, doc["id"], "engineer", NOW)
    assert inbox.unread_count(store, "engineer") == 0
    with pytest.raises(inbox.NotificationError):
        inbox.mark_read(store, made[1]["id"], "engineer", NOW)  # another user's notice
    assert inbox.mark_all_read(store, "manager", NOW) == 1
    assert inbox.unread_count(store, "manager") == 0


def test_mail_state_depends_on_settings_address_and_account(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    made = outbox.notify(store, [notice("engineer", "a"), notice("manager", "b")], NOW)
    by = {d["recipient"]: d["email"] for d in made}
    assert by["engineer"]["state"] == "pending" and by["engineer"]["to"] == "engineer@example.com"
    assert by["manager"]["state"] == "none" and "电子邮箱" in by["manager"]["last_error"]


def test_password_is_kept_out_of_the_audit_trail(store, data_dir):
    smtp_settings.save_smtp_settings(store, {"host": "mail.example.com", "port": 587, "starttls": True,
                                             "username": "as", "password": "S3cret-smtp-pass",
                                             "sender": "as@example.com"}, "admin")
    s = smtp_settings.mail_settings(store)
    assert (s.host, s.port, s.starttls, s.username, s.password, s.source) == (
        "mail.example.com", 587, True, "as", "S3cret-smtp-pass", "admin")
    assert "S3cret-smtp-pass" not in (data_dir / "audit.jsonl").read_text()
    assert "S3cret-smtp-pass" not in repr(s) and "password" not in s.public()
    # an empty password keeps the stored one
    smtp_settings.save_smtp_settings(store, {"host": "mail.example.com", "port": 25, "sender": "as@example.com"}, "admin")
    assert smtp_settings.mail_settings(store).password == "S3cret-smtp-pass"
    with pytest.raises(inbox.NotificationError):
        smtp_settings.save_smtp_settings(store, {"host": "x", "port": 70000, "sender": "a@b.c"}, "admin")
    with pytest.raises(inbox.NotificationError):
        smtp_settings.save_smtp_settings(store, {"host": "x", "port": 25, "sender": ""}, "admin")


def test_environment_settings_apply_when_the_admin_stored_none(store, monkeypatch):
    assert not smtp_settings.mail_settings(store).enabled
    monkeypatch.setenv("AFTERSALES_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("AFTERSALES_SMTP_PORT", "587")
    monkeypatch.setenv("AFTERSALES_SMTP_STARTTLS", "1")
    monkeypatch.setenv("AFTERSALES_SMTP_SENDER", "as@example.com")
    s = smtp_settings.mail_settings(store)
    assert (s.host, s.port, s.starttls, s.sender, s.source, s.enabled) == (
        "smtp.example.com", 587, True, "as@example.com", "env", True)


# --- The outbox against a real SMTP server ------------------------------------------------------


def test_outbox_delivers_each_mail_once_and_survives_a_server_outage(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    set_email(store, "manager", "manager@example.com")
    outbox.notify(store, [notice("engineer", "m1", "第一封"), notice("manager", "m2", "第二封")], NOW)

    result = outbox.deliver(store, NOW)
    assert (result["sent"], result["pending"], result["error"]) == (2, 0, "")
    assert sorted(smtp.sink.subjects()) == ["第一封", "第二封"]
    msg = next(m for m in smtp.sink.messages if m["To"] == "engineer@example.com")
    body = msg.get_content()
    assert "正文第一行" in body and "https://as.example.com/cases/1" in body
    assert msg["From"] == "aftersales@example.com" and msg["Message-ID"]
    assert outbox.deliver(store, NOW)["sent"] == 0  # nothing twice
    assert len(smtp.sink.messages) == 2

    # The server goes down: the new mail stays queued, nothing is lost.
    smtp.stop()
    outbox.notify(store, [notice("engineer", "m3", "第三封")], NOW)
    down = outbox.deliver(store, NOW)
    assert down["sent"] == 0 and down["pending"] == 1 and "无法连接" in down["error"]
    assert outbox.outbox_status(store)["last_error"] == down["error"]
    doc = next(d for d in store.scan(inbox.TABLE) if d["key"] == "m3")
    assert doc["email"]["state"] == "pending"

    # Back again: the queued mail goes out exactly once.
    smtp.start()
    up = outbox.deliver(store, NOW)
    assert (up["sent"], up["pending"], up["error"]) == (1, 0, "")
    assert outbox.deliver(store, NOW)["sent"] == 0
    assert sorted(smtp.sink.subjects()) == ["第一封", "第三封", "第二封"]
    doc = store.get(inbox.TABLE, doc["id"])
    assert doc["email"]["state"] == "sent" and doc["email"]["attempts"] == 1
    assert outbox.outbox_status(store)["last_error"] == ""


def test_a_recipient_refused_for_good_is_failed_and_may_be_requeued(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "nobody@example.com")  # the sink answers 550
    set_email(store, "manager", "manager@example.com")
    outbox.notify(store, [notice("engineer", "x1"), notice("manager", "x2")], NOW)
    result = outbox.deliver(store, NOW)
    assert (result["sent"], result["failed"], result["pending"]) == (1, 1, 0)
    failed = next(d for d in store.scan(inbox.TABLE) if d["key"] == "x1")
    assert failed["email"]["state"] == "failed" and "550" in failed["email"]["last_error"]
    assert outbox.outbox_status(store)["counts"]["failed"] == 1
    assert outbox.requeue_failed(store, "admin") == 1
    assert outbox.deliver(store, NOW)["failed"] == 1  # still refused; never sent twice
    assert len(smtp.sink.messages) == 1


def test_a_recipient_refused_for_now_is_skipped_and_the_others_go_out(store, smtp):
    """A 451 for one message keeps it queued (attempts counted) and does not stop the run."""
    configure(store, smtp.port)
    smtp.sink.defer = ("engineer@example.com",)
    set_email(store, "engineer", "engineer@example.com")
    set_email(store, "manager", "manager@example.com")
    set_email(store, "tech", "tech@example.com")
    # The deferred message is queued first: before the fix it stopped the whole run each time.
    outbox.notify(store, [notice("engineer", "g1", "一"), notice("manager", "g2", "二"),
                                 notice("tech", "g3", "三")], NOW)
    result = outbox.deliver(store, NOW)
    assert (result["sent"], result["deferred"], result["failed"], result["pending"], result["error"]) == (2, 1, 0, 1, "")
    assert sorted(m["To"] for m in smtp.sink.messages) == ["manager@example.com", "tech@example.com"]
    held = next(d for d in store.scan(inbox.TABLE) if d["key"] == "g1")
    assert held["email"]["state"] == "pending" and held["email"]["attempts"] == 1
    assert "451" in held["email"]["last_error"] and held["email"]["last_attempt_at"]

    # Refused again on the next run: still queued, one more attempt, nothing else sent twice;
    # mail queued after it goes out all the same.
    outbox.notify(store, [notice("manager", "g4", "四")], NOW)
    again = outbox.deliver(store, NOW)
    assert (again["sent"], again["deferred"], again["pending"]) == (1, 1, 1)
    assert store.get(inbox.TABLE, held["id"])["email"]["attempts"] == 2
    assert len(smtp.sink.messages) == 3

    # The server takes it at last: sent once, with its attempts counted.
    smtp.sink.defer = ()
    last = outbox.deliver(store, NOW)
    assert (last["sent"], last["deferred"], last["pending"]) == (1, 0, 0)
    doc = store.get(inbox.TABLE, held["id"])
    assert doc["email"]["state"] == "sent" and doc["email"]["attempts"] == 3 and doc["email"]["last_error"] == ""
    assert [m["To"] for m in smtp.sink.messages].count("engineer@example.com") == 1
    assert outbox.deliver(store, NOW)["sent"] == 0


def test_dry_run_and_missing_settings_send_nothing(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    outbox.notify(store, [notice("engineer", "d1")], NOW)
    assert outbox.deliver(store, NOW, dry_run=True) == {"pending": 1, "sent": 0, "failed": 0, "deferred": 0,
                                                                "error": ""}
    assert smtp.sink.messages == []
    off = outbox.deliver(store, NOW, settings=SmtpSettings())
    assert off["sent"] == 0 and off["pending"] == 1 and off["error"]


def test_mailer_reports_a_closed_port_as_a_transient_error():
    with pytest.raises(MailError) as info:
        with Mailer(SmtpSettings(host="127.0.0.1", port=free_port(), sender="a@b.c", timeout=2)):
            pass
    assert not info.value.permanent and "连接被拒绝" in str(info.value)


# --- The pages ----------------------------------------------------------------------------------


def header_count(html: str) -> int:
    m = re.search(r'id="inbox-unread">[^<]*<span[^>]*>(\d+)</span>', html)
    assert m, "no unread count in the header"
    return int(m.group(1))


def test_inbox_page_header_count_mark_read_and_open(client, auth, store):
    made = outbox.notify(store, [notice("engineer", "p1", "超期提醒", link="/followups/7"),
                                        notice("engineer", "p2", "另一条"), notice("manager", "p3", "别人的")], NOW)
    auth.login("engineer")
    page = client.get("/inbox/").get_data(as_text=True)
    assert header_count(page) == 2
    assert "超期提醒" in page and "另一条" in page and "别人的" not in page
    assert "正文第一行<br>第二行" in page

    resp = client.post(f"/inbox/{made[1]['id']}/read")
    assert resp.status_code == 302
    assert header_count(client.get("/").get_data(as_text=True)) == 1
    unread_page = client.get("/inbox/?unread=1").get_data(as_text=True)
    assert "超期提醒" in unread_page and "另一条" not in unread_page

    resp = client.post(f"/inbox/{made[0]['id']}/open")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/followups/7")
    assert inbox.unread_count(store, "engineer") == 0
    assert client.post(f"/inbox/{made[2]['id']}/read").status_code == 404  # not hers
    assert inbox.unread_count(store, "manager") == 1


def test_read_all(client, auth, store):
    outbox.notify(store, [notice("engineer", f"r{i}") for i in range(3)], NOW)
    auth.login("engineer")
    client.post("/inbox/read-all")
    assert inbox.unread_count(store, "engineer") == 0


def test_smtp_settings_page_is_for_the_admin_and_sends_a_test_mail(client, auth, store, smtp):
    auth.login("engineer")
    assert client.get("/inbox/settings").status_code == 403
    assert client.post("/inbox/settings", data={"host": "x"}).status_code == 403
    auth.logout()
    auth.login("admin")
    assert client.get("/inbox/settings").status_code == 200
    resp = client.post("/inbox/settings", data={"host": "127.0.0.1", "port": str(smtp.port), "sender": "as@example.com",
                                                "password": "pw-123456", "base_url": "https://as.example.com"},
                       follow_redirects=True)
    assert "邮件服务器设置已保存" in resp.get_data(as_text=True)
    s = smtp_settings.mail_settings(store)
    assert (s.host, s.port, s.sender, s.password) == ("127.0.0.1", smtp.port, "as@example.com", "pw-123456")
    resp = client.post("/inbox/settings/test", data={"to": "admin@example.com"}, follow_redirects=True)
    assert "测试邮件已发送" in resp.get_data(as_text=True)
    assert smtp.sink.messages[-1]["To"] == "admin@example.com"
    resp = client.post("/inbox/settings", data={"host": "127.0.0.1", "port": "99999", "sender": "as@example.com"})
    assert "1–65535" in resp.get_data(as_text=True)


def test_a_second_sender_leaves_the_queue_to_the_first(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    outbox.notify(store, [notice("engineer", "b1")], NOW)
    with FileLock(store.root / outbox.OUTBOX_LOCK).hold(blocking=False):
        busy = outbox.deliver(store, NOW)
    assert busy["busy"] and busy["sent"] == 0 and busy["pending"] == 1 and not busy["error"]
    assert smtp.sink.messages == []
    assert outbox.deliver(store, NOW)["sent"] == 1
