"""The record store on real files: concurrent processes, stale reads, optimistic concurrency,
failed fsyncs and renames, file modes, temp-file sweeping and schema migration."""
from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import time

import orjson
import pytest
from storage_checks import assert_consistent, assert_files_parse, leftovers, writer

from records.core import schema
from records.core.errors import StaleRecord
from records.core.files import TEMP_PREFIX, StorageError
from records.core.store import Store


def _seed_items(store: Store, n: int) -> dict[int, str]:
    with store.transaction("seed") as tx:
        return {tx.insert("items", {"value": f"seed-{i}"})["id"]: f"seed-{i}" for i in range(n)}


# --- several processes at once -----------------------------------------------------------
@pytest.mark.slow
def test_concurrent_writers_lose_nothing(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    seeded = _seed_items(store, 300)  # ids 1..300: two shards, new ids go on from 301
    store.insert("shared", {"name": "fields"}, "seed")
    store.insert("shared", {"name": "counter", "counter": 0}, "seed")
    workers = 4
    start_at = time.time() + 1.0  # all start together, after their imports
    procs = [writer("concurrent", root, w, start_at, 3.0) for w in range(workers)]
    reports = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        reports.append(json.loads(out))

    store = assert_consistent(root)
    # ids are unique across processes, and every acknowledged value is there
    inserted = [int(i) for r in reports for i in r["inserts"]]
    assert len(inserted) == len(set(inserted))
    assert not set(inserted) & set(seeded)
    assert store.count("items") == len(seeded) + len(inserted)
    for r in reports:
        for rid, value in r["inserts"].items():
            doc = store.get("items", int(rid))
            assert doc["value"] == value and doc["worker"] == r["worker"]
            assert doc["_rev"] == 1 + r["updates"].get(rid, 0)
    shared = store.get("shared", 1)
    for r in reports:
        assert shared.get(f"w{r['worker']}", 0) == r["shared_last"]
    increments = sum(r["increments"] for r in reports)
    assert store.get("shared", 2)["counter"] == increments  # no lost read-modify-write
    # exactly one audit entry per acknowledged write
    assert store.audit.verify().entries == len(seeded) + 2 + sum(r["ops"] for r in reports)
    # they really wrote at the same time: every worker was acknowledged before any one stopped
    assert all(r["ops"] >= 5 for r in reports)
    assert max(r["first_ack"] for r in reports) < min(r["last_ack"] for r in reports)


def test_another_process_write_is_seen_at_once(tmp_path):
    """A long-lived Store never serves a record another process has since replaced."""
    root = tmp_path / "data"
    store = Store(root)
    _seed_items(store, 300)
    b = writer("serve", root, stdin=subprocess.PIPE)
    try:
        assert b.stdout.readline().strip() == "ready"

        def ask(line):
            b.stdin.write(line + "\n")
            b.stdin.flush()
            return b.stdout.readline().strip()

        for i in range(30):
            rid = 1 + (i % 3) * 100  # three shards
            before = store.get("items", rid)["value"]  # A's cache now holds the shard
            if i % 2:
                # two commits in a row: the second may get the first version's inode back,
                # with the same size (values of equal length)
                assert ask(f"set2 {rid} x{i:05d} v{i:05d}") == "ok"
            else:
                assert ask(f"set {rid} v{i:05d}") == "ok"
            assert store.get("items", rid)["value"] == f"v{i:05d}" != before
            assert store.page("items", lambda d, rid=rid: d["id"] == rid)[0][0]["value"] == f"v{i:05d}"
            # and the other way round: B's cache sees A's write
            store.update("items", rid, {"value": f"a{i:05d}"}, "A")
            assert ask(f"get {rid}") == f"a{i:05d}"
    finally:
        b.stdin.close()
        b.wait(timeout=10)


# --- optimistic concurrency --------------------------------------------------------------
def test_update_with_old_revision_is_refused(tmp_path):
    store = Store(tmp_path / "data")
    doc = store.insert("items", {"value": "one"}, "alice")
    loaded_by_bob = store.get("items", doc["id"])
    store.update("items", doc["id"], {"value": "two"}, "alice", expect_rev=doc["_rev"])
    before = store.get("items", doc["id"])
    entries = store.audit.verify().entries
    with pytest.raises(StaleRecord) as err:
        store.update("items", doc["id"], {"value": "bob's"}, "bob", expect_rev=loaded_by_bob["_rev"])
    assert (err.value.expected, err.value.actual) == (1, 2)
    assert Store(tmp_path / "data").get("items", doc["id"]) == before
    assert store.audit.verify().entries == entries
    # with the current revision it goes through
    store.update("items", doc["id"], {"value": "bob's"}, "bob", expect_rev=before["_rev"])
    assert store.get("items", doc["id"])["value"] == "bob's"


def test_failed_transaction_changes_nothing(tmp_path):
    store = Store(tmp_path / "data")
    a = store.insert("items", {"value": "a"}, "x")
    with pytest.raises(StaleRecord):
        with store.transaction("x") as tx:
            tx.update("items", a["id"], {"value": "changed"})
            tx.insert("items", {"value": "new"})
            tx.update("items", a["id"], {"value": "again"}, expect_rev=1)  # now at 2
    assert store.get("items", a["id"])["value"] == "a"
    assert store.count("items") == 1
    assert_consistent(tmp_path / "data")


# --- failures of fsync and rename (the OS patched, never our code) -----------------------
class FailOnCall:
    """Wrap an os function so that its n-th call (1-based) raises EIO."""

    def __init__(self, real, n: int):
        self.real, self.n, self.calls = real, n, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise OSError(errno.EIO, "Input/output error (injected)")
        return self.real(*args, **kwargs)


def _count_calls(monkeypatch, store, name):
    counter = FailOnCall(getattr(os, name), 0)
    monkeypatch.setattr(os, name, counter)
    store.update("items", 1, {"value": "counting"}, "x")
    monkeypatch.undo()
    return counter.calls


@pytest.mark.parametrize("func", ["fsync", "replace"])
def test_failing_fsync_or_rename_is_an_error_and_leaves_consistent_data(tmp_path, monkeypatch, func):
    """Fail each fsync (or rename) of a commit in turn.

    Before the journal stands (the commit point) the write is refused and the old data stays;
    after it, the error is still reported and the commit is rolled back by a journal of its
    own: the old data stays too. Data and audit trail agree, and nothing is left behind.
    """
    root = tmp_path / "data"
    store = Store(root)
    _seed_items(store, 300)
    n_calls = _count_calls(monkeypatch, store, func)
    assert n_calls >= (5 if func == "fsync" else 2)
    outcomes = []
    for n in range(1, n_calls + 1):
        rid = 1 + (n * 37) % 300
        old = Store(root).get("items", rid)
        entries = Store(root).audit.verify().entries
        monkeypatch.setattr(os, func, FailOnCall(getattr(os, func), n))
        with pytest.raises(StorageError):
            store.update("items", rid, {"value": f"new-{n}"}, "x")
        monkeypatch.undo()
        reopened = assert_consistent(root)
        now = reopened.get("items", rid)
        if now == old:
            assert reopened.audit.verify().entries == entries
            outcomes.append("old")
        else:
            assert now["value"] == f"new-{n}" and now["_rev"] == old["_rev"] + 1
            assert reopened.audit.verify().entries == entries + 1
            outcomes.append("new")
    assert outcomes == ["old"] * n_calls  # a failed write is never acknowledged nor applied


def test_write_refused_on_first_fsync_failure(tmp_path, monkeypatch):
    root = tmp_path / "data"
    store = Store(root)
    doc = store.insert("items", {"value": "old"}, "x")
    shard = store.shard_path("items", doc["id"])
    raw = shard.read_bytes()
    audit = (root / "audit.jsonl").read_bytes()
    monkeypatch.setattr(os, "fsync", FailOnCall(os.fsync, 1))
    with pytest.raises(StorageError, match="失败"):
        store.update("items", doc["id"], {"value": "new"}, "x")
    monkeypatch.undo()
    assert shard.read_bytes() == raw and (root / "audit.jsonl").read_bytes() == audit
    assert leftovers(root) == []  # the failed temp file was removed at once
    assert store.get("items", doc["id"])["value"] == "old"
    store.update("items", doc["id"], {"value": "new"}, "x")  # the store is usable afterwards
    assert_consistent(root)


class Died(BaseException):
    """The process dying at that instant (nothing of ours catches it)."""


class DieOnCall(FailOnCall):
    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise Died()
        return self.real(*args, **kwargs)


def test_next_writer_finishes_an_interrupted_commit(tmp_path, monkeypatch):
    """A writer dying after the commit point leaves the journal; the next transaction
    completes it before its own changes."""
    root = tmp_path / "data"
    store = Store(root)
    seeded = _seed_items(store, 10)
    monkeypatch.setattr(os, "replace", DieOnCall(os.replace, 2))  # 1: journal, 2: shard
    with pytest.raises(Died):
        store.update("items", 1, {"value": "first"}, "x")
    monkeypatch.undo()
    assert (root / "journal.json").exists()
    store.update("items", 2, {"value": "second"}, "y")  # its transaction recovers first
    assert not (root / "journal.json").exists()
    fresh = assert_consistent(root)
    assert fresh.get("items", 1)["value"] == "first" and fresh.get("items", 2)["value"] == "second"
    assert [e["id"] for e in fresh.audit][-2:] == [1, 2]
    assert fresh.audit.verify().entries == len(seeded) + 2


def test_data_files_keep_their_mode(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    doc = store.insert("items", {"value": "a"}, "x")
    shard = store.shard_path("items", doc["id"])
    os.chmod(shard, 0o600)
    os.chmod(root / "audit.jsonl", 0o600)
    store.update("items", doc["id"], {"value": "b"}, "x")
    assert stat.S_IMODE(shard.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / "audit.jsonl").stat().st_mode) == 0o600
    os.chmod(shard, 0o644)
    store.update("items", doc["id"], {"value": "c"}, "x")
    assert stat.S_IMODE(shard.stat().st_mode) == 0o644


def test_temp_files_of_a_crash_are_swept_at_start(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    doc = store.insert("items", {"value": "kept"}, "x")
    shard = store.shard_path("items", doc["id"])
    junk = [shard.with_name(f"{TEMP_PREFIX}{shard.name}.999.abc"), root / f"{TEMP_PREFIX}journal.json.999.1"]
    for p in junk:
        p.write_bytes(b'{"items": {"1": {"half')
    Store(root)
    assert not any(p.exists() for p in junk)
    assert Store(root).get("items", doc["id"])["value"] == "kept"


def test_every_commit_leaves_only_complete_files(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    with store.transaction("x") as tx:
        for i in range(600):
            tx.insert("items", {"value": i})
    for rid in (1, 300, 599):
        store.update("items", rid, {"value": "changed"}, "x")
    assert leftovers(root) == []
    assert assert_files_parse(root) == 600
    assert len(list((root / "tables" / "items").glob("*.json"))) == 3


# --- schema versions and migration -------------------------------------------------------
def _write_v1_customers(root):
    """Customers as stored before contacts became a list: _schema 1, one contact_name/phone."""
    folder = root / "tables" / "customers"
    folder.mkdir(parents=True)
    v1 = {"name": "甲公司", "address": "北京", "distance_km": 12.0, "contact_name": "张三",
          "contact_phone": "010-1234567", "remarks": "", "id": 1, "_rev": 1, "_schema": 1,
          "_created": "2020-01-01T00:00:00.000+00:00", "_updated": "2020-01-01T00:00:00.000+00:00",
          "_by": "old", "_audit": []}
    v1_empty = {**v1, "name": "乙公司", "id": 2, "contact_name": "", "contact_phone": ""}
    v2 = {k: v for k, v in v1.items() if not k.startswith("contact_")}
    v2.update(name="丙公司", id=3, _schema=2, contacts=[{"name": "李四", "phone": "1", "title": ""}])
    (folder / "000000.json").write_bytes(orjson.dumps({"customers": {"1": v1, "2": v1_empty, "3": v2}}))
    return folder / "000000.json"


def test_old_schema_is_upgraded_on_read_and_rewritten_by_migrate(tmp_path, runner):
    root = tmp_path / "data"
    shard = _write_v1_customers(root)
    store = Store(root)
    assert schema.current("customers") == 2
    doc = store.get("customers", 1)
    assert doc["_schema"] == 2 and "contact_name" not in doc
    assert doc["contacts"] == [{"name": "张三", "phone": "010-1234567"}]
    assert store.get("customers", 2)["contacts"] == []
    assert [d["_schema"] for d in store.scan("customers")] == [2, 2, 2]
    rows, total = store.page("customers", lambda d: d["contacts"], key=lambda d: d["name"])
    assert total == 2 and [r["id"] for r in rows] == [3, 1]  # upgraded before filtering
    assert store.find("customers", lambda d: d["id"] == 1)[0]["contacts"][0]["name"] == "张三"
    assert orjson.loads(shard.read_bytes())["customers"]["1"]["_schema"] == 1  # reading wrote nothing
    with pytest.raises(RuntimeError):  # a transaction reads them upgraded too, its own shard or not
        with store.transaction("t") as tx:
            assert [d["_schema"] for d in tx.scan("customers")] == [2, 2, 2]
            tx.update("customers", 3, {"remarks": "改"})  # the shard is now the transaction's own copy
            assert [d["contacts"] for d in tx.scan("customers")][:2] == [[{"name": "张三", "phone": "010-1234567"}], []]
            raise RuntimeError("not committed: the migrate below sees the folder as it was")

    result = runner.invoke(["migrate", "--data-dir", str(root)])
    assert result.exit_code == 0, result.output
    assert "customers 2" in result.output
    stored = orjson.loads(shard.read_bytes())["customers"]
    assert stored["1"]["_schema"] == 2 and "contact_name" not in stored["1"]
    assert stored["1"]["contacts"] == [{"name": "张三", "phone": "010-1234567"}]
    assert stored["3"]["_rev"] == 1  # was current: untouched
    store = assert_consistent(root, revs=False)  # the hand-written v1 docs had no audit entries
    (entry,) = store.history("customers", 1)
    assert entry["action"] == "migrate" and entry["actor"] == "migrate"
    again = runner.invoke(["migrate", "--data-dir", str(root)])
    assert again.exit_code == 0 and "无需迁移" in again.output


def test_update_of_an_old_document_stores_it_at_the_current_version(tmp_path):
    root = tmp_path / "data"
    shard = _write_v1_customers(root)
    Store(root).update("customers", 1, {"remarks": "老客户"}, "x")
    stored = orjson.loads(shard.read_bytes())["customers"]["1"]
    assert stored["_schema"] == 2 and stored["contacts"][0]["name"] == "张三" and stored["remarks"] == "老客户"
    assert "contact_name" not in stored
