"""Snapshots are independent copies; `aftersales restore`; the chain head kept outside the folder
(records/core/backup.py, restore.py, replay.py; scripts/data_commands.py; issue 11)."""
from __future__ import annotations

import json
import time

import orjson
import pytest
from storage_checks import writer

from app import create_app
from records.core.audit import canonical, entry_hash
from records.core.backup import head_path, make_backup, read_head
from records.core.replay import check_folder
from records.core.restore import RestoreError, restore
from records.core.store import Store
from tests.fixtures.users import PASSWORD


def _damage(path, at=40, n=64):
    """Overwrite ``n`` bytes in place (same inode), as a failing disk or a stray write would."""
    with open(path, "r+b") as fh:
        fh.seek(at)
        fh.write(b"#" * n)


@pytest.fixture
def live(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    with store.transaction("seed") as tx:
        for i in range(300):
            tx.insert("cases", {"number": f"FW-{i:04d}", "description": "设备异响" * 10, "state": "open"})
    store.update("cases", 5, {"state": "closed"}, "alice")
    return root


def test_a_shard_damaged_in_place_leaves_the_snapshot_as_it_was(live, tmp_path):
    snap, _ = make_backup(Store(live), tmp_path / "b", keep=3)
    shard = snap / "tables" / "cases" / "000000.json"
    before = shard.read_bytes()
    _damage(live / "tables" / "cases" / "000000.json")
    assert shard.read_bytes() == before
    assert (snap / "tables/cases/000000.json").stat().st_ino != (live / "tables/cases/000000.json").stat().st_ino
    assert check_folder(snap, read_head(head_path(snap))).ok
    assert not check_folder(live).ok  # and verify sees the damage in the live folder


def test_the_chain_head_is_written_beside_the_snapshot(live, tmp_path, runner):
    result = runner.invoke(["backup", "--data-dir", str(live), "--dest", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    snap = next(p for p in (tmp_path / "b").iterdir() if p.is_dir())
    head = read_head(head_path(snap))
    last = orjson.loads((snap / "audit.jsonl").read_bytes().splitlines()[-1])
    assert (head["seq"], head["hash"]) == (last["seq"], last["hash"]) and head["taken"]
    assert head["hash"] in result.output
    ok = runner.invoke(["verify", "--data-dir", str(live), "--head", str(head_path(snap))])
    assert ok.exit_code == 0 and f"第 {head['seq']} 条" in ok.output


def _rewrite_chain(root, edit):
    """Rewrite the whole trail with every hash recomputed, and the record to match: what someone
    who can write the folder can do. The chain and the records check still pass."""
    lines, prev = [], "0" * 64
    for raw in (root / "audit.jsonl").read_bytes().splitlines():
        entry = orjson.loads(raw)
        edit(entry)
        entry["prev"] = prev
        entry["hash"] = prev = entry_hash(entry)
        lines.append(canonical(entry) + b"\n")
    (root / "audit.jsonl").write_bytes(b"".join(lines))


def test_verify_head_finds_a_rewritten_or_shortened_chain(live, tmp_path, runner):
    snap, _ = make_backup(Store(live), tmp_path / "b", keep=3)
    head_file = tmp_path / "kept-from-the-mail.json"
    head_file.write_text(json.dumps(read_head(head_path(snap))))

    def edit(entry):
        if entry["id"] == 5 and entry["action"] == "update":
            entry["changes"]["state"][1] = "open"
    _rewrite_chain(live, edit)
    shard = live / "tables" / "cases" / "000000.json"
    data = orjson.loads(shard.read_bytes())
    data["cases"]["5"]["state"] = "open"
    shard.write_bytes(orjson.dumps(data))
    assert check_folder(live).ok  # consistent in itself
    result = runner.invoke(["verify", "--data-dir", str(live), "--head", str(head_file)])
    assert result.exit_code == 1 and "链头" in result.output and "改写" in result.output

    lines = (snap / "audit.jsonl").read_bytes().splitlines(keepends=True)
    (live / "audit.jsonl").write_bytes(b"".join(lines[:-1]))  # shortened instead
    result = runner.invoke(["verify", "--data-dir", str(live), "--head", str(head_file)])
    assert result.exit_code == 1 and "少于链头" in result.output
    bad = tmp_path / "not-a-head.json"
    bad.write_text("{}")
    result = runner.invoke(["verify", "--data-dir", str(live), "--head", str(bad)])
    assert result.exit_code == 1 and "链头文件" in result.output


def test_restore_refuses_a_non_empty_folder_and_a_snapshot_that_does_not_verify(live, tmp_path, runner):
    snap, _ = make_backup(Store(live), tmp_path / "b", keep=3)
    result = runner.invoke(["restore", str(snap), "--data-dir", str(live)])
    assert result.exit_code != 0 and "不是空的" in result.output and "--force --yes" in result.output
    with pytest.raises(RestoreError):
        restore(snap, live)
    assert Store(live).get("cases", 5)["state"] == "closed"  # untouched

    # --force --yes: replaced; the old content is moved aside, not deleted
    Store(live).update("cases", 5, {"state": "reopened"}, "bob")
    result = runner.invoke(["restore", str(snap), "--data-dir", str(live), "--force", "--yes"])
    assert result.exit_code == 0, result.output
    assert Store(live).get("cases", 5)["state"] == "closed"
    aside = next(tmp_path.glob("data.before-restore-*"))
    assert Store(aside).get("cases", 5)["state"] == "reopened" and str(aside) in result.output

    _damage(snap / "tables" / "cases" / "000000.json")
    result = runner.invoke(["restore", str(snap), "--data-dir", str(tmp_path / "new")])
    assert result.exit_code != 0 and "未通过校验" in result.output and "000000.json" in result.output
    assert not (tmp_path / "new").exists()


@pytest.mark.slow
def test_restore_drill_back_up_under_writes_damage_restore_verify_serve(data_dir, tmp_path, runner):
    """The drill of the README: back up while another process writes, damage the live data in
    place, restore into a new folder, verify it, and serve a page from it."""
    Store(data_dir).insert("shared", {"name": "fields"}, "seed")
    Store(data_dir).insert("shared", {"name": "counter", "counter": 0}, "seed")
    dest = tmp_path / "backups"
    start_at = time.time() + 0.6
    proc = writer("concurrent", data_dir, 1, start_at, 1.5)
    time.sleep(max(0.0, start_at - time.time()) + 0.3)
    result = runner.invoke(["backup", "--data-dir", str(data_dir), "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0 and json.loads(out)["ops"] > 0
    snap = next(p for p in dest.iterdir() if p.is_dir())
    assert Store(snap).count("items") > 0  # caught the writer at work

    _damage(data_dir / "tables" / "users" / "000000.json")
    _damage(data_dir / "audit.jsonl", at=200)
    assert runner.invoke(["verify", "--data-dir", str(data_dir)]).exit_code == 1

    restored = tmp_path / "restored"
    result = runner.invoke(["restore", str(snap), "--data-dir", str(restored)])
    assert result.exit_code == 0, result.output
    assert "校验通过" in result.output
    result = runner.invoke(["verify", "--data-dir", str(restored)])
    assert result.exit_code == 0, result.output

    app = create_app({"DATA_DIR": restored, "TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/admin/users").status_code == 200
