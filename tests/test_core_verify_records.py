"""`aftersales verify` rebuilds every record from its audit entries (records/core/replay.py, issue 11).

The hash chain alone passed an edited description, fine amount or state, a deleted case and an
emptied cases shard: each kind of tampering below is done to the shard files in place, as
someone with write access to the folder would, and must be named (table, id) with exit 1.
"""
from __future__ import annotations

import shutil

import orjson
import pytest

from records.core.replay import check_folder, check_store
from records.core.store import Store
from scripts import bench
from scripts.bench_data import build_dataset, volume
from scripts.bench_verify import section_verify


@pytest.fixture(scope="module")
def cases_template(tmp_path_factory):
    """Three shards of "cases" (ids 1–600), one changed afterwards, plus a customer."""
    root = tmp_path_factory.mktemp("verify") / "data"
    store = Store(root)
    with store.transaction("receiver") as tx:
        tx.insert("customers", {"name": "甲公司", "contacts": [{"name": "王", "phone": "010-1"}]})
        for i in range(1, 601):
            tx.insert("cases", {"number": f"FW-{i:04d}", "state": "open", "description": f"第 {i} 号：设备异响",
                                "fines": [{"clause": "6.2.8", "amount": 50, "state": "proposed"}], "remarks": None})
    with store.transaction("manager") as tx:
        tx.update("cases", 300, {"state": "closed", "fines": [{"clause": "6.2.8", "amount": 100, "state": "confirmed"}]})
        tx.event("cases", 300, "export", note="导出")
    return root


@pytest.fixture
def cases_dir(cases_template, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(cases_template, root)
    return root


def _shard(root, table, rid):
    return root / "tables" / table / f"{rid // 256:06d}.json"


def _edit(root, table, rid, fn):
    path = _shard(root, table, rid)
    data = orjson.loads(path.read_bytes())
    fn(data[table], str(rid))
    path.write_bytes(orjson.dumps(data))  # in place, as an editor would


def _set(field, value):
    def fn(docs, key):
        docs[key][field] = value
    return fn


def _fine_amount(docs, key):
    docs[key]["fines"][0]["amount"] = 0


def _delete(docs, key):
    del docs[key]


def _add_unaudited(docs, key):
    docs["700"] = {**docs[key], "id": 700, "number": "FW-假"}


TAMPERING = {  # how -> (table, id it touches, id named, words of the message)
    "edit a description": (lambda r: _edit(r, "cases", 2, _set("description", "已修改")), 2, "description"),
    "edit a fine amount": (lambda r: _edit(r, "cases", 300, _fine_amount), 300, "fines"),
    "edit a state": (lambda r: _edit(r, "cases", 300, _set("state", "open")), 300, "state"),
    "add a field": (lambda r: _edit(r, "cases", 7, _set("secret", 1)), 7, "secret"),
    "delete a case": (lambda r: _edit(r, "cases", 260, _delete), 260, "被删除"),
    "empty a shard": (lambda r: _shard(r, "cases", 300).write_bytes(b""), 256, "该文件为空"),
    "a case without audit": (lambda r: _edit(r, "cases", 513, _add_unaudited), 700, "未经审计"),
    "edit the audit offsets": (lambda r: _edit(r, "cases", 9, _set("_audit", [])), 9, "_audit"),
}


def test_untouched_data_verifies(cases_dir, runner):
    result = runner.invoke(["verify", "--data-dir", str(cases_dir)])
    assert result.exit_code == 0, result.output
    assert "603 条" in result.output and "601 条记录" in result.output


@pytest.mark.parametrize("how", list(TAMPERING))
def test_tampered_records_are_named(cases_dir, how, runner):
    tamper, rid, words = TAMPERING[how]
    tamper(cases_dir)
    assert Store(cases_dir).audit.verify().ok  # the chain alone cannot see it
    result = runner.invoke(["verify", "--data-dir", str(cases_dir)])
    assert result.exit_code == 1, result.output
    assert f"cases #{rid}" in result.output and words in result.output
    check = check_store(Store(cases_dir))
    assert (check.ok, check.table, check.record_id) == (False, "cases", rid)


@pytest.mark.parametrize("content", [b"{\"cases\": {\"1\": ", b"\xff\xfe garbage", b"[1, 2]"])
def test_a_garbled_file_is_named_not_a_traceback(cases_dir, content, runner):
    _shard(cases_dir, "cases", 300).write_bytes(content)
    result = runner.invoke(["verify", "--data-dir", str(cases_dir)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "tables/cases/000001.json" in result.output and "Traceback" not in result.output


def test_an_unreadable_trail_is_named(cases_dir):
    (cases_dir / "audit.jsonl").unlink()
    (cases_dir / "audit.jsonl").mkdir()  # not a file: reading it fails
    check = check_folder(cases_dir)
    assert not check.ok and "audit.jsonl" in check.message


def test_a_record_upgraded_on_read_before_the_audit_kept_the_upgrade_still_verifies(tmp_path):
    """A v1 customer (one contact) updated after v2 came: the stored document is upgraded, its
    audit entry holds only the edit; the registered migration explains the difference."""
    root = tmp_path / "data"
    store = Store(root)
    store.insert("customers", {"name": "乙公司", "contact_name": "李", "contact_phone": "021-2"}, "receiver")
    _edit(root, "customers", 1, lambda docs, key: docs[key].update(_schema=1))  # written by an old version
    store.update("customers", 1, {"remarks": "老客户"}, "receiver")
    assert Store(root).get("customers", 1)["contacts"] == [{"name": "李", "phone": "021-2"}]
    assert check_folder(root).ok
    _edit(root, "customers", 1, _set("contacts", [{"name": "张", "phone": "021-2"}]))  # but not any change
    assert check_folder(root).record_id == 1


def test_the_ten_year_data_set_verifies(tmp_path):
    """The bench's data set (a tiny volume here; ``aftersales bench --only verify`` times the full one)."""
    build_dataset(tmp_path / "data", *volume(0.005))
    check = check_folder(tmp_path / "data")
    assert check.ok, check.message
    assert check.entries == 1500 and check.records == 100 + 25 + 3


def test_bench_verify_section_on_a_tiny_data_set(capsys):
    figures = section_verify(scale=0.005)
    assert figures["ok"] and figures["restore_ok"] and figures["audit_entries"] == 1500
    assert figures["snapshot_mb"] > 0 and "verify (chain + every record rebuilt)" in capsys.readouterr().out
    assert "verify" in bench.SECTIONS
