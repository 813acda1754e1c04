"""Hostile header values and retries in the e-mail outbox (records/core/mailer.py,
records/notifications/outbox.py; issue 11), against a real SMTP server on loopback (aiosmtpd).

A line break in a customer's name reached a subject, ``EmailMessage`` refused it, and every
overdue/followups run exited 1 with nothing sent, even after the name was fixed (the queued
notice kept it).
"""
from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from zoneinfo import ZoneInfo

import pytest

from records.cases.notices import PRIVATE_KINDS
from records.core.mailer import header_value
from records.notifications import inbox, outbox, smtp_settings
from records.notifications.inbox import Notice
from records.policy import MAIL_MAX_ATTEMPTS
from tests.fixtures.mail import Sink, SmtpServer, free_port, set_email

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def configure(store, port: int) -> None:
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": port, "starttls": False,
                                             "sender": "aftersales@example.com", "password": ""}, "admin")


def notice(recipient: str, key: str, subject: str, body: str = "正文") -> Notice:
    return Notice(recipient, "test", subject, body, key=key, link="/cases/1")


@pytest.mark.parametrize("raw, clean", [
    ("甲公司\n有限公司 超期", "甲公司 有限公司 超期"),
    ("甲公司\r\nBcc: evil@example.com", "甲公司 Bcc: evil@example.com"),
    ("a\tb\x00c\x1bd\u2028e\x7f", "a b c d e"),
    ("  普通主题  ", "普通主题"),
    (None, ""),
])
def test_header_values_are_one_line(raw, clean):
    assert header_value(raw) == clean


def test_a_line_break_in_a_subject_neither_injects_nor_blocks_the_queue(store, smtp):
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    set_email(store, "manager", "manager@example.com")
    outbox.notify(store, [notice("engineer", "bad", "超期：甲公司\r\nBcc: evil@example.com", "第一行\r\n第二行\x00"),
                          notice("manager", "good", "超期：乙公司")], NOW)
    result = outbox.deliver(store, NOW)
    assert (result["sent"], result["failed"], result["pending"], result["error"]) == (2, 0, 0, "")
    by_to = {m["To"]: m for m in smtp.sink.messages}
    assert set(by_to) == {"engineer@example.com", "manager@example.com"}  # no Bcc smuggled in
    bad = by_to["engineer@example.com"]
    assert str(bad["Subject"]) == "超期：甲公司 Bcc: evil@example.com" and bad["Bcc"] is None
    content = bad.get_content().replace("\r\n", "\n")
    assert "第一行\n第二行\n" in content and "\x00" not in content


def test_the_overdue_run_sends_the_queue_despite_a_bad_subject(store, smtp, data_dir, runner):
    """The cron command: before the fix it exited 1 on every run and sent nothing."""
    configure(store, smtp.port)
    set_email(store, "engineer", "engineer@example.com")
    outbox.notify(store, [notice("engineer", "bad", "甲公司\n有限公司"), notice("engineer", "next", "下一封")], NOW)
    result = runner.invoke(["overdue", "--data-dir", str(data_dir), "--now", "2026-03-02T10:00"])
    assert result.exit_code == 0, result.output
    assert sorted(smtp.sink.subjects()) == ["下一封", "甲公司 有限公司"]


def test_a_message_is_tried_at_most_the_company_limit_then_shown_to_the_admin(store, smtp, client, auth):
    configure(store, smtp.port)
    smtp.sink.defer = ("engineer@example.com",)  # 451 every time
    set_email(store, "engineer", "engineer@example.com")
    set_email(store, "manager", "manager@example.com")
    private = Notice("engineer", PRIVATE_KINDS[0], "【处罚建议】张三 50 元（6.1.4）", "正文", key="fine", link="/cases/1")
    outbox.notify(store, [private], NOW)  # a fine's notice: only its recipient reads its subject (GLOSSARY 处罚)
    outbox.notify(store, [notice("engineer", "held", "总被推迟的邮件")], NOW)
    for run in range(1, MAIL_MAX_ATTEMPTS + 1):
        outbox.notify(store, [notice("manager", f"m{run}", f"第 {run} 封")], NOW)
        result = outbox.deliver(store, NOW)
        assert result["sent"] == 1  # the others never wait for it
        doc = next(d for d in store.scan(inbox.TABLE) if d["key"] == "held")
        assert doc["email"]["attempts"] == run
        assert doc["email"]["state"] == ("failed" if run == MAIL_MAX_ATTEMPTS else "pending"), run
    assert f"已尝试 {MAIL_MAX_ATTEMPTS} 次" in doc["email"]["last_error"]
    assert outbox.deliver(store, NOW)["pending"] == 0  # not tried again
    assert outbox.failed_messages(store)[0]["subject"] == "总被推迟的邮件"

    auth.login("admin")
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert "总被推迟的邮件" in page and "451" in page and f"已尝试 {MAIL_MAX_ATTEMPTS} 次" in page
    assert "处罚通知（不公开）" in page and "张三" not in page and "50 元" not in page
    status = client.get("/admin/status").get_data(as_text=True)
    assert "2 封邮件发送失败" in status

    # The admin queues them again: they get a fresh count of tries.
    assert outbox.requeue_failed(store, "admin") == 2
    smtp.sink.defer = ()
    assert outbox.deliver(store, NOW)["sent"] == 2
    doc = store.get(inbox.TABLE, doc["id"])
    assert doc["email"]["state"] == "sent" and doc["email"]["attempts"] == 1


class BreakingSink(Sink):
    """Answers 421 (closing the session) to the DATA of any message whose subject has "断开"."""

    async def handle_DATA(self, server, session, envelope):
        if "断开" in str(message_from_bytes(envelope.content, policy=email_policy.default)["Subject"]):
            return "421 4.3.0 closing connection"
        return await super().handle_DATA(server, session, envelope)


def test_a_message_that_breaks_the_session_does_not_hold_up_the_others(store):
    server = SmtpServer(free_port(), BreakingSink())
    server.start()
    try:
        configure(store, server.port)
        set_email(store, "engineer", "engineer@example.com")
        set_email(store, "manager", "manager@example.com")
        outbox.notify(store, [notice("engineer", "b1", "服务器会断开"), notice("manager", "b2", "后面的邮件")], NOW)
        result = outbox.deliver(store, NOW)
        assert server.sink.subjects() == ["后面的邮件"] and result["sent"] == 1
        held = next(d for d in store.scan(inbox.TABLE) if d["key"] == "b1")
        assert held["email"]["state"] == "pending" and held["email"]["attempts"] == 1 and "421" in held["email"]["last_error"]
    finally:
        server.stop()
