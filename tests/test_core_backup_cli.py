"""`aftersales backup` snapshots, and the command line as an admin or cron uses it."""
from __future__ import annotations

import json
import time

import pytest
from storage_checks import assert_consistent, run_cli, writer

from records.core.backup import make_backup
from records.core.store import Store
from records.users import accounts, sessions
from scripts import bench
from scripts.bench_storage import bench_storage
from scripts.cli import cli

PASSWORD = "Cli-password-2026"


def _snapshots(dest):
    return sorted(p for p in dest.iterdir() if p.is_dir() and not p.name.startswith("."))


def _tables(store):
    """The tables, without the backup run's own record of its result (written after the snapshot)."""
    return {t.name: store.find(t.name) for t in sorted(store.tables_dir.iterdir()) if t.name != "job_runs"}


@pytest.fixture
def filled(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    with store.transaction("seed") as tx:
        for i in range(300):
            tx.insert("items", {"value": i})
        tx.insert("customers", {"name": "甲公司", "contacts": []})
    store.update("items", 5, {"value": "changed"}, "alice")
    return root


# --- backup ------------------------------------------------------------------------------
def test_backup_keeps_the_newest_n(filled, tmp_path, runner):
    dest = tmp_path / "backups"
    made = []
    for i in range(3):
        Store(filled).update("items", 1, {"value": f"round {i}"}, "x")
        result = runner.invoke(["backup", "--data-dir", str(filled), "--dest", str(dest), "--keep", "2"])
        assert result.exit_code == 0, result.output
        assert "备份完成" in result.output
        made.append(_snapshots(dest)[-1])
    assert "删除旧备份 1 个" in result.output
    assert _snapshots(dest) == made[1:]
    # the newest snapshot is the data folder as it was, and its trail verifies
    snap = assert_consistent(made[-1])
    live = Store(filled)
    assert _tables(snap) == _tables(live)
    # then the run recorded its own result (job_runs): one entry after the snapshot's
    assert snap.audit.verify().entries == live.audit.verify().entries - 1
    assert snap.get("items", 1)["value"] == "round 2"
    assert Store(made[-2]).get("items", 1)["value"] == "round 1"
    meta = json.loads((made[-1] / "BACKUP.json").read_text())
    assert meta["audit_bytes"] == (made[-1] / "audit.jsonl").stat().st_size < (filled / "audit.jsonl").stat().st_size
    assert meta["head"]["seq"] == snap.audit.verify().entries


def test_snapshot_is_independent_of_later_writes(filled, tmp_path):
    snap, _ = make_backup(Store(filled), tmp_path / "b", keep=5)
    before = _tables(Store(snap))
    live = Store(filled)
    for rid in (1, 2, 299):
        live.update("items", rid, {"value": "after the backup"}, "x")
    live.insert("items", {"value": "new"}, "x")
    assert _tables(Store(snap)) == before  # an independent copy (test_core_backup_restore: even of damage in place)
    assert_consistent(snap)


def test_default_destination_is_beside_the_data_folder(filled, runner):
    result = runner.invoke(["backup", "--data-dir", str(filled)])
    assert result.exit_code == 0, result.output
    assert len(_snapshots(filled.parent / "data-backups")) == 1


@pytest.mark.slow
def test_backup_while_other_processes_write_is_consistent(filled, tmp_path, runner):
    dest = tmp_path / "backups"
    Store(filled).insert("shared", {"name": "fields"}, "seed")
    Store(filled).insert("shared", {"name": "counter", "counter": 0}, "seed")
    start_at = time.time() + 0.8
    procs = [writer("concurrent", filled, w, start_at, 2.5) for w in range(2)]
    time.sleep(max(0.0, start_at - time.time()) + 0.1)
    taken = 0
    while any(p.poll() is None for p in procs):
        result = runner.invoke(["backup", "--data-dir", str(filled), "--dest", str(dest), "--keep", "50"])
        assert result.exit_code == 0, result.output
        taken += 1
        time.sleep(0.1)
    for p in procs:
        p.communicate(timeout=30)
        assert p.returncode == 0
    assert taken >= 3
    sizes = []
    for snap in _snapshots(dest):
        store = assert_consistent(snap)  # parses, verifies, trail and records agree
        sizes.append(store.audit.verify().entries)
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]  # they did catch writes in progress


# --- the command line --------------------------------------------------------------------
def test_every_command_has_help(runner):
    top = runner.invoke(["--help"])
    assert top.exit_code == 0
    assert set(cli.commands) >= {"serve", "demo", "create-user", "verify", "backup", "migrate", "bench"}
    for name in cli.commands:
        result = runner.invoke([name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f"Usage: cli {name}" in result.output and name in top.output
    for name in ("serve", "demo", "create-user", "verify", "backup", "migrate"):
        assert "--data-dir" in runner.invoke([name, "--help"]).output
        assert "AFTERSALES_DATA" in runner.invoke([name, "--help"]).output


def test_installed_script_help():
    proc = run_cli("--help")
    assert proc.returncode == 0 and "verify" in proc.stdout and "backup" in proc.stdout


def test_create_user_with_password(tmp_path, runner):
    root = tmp_path / "data"
    result = runner.invoke(["create-user", "alice", "--role", "tq_engineer", "--role", "receiver",
                            "--password", PASSWORD, "--name", "爱丽丝", "--data-dir", str(root)])
    assert result.exit_code == 0, result.output
    store = Store(root)
    user, token = sessions.authenticate(store, "alice", PASSWORD)
    assert sorted(user["roles"]) == ["receiver", "tq_engineer"] and user["display_name"] == "爱丽丝" and token
    again = runner.invoke(["create-user", "alice", "--role", "receiver", "--password", PASSWORD,
                           "--data-dir", str(root)])
    assert again.exit_code == 1 and "alice" in again.output  # duplicate refused with a message


def test_create_user_prompts_for_the_password(tmp_path, runner):
    root = tmp_path / "data"
    result = runner.invoke(["create-user", "bob", "--role", "admin", "--data-dir", str(root)],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and PASSWORD not in result.output  # hidden input
    sessions.authenticate(Store(root), "bob", PASSWORD)


def test_create_user_refuses_bad_input(tmp_path, runner):
    root = tmp_path / "data"
    short = runner.invoke(["create-user", "carol", "--role", "admin", "--password", "short",
                           "--data-dir", str(root)])
    assert short.exit_code == 1 and "密码" in short.output
    role = runner.invoke(["create-user", "carol", "--role", "pope", "--password", PASSWORD,
                          "--data-dir", str(root)])
    assert role.exit_code != 0
    assert accounts.find_by_username(Store(root), "carol") is None


def test_data_dir_from_the_environment(tmp_path, runner):
    root = tmp_path / "from-env"
    env = {"AFTERSALES_DATA": str(root)}
    result = runner.invoke(["create-user", "dora", "--role", "sales", "--password", PASSWORD], env=env)
    assert result.exit_code == 0, result.output
    assert accounts.find_by_username(Store(root), "dora")["roles"] == ["sales"]
    verify = runner.invoke(["verify"], env=env)
    assert verify.exit_code == 0 and "1 条" in verify.output
    backup = runner.invoke(["backup", "--keep", "1"], env=env)
    assert backup.exit_code == 0 and len(_snapshots(tmp_path / "from-env-backups")) == 1
    proc = run_cli("verify", env=env)  # the installed command reads it too (and the backup's own record)
    assert proc.returncode == 0 and "2 条" in proc.stdout, proc.stderr


# --- the benchmark command ---------------------------------------------------------------
def test_bench_rejects_unknown_sections(runner):
    result = runner.invoke(["bench", "--only", "nonsense"])
    assert result.exit_code != 0


def test_bench_storage_figures_on_a_tiny_data_set(capsys):
    figures = bench_storage(scale=0.005)
    out = capsys.readouterr().out
    assert figures["ours"]["verify_ok"]
    assert figures["dataset"]["audit_entries"] == 1500 and figures["dataset"]["cases"] == 100
    assert [r["op"] for r in figures["table"]] == ["write", "read", "list"]
    for row in figures["table"]:
        for system in ("ours", "tinydb", "sqlite"):
            assert row[system]["p95_ms"] >= row[system]["p50_ms"] > 0
    assert "ours/TinyDB" in out and "ours/SQLite" in out
    assert set(bench.SECTIONS) >= {"storage", "worktime"}
