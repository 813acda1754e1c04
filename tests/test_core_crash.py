"""Crash safety: a writer process killed with SIGKILL at random moments, many times over."""
from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest
from storage_checks import assert_consistent, writer

from records.core.store import Store

ROUNDS = 40
TIME_BUDGET_S = 16


def _parse(output: str) -> tuple[list[dict], dict | None]:
    """The acknowledged operations and the one in flight (printed but not acknowledged)."""
    acked, pending = [], None
    for line in output.splitlines(keepends=True):
        if not line.endswith("\n"):  # cut off by the kill
            break
        tag, _, body = line.strip().partition(" ")
        if tag == "P":
            pending = json.loads(body)
        elif tag == "A":
            acked.append(json.loads(body))
            pending = None
    return acked, pending


def _apply(model: dict[int, str], op: dict) -> int:
    """Apply an acknowledged operation to the expected state; return its audit entries."""
    if op["op"] in ("I", "U"):
        model[op["id"]] = op["value"]
        return 1
    for rid, value in op["updates"]:
        model[rid] = value
    model[op["id"]] = op["value"]
    return 3


def _pending_outcome(store: Store, model: dict[int, str], op: dict) -> int:
    """Did the operation in flight commit? All of it or none of it; apply it if it did."""
    if op["op"] == "I":
        new = [d for d in store.scan("items") if d["id"] not in model]
        assert len(new) <= 1
        if new:
            assert new[0]["value"] == op["value"]
            return _apply(model, {**op, "id": new[0]["id"]})
        return 0
    if op["op"] == "U":
        if store.get("items", op["id"])["value"] == op["value"]:
            return _apply(model, op)
        return 0
    done = [store.get("items", rid)["value"] == value for rid, value in op["updates"]]
    new = [d for d in store.scan("items") if d["id"] not in model]
    assert all(done) == (len(new) == 1) and any(done) == all(done), "a transaction half applied"
    if new:
        assert new[0]["value"] == op["value"]
        return _apply(model, {**op, "id": new[0]["id"]})
    return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path):
    root = tmp_path / "data"
    store = Store(root)
    with store.transaction("seed") as tx:  # three shards, so transactions span shards
        model = {tx.insert("items", {"value": f"seed-{i}"})["id"]: f"seed-{i}" for i in range(600)}
    entries = len(model)
    rng = random.Random(2026)
    started = time.monotonic()
    rounds = acked_total = pending_committed = journals = temps = 0
    while rounds < ROUNDS and time.monotonic() - started < TIME_BUDGET_S:
        rounds += 1
        proc = writer("crash", root, rounds)
        assert proc.stdout.readline() == "start\n"  # imports done; next it opens the store
        time.sleep(rng.uniform(0, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        output = proc.stdout.read()
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, output[-500:]
        acked, pending = _parse(output)
        journals += (root / "journal.json").exists()
        temps += any(root.rglob(".tmp-*"))

        store = assert_consistent(root)  # opening recovers the journal and sweeps temp files
        for op in acked:
            entries += _apply(model, op)
        acked_total += len(acked)
        if pending:
            added = _pending_outcome(store, model, pending)
            entries += added
            pending_committed += bool(added)
        assert store.count("items") == len(model)
        for rid, value in model.items():
            assert store.get("items", rid)["value"] == value, (rounds, rid)
        assert store.audit.verify().entries == entries
    assert rounds >= 10
    assert acked_total > rounds  # the writer did get work done between kills
    print(f"{rounds} rounds, {acked_total} acknowledged writes, {pending_committed} in-flight writes committed, "
          f"killed {journals} times past the commit point and {temps} times with temp files on disk")
