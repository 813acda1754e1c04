"""The scheduled commands ``aftersales overdue`` and ``aftersales followups`` (issue 6).

Driven through click's CliRunner (the ``runner`` fixture) and as real subprocesses
(``.venv/bin/aftersales``) with ``--now`` at chosen times in March 2026 (no holidays; Monday 2
March):

* case 1, a consultation taken and recorded by a receiver Mon 09:00 (recording is the hand-over,
  6.1.3, met at once), its answer assigned to that receiver: reply due Tue 09:30 (6.2.1, 8
  working hours);
* case 2, a service request taken by 技质部 Mon 14:00: decision due Tue 14:30 (6.2.2);
* case 3 (built by the ``confirm_case`` fixture), reported Wed 4 March: confirmation due Wed 11
  March 17:30 (6.2.8, 5 working days); its one 6.2.8 proposal counts 50 元 per working day
  begun late (issue 13), never twice.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from records.calendar.corrections import current_calendar
from records.cases import vocab, workflow
from records.catalog import customers, products
from records.core.files import FileLock
from records.followups import tasks as followup_tasks
from records.jobs.overdue import FLAGS
from records.notifications import inbox, smtp_settings
from tests.fixtures.cases import CLASSIFIED
from tests.fixtures.mail import Sink, SmtpServer, free_port, set_email
from tests.fixtures.service_forms import report_form
from tests.fixtures.users import user

TZ = ZoneInfo("Asia/Shanghai")
AFTERSALES = Path(sys.executable).parent / "aftersales"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)



@pytest.fixture
def cron_world(store):
    """Cases 1 and 2 of the module docstring, their customer and the calendar in force."""
    cust = customers.create_customer(store, {"name": "甲单位", "distance_km": 100,
                                             "contacts": [{"name": "刘参谋", "phone": "0312-1"}]}, "test")
    products.create_product(store, {"model": "JX", "name": "电源箱", "serial_no": "P-1", "customer_id": cust["id"],
                                    "delivery_date": "2025-06-01", "warranty_months": 24}, "test")
    cal = current_calendar(store)
    c1 = workflow.intake(store, cal, {"type": "consultation", "customer_id": cust["id"], "caller_name": "刘参谋",
                                   "caller_phone": "0312-1", "description": "如何保养？",
                                   "received_at": at(2026, 3, 2, 9, 0)}, user(store, "receiver"), now=at(2026, 3, 2, 9, 0))
    assert c1["deadlines"]["handover"]["done_at"] == "2026-03-02T09:00:00+08:00"
    c1 = workflow.perform(store, cal, c1["id"], "assign_reply", user(store, "engineer"), {"assignee": "receiver"},
                          now=at(2026, 3, 2, 9, 10))
    c2 = workflow.intake(store, cal, {"type": "service_request", "customer_id": cust["id"], "product_serial": "P-1",
                                   "caller_name": "刘参谋", "caller_phone": "0312-1", "description": "无法开机",
                                   "received_at": at(2026, 3, 2, 14, 0)}, user(store, "engineer"), now=at(2026, 3, 2, 14, 0))
    assert c1["deadlines"]["consult_reply"]["due"] == "2026-03-03T09:30:00+08:00"
    assert c2["deadlines"]["decision"]["due"] == "2026-03-03T14:30:00+08:00"
    return {"customer": cust, "c1": c1, "c2": c2, "cal": cal}


@pytest.fixture
def confirm_case(store, cron_world, archive_signed_form):
    """``confirm_case()``: a service request taken to the report (Wed 4 March 10:00): confirmation
    due Wed 11 March."""
    def make() -> dict:
        cal, eng, tech = cron_world["cal"], user(store, "engineer"), user(store, "tech")
        c = workflow.intake(store, cal, {"type": "service_request", "customer_id": cron_world["customer"]["id"],
                                      "product_serial": "P-1", "caller_name": "刘参谋", "caller_phone": "0312-1",
                                      "description": "显示异常", "received_at": at(2026, 3, 2, 9, 0)}, eng, now=at(2026, 3, 2, 9, 0))
        steps = [
            ("decide", eng, {"solution": "onsite_free", "analysis": "需现场检修"}, at(2026, 3, 2, 10, 0)),
            ("dispatch", eng, {"technicians": ["tech"], "plan": "现场更换", "precautions": "注意安全",
                               "departed_at": at(2026, 3, 2, 10, 30)}, at(2026, 3, 2, 10, 30)),
            ("arrive", tech, {"arrived_at": at(2026, 3, 2, 14, 0)}, at(2026, 3, 2, 14, 0)),
            ("complete", tech, {"work_done": "更换电源模块", "completed_at": at(2026, 3, 3, 10, 0)}, at(2026, 3, 3, 10, 0)),
            ("approve_return", eng, {}, at(2026, 3, 3, 11, 0)),
            ("record_return", tech, {"returned_at": at(2026, 3, 3, 16, 0)}, at(2026, 3, 3, 16, 0)),
            ("report", tech, {"text": "已修复", **report_form("2026-03-02T14:00", "2026-03-03T10:00"),
                              "expenses": [], "returned_materials": []}, at(2026, 3, 4, 10, 0)),
        ]
        for action, who, data, when in steps:
            if action == "report":  # 6.2.7: the signed 技术服务单 is archived first
                archive_signed_form(store, c)
            c = workflow.perform(store, cal, c["id"], action, who, data, now=when)
        assert c["state"] == "awaiting_confirmation"
        assert c["deadlines"]["confirm"]["due"] == "2026-03-11T17:30:00+08:00"
        return c
    return make


@pytest.fixture
def run(runner):
    """``run(data_dir, command, now, *extra)``: ``aftersales <command> --now <now> --json`` through
    the ``runner``; its JSON summary (the command must succeed)."""
    def invoke(data_dir, command: str, now: str, *extra: str):
        result = runner.invoke([command, "--data-dir", str(data_dir), "--now", now, "--json", *extra])
        assert result.exit_code == 0, (result.output, result.stderr if hasattr(result, "stderr") else "")
        return json.loads(result.stdout)
    return invoke


def subprocess_run(data_dir, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    return subprocess.run([str(AFTERSALES), *args, "--data-dir", str(data_dir)], capture_output=True, text=True,
                          env=env, timeout=60)


def fingerprint(data_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(data_dir.rglob("*")):
        if p.is_file() and not p.name.endswith(".lock"):
            h.update(str(p.relative_to(data_dir)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def inbox_keys(store) -> set[str]:
    return {n["key"] for n in store.scan(inbox.TABLE)}


# --- overdue -------------------------------------------------------------------------------------


def test_overdue_flags_and_notifies_once(store, cron_world, data_dir, run):
    c1 = cron_world["c1"]
    s = run(data_dir, "overdue", "2026-03-03T10:00")
    assert s["overdue"] == 1
    assert [(f["case_id"], f["deadline"], f["clause"], f["responsible"]) for f in s["flagged"]] == [
        (c1["id"], "consult_reply", "6.2.1", "receiver")]
    assert s["fines"] == [] and s["fines_proposed"] == 0  # 6.2.1 carries no fine in the regulation
    # the responsible person and the 技质部 manager are told, with a link to the case
    notes = {n["recipient"]: n for n in store.scan(inbox.TABLE) if n["kind"] == "overdue"}
    assert set(notes) == {"receiver", "manager"}
    assert notes["receiver"]["link"] == f"/cases/{c1['id']}" and "6.2.1" in notes["receiver"]["subject"]
    # clause, basis, start and due, as on every page that shows a deadline
    assert "6.2.1：收到咨询后 8 个工作小时内答复" in notes["receiver"]["body"]
    assert all("处罚" not in n["body"] for n in notes.values())  # a proposal is told by its own notice
    assert "期限：2026-03-03 09:30（起算 2026-03-02 09:00）" in notes["receiver"]["body"]
    assert s["notifications"] == 2

    before = fingerprint(data_dir)
    again = run(data_dir, "overdue", "2026-03-03T10:00")
    assert (again["flagged"], again["fines"], again["warnings"], again["notifications"]) == ([], [], [], 0)
    assert fingerprint(data_dir) == before  # the second run changes nothing at all

    # a call recorded late (6.1.3): the intake itself proposes 6.1.4; the scheduled run never again
    late = workflow.intake(store, cron_world["cal"], {
        "type": "consultation", "customer_id": cron_world["customer"]["id"], "caller_name": "王工",
        "caller_phone": "0312-2", "description": "说明书", "received_at": at(2026, 3, 2, 9, 0)},
        user(store, "receiver"), now=at(2026, 3, 3, 10, 30))
    assert [(f["key"], f["clause"], f["person"]) for f in late["fines"]] == [("handover", "6.1.4", "receiver")]

    # next day: the decision (6.2.2) and the late call's reply (6.2.1) are overdue; each flagged once
    later = run(data_dir, "overdue", "2026-03-04T10:00")
    assert {(f["case_id"], f["deadline"]) for f in later["flagged"]} == {
        (cron_world["c2"]["id"], "decision"), (late["id"], "consult_reply")}
    assert later["fines"] == []  # 6.2.1 and 6.2.2 carry no fine in the regulation
    assert store.count(FLAGS) == 3
    assert len(store.get(vocab.TABLE, late["id"])["fines"]) == 1


def test_warning_within_two_working_hours_once(store, cron_world, data_dir, run):
    s = run(data_dir, "overdue", "2026-03-03T08:45")  # 09:30 is 45 working minutes away
    assert [(w["case_id"], w["deadline"], w["responsible"]) for w in s["warnings"]] == [
        (cron_world["c1"]["id"], "consult_reply", "receiver")]
    assert s["flagged"] == [] and s["notifications"] == 1
    [warning] = [n for n in store.scan(inbox.TABLE) if n["kind"] == "warning"]
    assert "将于 2026-03-03 09:30 到期" in warning["body"] and "起算 2026-03-02 09:00" in warning["body"]
    assert run(data_dir, "overdue", "2026-03-03T09:00")["warnings"] == []
    # Tue 13:00 (lunch): the decision is due at 14:30, one working hour away → its 技质部 owner
    tue = run(data_dir, "overdue", "2026-03-03T13:00")
    assert {(w["deadline"], w["responsible"]) for w in tue["warnings"]} == {("decision", "engineer")}
    keys = inbox_keys(store)
    assert any(k.startswith(f"warn:{cron_world['c1']['id']}:consult_reply:") and k.endswith(":receiver") for k in keys)
    assert any(k.startswith(f"warn:{cron_world['c2']['id']}:decision:") and k.endswith(":engineer") for k in keys)


def test_confirmation_late_one_proposal_counting_the_working_days(store, cron_world, data_dir, run, confirm_case):
    # issue 13: one 6.2.8 proposal per case; a working day counts once it has begun after the due time
    c = confirm_case()
    due_evening = run(data_dir, "overdue", "2026-03-11T18:00")  # after 17:30 on the due day: flagged only
    assert "confirm" in {f["deadline"] for f in due_evening["flagged"] if f["case_id"] == c["id"]}
    assert [f for f in due_evening["fines"] if f["case_id"] == c["id"]] == []
    s = run(data_dir, "overdue", "2026-03-13T09:00")  # Thu 12 = day 1, Fri 13 (begun) = day 2
    mine = [f for f in s["fines"] if f["case_id"] == c["id"]]
    assert [(f["key"], f["clause"], f["amount"], f["person"], f["days"]) for f in mine] == [
        ("confirm_late", "6.2.8", 100, "engineer", 2)]
    [stored] = store.get(vocab.TABLE, c["id"])["fines"]
    assert (stored["late_days"], stored["running"]) == (["2026-03-12", "2026-03-13"], True)
    assert sorted(k for k in inbox_keys(store) if k.startswith(f"fine:{c['id']}:")) == [
        f"fine:{c['id']}:confirm_late:{r}" for r in ("engineer", "manager")]  # told once

    assert run(data_dir, "overdue", "2026-03-13T16:00")["fines"] == []  # same day: nothing more
    mon = run(data_dir, "overdue", "2026-03-16T09:00")  # the weekend does not count
    assert [(f["key"], f["amount"], f["days"]) for f in mon["fines"] if f["case_id"] == c["id"]] == [
        ("confirm_late", 150, 3)]
    assert sorted(k for k in inbox_keys(store) if k.startswith(f"fine:{c['id']}:")) == [
        f"fine:{c['id']}:confirm_late:{r}" for r in ("engineer", "manager")]  # the count grows untold

    # confirmed late in the app on Tuesday: the count stops at 4 days, the proposal is told with it
    workflow.perform(store, cron_world["cal"], c["id"], "confirm", user(store, "engineer"),
                  {"quality": "服务良好", "lines": [], **CLASSIFIED}, now=at(2026, 3, 17, 9, 0))
    [f] = store.get(vocab.TABLE, c["id"])["fines"]
    assert (f["key"], f["days"], f["amount"], f["running"]) == ("confirm_late", 4, 200, False)
    assert {f"fine:{c['id']}:confirm_late:final:{r}" for r in ("engineer", "manager")} <= set(inbox_keys(store))
    assert [f for f in run(data_dir, "overdue", "2026-03-18T09:00")["fines"] if f["case_id"] == c["id"]] == []


def test_dry_run_changes_nothing(store, cron_world, data_dir, runner):
    before = fingerprint(data_dir)
    result = runner.invoke(["overdue", "--data-dir", str(data_dir), "--now", "2026-03-03T10:00", "--dry-run"])
    assert result.exit_code == 0 and "演练" in result.stdout and "超期期限 1 个" in result.stdout
    result = runner.invoke(["followups", "--data-dir", str(data_dir), "--now", "2026-03-02T08:00",
                            "--dry-run", "--json"])
    s = json.loads(result.stdout)
    assert s["dry_run"] and len(s["created"]) == 1 and s["reminders"]["assigned"] == 1
    assert fingerprint(data_dir) == before


def test_followups_command_creates_tasks_once(store, cron_world, data_dir, run):
    s = run(data_dir, "followups", "2026-03-02T08:00")
    assert [(t["kind"], t["clause"], t["period"], t["due"], t["assignee"]) for t in s["created"]] == [
        ("follow_up", "8.1", "2026Q1", "2026-03-31", "engineer")]
    assert s["reminders"]["assigned"] == 1
    reminders = [n for n in store.scan(inbox.TABLE) if n["link"].startswith("/followups/")]
    assert [n["recipient"] for n in reminders] == ["engineer"]
    note = reminders[0]
    assert note["link"] == f"/followups/{s['created'][0]['id']}"
    again = run(data_dir, "followups", "2026-03-02T08:00")
    assert again["created"] == [] and again["notifications"] == 0
    assert store.count(followup_tasks.TABLE) == 1
    late = run(data_dir, "followups", "2026-04-01T08:00")
    assert late["reminders"]["overdue"] == 1 and len(late["created"]) == 1


# --- Failures and the overlap lock ---------------------------------------------------------------


def test_missing_data_folder_and_bad_now_fail_with_a_reason(tmp_path, runner):
    result = runner.invoke(["overdue", "--data-dir", str(tmp_path / "nope"), "--now", "2026-03-03T10:00"])
    assert result.exit_code == 1 and "数据文件夹不存在" in result.stderr
    result = runner.invoke(["overdue", "--data-dir", str(tmp_path), "--now", "yesterday"])
    assert result.exit_code == 2 and "--now" in result.stderr


def test_a_damaged_store_fails_non_zero_with_the_reason(store, cron_world, data_dir, runner):
    shard = next((data_dir / "tables" / "cases").glob("*.json"))
    shard.write_text("{not json")
    result = runner.invoke(["overdue", "--data-dir", str(data_dir), "--now", "2026-03-03T10:00"])
    assert result.exit_code == 1 and "aftersales overdue 失败" in result.stderr


def test_overlapping_run_is_refused_with_exit_75(store, cron_world, data_dir, run):
    with FileLock(data_dir / "cron-overdue.lock").hold(blocking=False):
        proc = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00")
        assert proc.returncode == 75, proc.stderr
        assert "上一次运行尚未结束" in proc.stderr and proc.stdout == ""
        # the other command has its own lock and is not held up
        assert run(data_dir, "followups", "2026-03-02T08:00")["created"]
    assert store.count(FLAGS) == 0
    assert run(data_dir, "overdue", "2026-03-03T10:00")["flagged"]  # free again afterwards


def test_subprocess_runs_json_and_second_run_adds_nothing(store, cron_world, data_dir):
    first = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00", "--json")
    assert first.returncode == 0, first.stderr
    s = json.loads(first.stdout)
    assert len(s["flagged"]) == 1 and s["fines_proposed"] == 0 and s["notifications"] == 2
    second = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00", "--json")
    assert second.returncode == 0, second.stderr
    s2 = json.loads(second.stdout)
    assert (s2["flagged"], s2["fines_proposed"], s2["notifications"]) == ([], 0, 0)
    text = subprocess_run(data_dir, "followups", "--now", "2026-03-02T08:00")
    assert text.returncode == 0 and "新建任务 1 个" in text.stdout


# --- E-mail through the commands ----------------------------------------------------------------


def test_mail_queued_while_the_server_is_down_goes_out_once_when_it_is_back(store, cron_world, data_dir, run):
    port = free_port()
    smtp_settings.save_smtp_settings(store, {"host": "127.0.0.1", "port": port, "sender": "as@example.com"}, "admin")
    set_email(store, "receiver", "receiver@example.com")
    set_email(store, "manager", "manager@example.com")

    down = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00", "--json")
    assert down.returncode == 0, down.stderr  # the work is done; only the mail waits
    s = json.loads(down.stdout)
    assert s["notifications"] == 2 and s["mail"]["sent"] == 0 and s["mail"]["pending"] == 2  # the overdue notices
    assert "将在下次运行时重试" in down.stderr

    server = SmtpServer(port, Sink())
    server.start()
    try:
        up = run(data_dir, "followups", "2026-03-03T10:05")  # any later run sends the queue
        assert up["mail"]["sent"] == 2 + 0  # the engineer (follow-up) has no address
        assert sorted(m["To"] for m in server.sink.messages) == ["manager@example.com", "receiver@example.com"]
        assert run(data_dir, "overdue", "2026-03-03T10:10")["mail"]["sent"] == 0
        assert len(server.sink.messages) == 2
        assert all("【超期】" in str(m["Subject"]) for m in server.sink.messages)
    finally:
        server.stop()
    states = [n["email"]["state"] for n in store.scan(inbox.TABLE)]
    assert states.count("sent") == 2 and "pending" not in states


def test_a_damaged_or_missing_digest_cache_is_only_a_slower_run(store, cron_world, data_dir, run):
    run(data_dir, "overdue", "2026-03-03T10:00")
    cache = data_dir / "cache"
    assert (cache / "digest-cases.json").exists()
    (cache / "digest-cases.json").write_text("{damaged")
    (cache / "digest-notifications.json").unlink()
    # Each run opens its own Store, whose derived values (the digests) start empty: as a new
    # process, it reads the cache files, one damaged and one missing.
    again = run(data_dir, "overdue", "2026-03-03T10:00")
    assert (again["flagged"], again["fines_proposed"], again["notifications"], again["overdue"]) == ([], 0, 0, 1)


def _flock_holders(path: Path) -> set[int]:
    """PIDs holding a flock on ``path`` (read from /proc/locks: no probe that could take it)."""
    try:
        ino = os.stat(path).st_ino
    except FileNotFoundError:
        return set()
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields:  # a waiter, not a holder
            continue
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(ino):
            holders.add(int(fields[4]))
    return holders


def test_a_run_killed_while_holding_the_overlap_lock_does_not_block_the_next(store, cron_world, data_dir):
    """A real ``aftersales overdue`` is SIGKILLed while it holds cron-overdue.lock: the kernel
    drops the lock, and the next run proceeds normally (exit 0) and does the work."""
    import signal
    import time

    lock_path = data_dir / "cron-overdue.lock"  # scripts/cron_commands.py: <data>/cron-<name>.lock
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    # Hold the store's data lock so that the run, once it has its overlap lock, waits inside
    # (opening the store takes the data lock): a slow run, stopped mid-way.
    with FileLock(data_dir / ".lock").hold():
        proc = subprocess.Popen([str(AFTERSALES), "overdue", "--data-dir", str(data_dir), "--now", "2026-03-03T10:00",
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + 30
            while proc.pid not in _flock_holders(lock_path):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the run never took its overlap lock"
                time.sleep(0.05)
            # While it lives, an overlapping run is refused at once.
            busy = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00")
            assert busy.returncode == 75 and "上一次运行尚未结束" in busy.stderr
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=10) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
    assert _flock_holders(lock_path) == set()  # released by the kernel, with no clean-up run
    assert lock_path.exists() and store.count(FLAGS) == 0  # the killed run did nothing

    after = subprocess_run(data_dir, "overdue", "--now", "2026-03-03T10:00", "--json")
    assert after.returncode == 0, after.stderr
    s = json.loads(after.stdout)
    assert [(f["case_id"], f["deadline"]) for f in s["flagged"]] == [(cron_world["c1"]["id"], "consult_reply")]
    assert s["fines_proposed"] == 0 and s["notifications"] == 2
    assert store.count(FLAGS) == 1
