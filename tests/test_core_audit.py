"""The hash-chained audit trail: what it records, and `aftersales verify` on tampered files."""
from __future__ import annotations

import orjson
import pytest
from storage_checks import run_cli

from records.core.audit import GENESIS, AuditTrail, Tail, canonical, entry_hash
from records.core.store import Store

N_ENTRIES = 12


@pytest.fixture
def audited(tmp_path):
    """A data folder whose trail holds N_ENTRIES entries from several actors."""
    root = tmp_path / "data"
    store = Store(root)
    a = store.insert("customers", {"name": "甲公司", "distance_km": 10, "contacts": []}, "alice")
    b = store.insert("customers", {"name": "乙公司", "distance_km": 20, "contacts": []}, "bob")
    with store.transaction("carol") as tx:
        for i in range(3):
            tx.insert("products", {"serial_no": f"SN{i}", "customer_id": a["id"]})
    for i in range(5):
        store.update("customers", (a, b)[i % 2]["id"], {"remarks": f"备注 {i}"}, ("alice", "bob")[i % 2])
    with store.transaction("dave") as tx:
        tx.event("customers", a["id"], "export", note="导出")
        tx.update("products", 1, {"customer_id": b["id"]})
    assert store.audit.verify().entries == N_ENTRIES
    return root


def _lines(root):
    return (root / "audit.jsonl").read_bytes().splitlines(keepends=True)


def _write(root, lines):
    (root / "audit.jsonl").write_bytes(b"".join(lines))


def test_each_change_is_recorded_with_who_when_and_before_after(audited):
    store = Store(audited)
    history = store.history("customers", 1)
    assert [e["action"] for e in history] == ["create", "update", "update", "update", "export"]
    create, first_update = history[0], history[1]
    assert create["actor"] == "alice" and create["changes"]["name"] == [None, "甲公司"]
    assert first_update["actor"] == "alice" and first_update["changes"] == {"remarks": [None, "备注 0"]}
    assert history[2]["changes"] == {"remarks": ["备注 0", "备注 2"]}
    assert all(e["ts"] and e["table"] == "customers" and e["id"] == 1 for e in history)
    assert history[-1]["note"] == "导出" and history[-1]["actor"] == "dave"
    assert [e["seq"] for e in AuditTrail(audited / "audit.jsonl")] == list(range(1, N_ENTRIES + 1))
    # bookkeeping fields are not "changes"
    assert not any(k.startswith("_") for e in AuditTrail(audited / "audit.jsonl") for k in e["changes"])


def test_untouched_trail_verifies(audited, runner):
    before = (audited / "audit.jsonl").read_bytes()
    result = runner.invoke(["verify", "--data-dir", str(audited)])
    assert result.exit_code == 0, result.output
    assert f"{N_ENTRIES} 条" in result.output
    proc = run_cli("verify", "--data-dir", audited)
    assert proc.returncode == 0, proc.stderr
    assert f"{N_ENTRIES} 条" in proc.stdout
    assert (audited / "audit.jsonl").read_bytes() == before  # verify changes nothing


def _edit_byte(lines):
    line = lines[4]
    i = line.index(b'"actor":"') + len(b'"actor":"')
    lines[4] = line[:i] + bytes([line[i] ^ 1]) + line[i + 1:]  # alice -> `lice: still valid JSON
    return lines, 5


def _break_json(lines):
    lines[6] = lines[6].replace(b"{", b"[", 1)
    return lines, 7


def _edit_change(lines):
    lines[8] = lines[8].replace("备注".encode(), "备忘".encode(), 1)  # a changed value, same length in bytes
    return lines, 9


def _delete_line(lines):
    del lines[3]
    return lines, 4


def _swap_lines(lines):
    lines[5], lines[6] = lines[6], lines[5]
    return lines, 6


def _duplicate_line(lines):
    lines.insert(2, lines[1])
    return lines, 3


def _rehash_edited_line(lines):
    """Edit a line and recompute its own hash: the next line's link still breaks."""
    entry = orjson.loads(lines[2])
    entry["actor"] = "mallory"
    entry["hash"] = entry_hash(entry)
    lines[2] = canonical(entry) + b"\n"
    return lines, 4


def _edit_last_line(lines):
    lines[-1] = lines[-1].replace(b'"action":"update"', b'"action":"delete"')
    return lines, N_ENTRIES


TAMPERING = {
    "edit one byte": _edit_byte,
    "break the JSON": _break_json,
    "edit a changed value": _edit_change,
    "delete a line": _delete_line,
    "swap two lines": _swap_lines,
    "duplicate a line": _duplicate_line,
    "edit and rehash a line": _rehash_edited_line,
    "edit the last line": _edit_last_line,
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampering_is_found_at_the_first_broken_line(audited, how, runner):
    lines, first_bad = TAMPERING[how](_lines(audited))
    _write(audited, lines)
    result = runner.invoke(["verify", "--data-dir", str(audited)])
    assert result.exit_code == 1
    assert f"第 {first_bad} 行" in result.output
    assert f"此前 {first_bad - 1} 条完好" in result.output
    check = AuditTrail(audited / "audit.jsonl").verify()
    assert (check.ok, check.first_bad_line, check.entries) == (False, first_bad, first_bad - 1)


@pytest.mark.parametrize("how", ["edit one byte", "delete a line", "swap two lines"])
def test_tampering_found_by_the_installed_command(audited, how):
    lines, first_bad = TAMPERING[how](_lines(audited))
    _write(audited, lines)
    proc = run_cli("verify", "--data-dir", audited)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"第 {first_bad} 行" in proc.stderr


def test_chain_continues_across_commits_and_build_matches_append(tmp_path):
    """Entries built in batches from a Tail chain exactly like entries written one by one."""
    trail = AuditTrail(tmp_path / "a.jsonl")
    items = [{"ts": "t", "actor": "x", "table": "t", "id": i, "action": "update", "changes": {}} for i in range(5)]
    data, offsets = trail.build(Tail(0, 0, GENESIS), items[:2])
    trail.append(data, 0)
    tail = trail.tail()
    assert (tail.seq, tail.size) == (2, len(data))
    more, offsets2 = trail.build(tail, items[2:])
    trail.append(more, tail.size)
    assert trail.verify().ok and trail.verify().entries == 5
    assert [e["id"] for e in trail.read_at(offsets + offsets2)] == list(range(5))
    whole, _ = AuditTrail(tmp_path / "b.jsonl").build(Tail(0, 0, GENESIS), items)
    assert whole == (tmp_path / "a.jsonl").read_bytes()


@pytest.mark.parametrize("cut", [1, 2])
def test_entries_cut_off_the_end_are_detected(audited, cut, runner):
    """A shorter chain is still a valid chain: the records' own offsets give the cut away."""
    _write(audited, _lines(audited)[:-cut])
    assert Store(audited).audit.verify().ok  # the chain alone cannot see it
    result = runner.invoke(["verify", "--data-dir", str(audited)])
    assert result.exit_code == 1
    assert "截断" in result.output
