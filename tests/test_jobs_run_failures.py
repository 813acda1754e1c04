"""A failed scheduled run is shown on the admin page and mailed to the admins; the daily backup
mails its result with the chain head (records/jobs/run_log.py, backup_run.py; issue 11).

Real failures, no mocks: a garbled cases shard makes ``overdue`` fail, a backup destination
that is a file makes ``backup`` fail; mail goes to a real SMTP server on loopback (aiosmtpd).
"""
from __future__ import annotations

import json

from records.core.backup import head_path
from records.notifications import smtp_settings
from records.users import accounts
from tests.fixtures.mail import set_email


def configure(store, port: int) -> None:
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": port, "starttls": False,
                                             "sender": "aftersales@example.com", "password": ""}, "admin")


def _admin_mails(smtp, words):
    return [m for m in smtp.sink.messages if m["To"] == "admin@example.com" and words in str(m["Subject"])]


def test_a_failed_overdue_run_is_shown_and_mailed_once_per_streak(store, data_dir, smtp, runner, client, auth):
    configure(store, smtp.port)
    set_email(store, "admin", "admin@example.com")
    store.insert("cases", {"number": "FW-1", "state": "open"}, "test")
    shard = data_dir / "tables" / "cases" / "000000.json"
    good = shard.read_bytes()
    shard.write_bytes(b"{garbled")

    args = ["overdue", "--data-dir", str(data_dir), "--now", "2026-03-02T10:00"]
    first = runner.invoke(args)
    assert first.exit_code == 1
    mails = _admin_mails(smtp, "定时任务失败")
    assert len(mails) == 1 and "超期检查" in str(mails[0]["Subject"])
    assert "aftersales overdue 失败" in mails[0].get_content()
    assert runner.invoke(args).exit_code == 1
    assert len(_admin_mails(smtp, "定时任务失败")) == 1  # the same streak: recorded, not mailed again

    auth.login("admin")
    page = client.get("/admin/status").get_data(as_text=True)
    assert "超期检查" in page and "失败" in page and "aftersales overdue 失败" in page
    assert "/admin/status" in client.get("/admin/users").get_data(as_text=True)  # in the admin's menu

    shard.write_bytes(good)  # repaired: the next run succeeds and ends the streak
    assert runner.invoke(args).exit_code == 0
    page = client.get("/admin/status").get_data(as_text=True)
    assert "正常" in page and "aftersales overdue 失败" in page  # the past failures stay listed
    auth.logout()
    auth.login("engineer")
    assert client.get("/admin/status").status_code == 403
    shard.write_bytes(b"{garbled")
    assert runner.invoke(args[:-1] + ["2026-03-02T10:15"]).exit_code == 1
    assert len(_admin_mails(smtp, "定时任务失败")) == 2  # a new streak is mailed again


def test_the_backup_mails_its_result_and_head_and_a_failed_backup_is_reported(store, data_dir, smtp, runner,
                                                                             tmp_path, client, auth):
    configure(store, smtp.port)
    set_email(store, "admin", "admin@example.com")
    dest = tmp_path / "backups"
    result = runner.invoke(["backup", "--data-dir", str(data_dir), "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    mail = _admin_mails(smtp, "数据备份完成")
    assert len(mail) == 1
    snap = next(p for p in dest.iterdir() if p.is_dir())
    head = json.loads(head_path(snap).read_text())
    body = mail[0].get_content()
    assert head["hash"] in body and "校验通过" in body
    # The admin keeps the JSON line of the mail; verify --head checks the live trail against it.
    kept = tmp_path / "head.json"
    kept.write_text(next(line for line in body.splitlines() if line.startswith("{")))
    assert runner.invoke(["verify", "--data-dir", str(data_dir), "--head", str(kept)]).exit_code == 0
    # only admins with an address hear of a backup
    assert all(m["To"] == "admin@example.com" for m in smtp.sink.messages)
    assert accounts.find_by_username(store, "admin")["email"] == "admin@example.com"

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = runner.invoke(["backup", "--data-dir", str(data_dir), "--dest", str(blocked / "backups")])
    assert result.exit_code == 1 and "备份失败" in result.output
    assert len(_admin_mails(smtp, "定时任务失败")) == 1
    auth.login("admin")
    page = client.get("/admin/status").get_data(as_text=True)
    assert "数据备份" in page and "备份失败" in page
