"""The yearly archive (10; records/archive/yearly.py, verify.py): ``aftersales archive`` writes one
zip of the year's records, files, dossiers and audit entries without changing the data folder;
``aftersales archive-verify`` passes it, and names the one member changed afterwards."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import orjson
import pytest

from records.archive import yearly
from records.core.audit import canonical
from tests.fixtures.archive import png_bytes
from tests.fixtures.calendar import at


def folder_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def rewritten(src: Path, dst: Path, change) -> None:
    """``dst``: the zip ``src`` with each member's bytes passed through ``change(name, data)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))


def flip(data: bytes, at_: int | None = None) -> bytes:
    i = len(data) // 2 if at_ is None else at_
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


@pytest.fixture
def year_2026(db, data_dir, closed_case, new_case, act):
    """The data folder with 2026's records: a closed case, a cancelled one, an open one (not
    taken), a follow-up call of 2026 and one of 2025, issued penalty months of both years."""
    done = closed_case()
    gone = act(new_case(serial="IN-FAR"), "cancel", "engineer", "2026-11-27T16:30", reason="重复登记")
    open_ = new_case(now="2026-11-30T09:00")
    call = {"called_at": "2026-10-12T10:00+08:00", "contact_name": "李工", "contact_phone": "0312-5550101",
            "usage": "正常", "guidance": "定期除尘", "needs": "", "problems": ""}
    db.insert("followups", {"key": "follow_up:1:2026Q4", "kind": "follow_up", "status": "done", "call": call}, "t")
    db.insert("followups", {"key": "follow_up:1:2025Q4", "kind": "follow_up", "status": "done",
                            "call": {**call, "called_at": "2025-12-20T10:00+08:00"}}, "t")
    db.insert("penalty_months", {"month": "2026-11", "total": 50}, "t")
    db.insert("penalty_months", {"month": "2025-12", "total": 100}, "t")
    return {"closed": done, "cancelled": gone, "open": open_, "dir": data_dir}


def test_the_archive_holds_the_years_records_and_verifies(runner, year_2026, tmp_path):
    data_dir, dest = year_2026["dir"], tmp_path / "archives"
    before = folder_hashes(data_dir)
    result = runner.invoke(["archive", "--data-dir", str(data_dir), "--year", "2026", "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert folder_hashes(data_dir) == before  # archiving never changes live data
    assert "案卷 FW2026-0001：" in result.output and "秒" in result.output  # the time per case
    (path,) = dest.glob("aftersales-archive-2026-v*.zip")

    with zipfile.ZipFile(path) as zf:
        manifest = orjson.loads(zf.read("manifest.json"))
        cases = orjson.loads(zf.read("records/cases.json"))
        assert {c["id"] for c in cases} == {year_2026["closed"]["id"], year_2026["cancelled"]["id"]}
        assert [f["call"]["called_at"][:4] for f in orjson.loads(zf.read("records/followups.json"))] == ["2026"]
        assert [m["month"] for m in orjson.loads(zf.read("records/penalty_months.json"))] == ["2026-11"]
        photo = hashlib.sha256(png_bytes()).hexdigest()
        assert zf.read(f"files/{photo}") == png_bytes()  # every archived file, byte for byte
        form = orjson.loads(zf.read("records/service_form_files.json"))[0]
        assert hashlib.sha256(zf.read(f"files/{form['sha256']}")).hexdigest() == form["sha256"]
        assert {n for n in zf.namelist() if n.startswith("dossiers/")} == {f"dossiers/{c['number']}.pdf" for c in cases}
        entries = [orjson.loads(line) for line in zf.read("audit/entries.jsonl").splitlines()]
        assert {(e["table"], e["id"]) for e in entries} >= {("cases", c["id"]) for c in cases}
        assert all(e["hash"] and e["prev"] for e in entries)
        head = orjson.loads(zf.read("head.json"))
    tail = (data_dir / "audit.jsonl").read_bytes().splitlines()[-1]
    assert head["seq"] == orjson.loads(tail)["seq"] and head["hash"] == orjson.loads(tail)["hash"]
    assert manifest["head"] == head and manifest["counts"]["cases"] == 2

    ok = runner.invoke(["archive-verify", str(path)])
    assert ok.exit_code == 0, ok.output
    assert "校验通过" in ok.output

    again = runner.invoke(["archive", "--data-dir", str(data_dir), "--year", "2026", "--dest", str(dest)])
    assert again.exit_code == 0, again.output
    assert len(list(dest.glob("*.zip"))) == 2  # a new version; the first one stays as it was
    assert runner.invoke(["archive-verify", str(path)]).exit_code == 0


@pytest.fixture
def written(runner, year_2026, tmp_path):
    dest = tmp_path / "a"
    assert runner.invoke(["archive", "--data-dir", str(year_2026["dir"]), "--year", "2026",
                          "--dest", str(dest)]).exit_code == 0
    return next(dest.glob("*.zip"))


def _reseal(name: str, data: bytes, edit, src: zipfile.ZipFile) -> bytes:
    """The manifest recomputed after ``edit`` changed a member (a forger who also rewrote the manifest)."""
    if name != "manifest.json":
        return edit(name, data)
    manifest = orjson.loads(data)
    for m in manifest["members"]:
        m["sha256"] = hashlib.sha256(edit(m["name"], src.read(m["name"]))).hexdigest()
    return orjson.dumps(manifest)


def _edit_entry(name: str, data: bytes) -> bytes:
    if name != "audit/entries.jsonl":
        return data
    lines = data.splitlines()
    entry = orjson.loads(lines[1])
    entry["actor"] = "someone-else"
    lines[1] = canonical(entry)
    return b"\n".join(lines) + b"\n"


def _edit_record(name: str, data: bytes) -> bytes:
    if name != "records/cases.json":
        return data
    cases = orjson.loads(data)
    cases[0]["description"] = "改过的内容"
    return orjson.dumps(cases)


def _drop_record(name: str, data: bytes) -> bytes:
    return orjson.dumps([]) if name == "records/followups.json" else data


def test_a_change_is_named_even_with_the_manifest_resealed(runner, written, tmp_path):
    with zipfile.ZipFile(written) as zf:
        target = next(n for n in zf.namelist() if n.startswith("dossiers/"))
    bad = tmp_path / "bad.zip"
    rewritten(written, bad, lambda name, data: flip(data) if name == target else data)  # one byte
    result = runner.invoke(["archive-verify", str(bad)])
    assert result.exit_code == 1
    assert target in result.output and "SHA-256 与清单不符" in result.output
    for edit, named in ((_edit_entry, "audit/entries.jsonl 第 2 行"),  # an entry's own hash no longer holds
                        (_edit_record, "records/cases.json"),  # a record is not what its entries rebuild
                        (_drop_record, "归档中没有这条记录")):  # a record taken out, its entries left
        resealed = tmp_path / f"{edit.__name__}.zip"
        with zipfile.ZipFile(written) as src:
            rewritten(written, resealed, lambda name, data: _reseal(name, data, edit, src))
        result = runner.invoke(["archive-verify", str(resealed)])
        assert result.exit_code == 1 and named in result.output, result.output


@pytest.mark.parametrize("args, message", [
    (["--year", "1999"], "年份 1999 不对"),
    (["--year", "2026", "--data-dir", "/nonexistent/aftersales"], "数据文件夹不存在"),
])
def test_bad_arguments_are_refused(runner, data_dir, tmp_path, args, message):
    result = runner.invoke(["archive", "--data-dir", str(data_dir), "--dest", str(tmp_path / "x"), *args])
    assert result.exit_code != 0 and message in result.output
    assert runner.invoke(["archive-verify", str(tmp_path)]).exit_code != 0  # a folder is no archive


def test_a_file_that_is_no_zip_is_refused(runner, tmp_path):
    junk = tmp_path / "x.zip"
    junk.write_bytes(b"not a zip")
    result = runner.invoke(["archive-verify", str(junk)])
    assert result.exit_code == 1 and "无法打开归档" in result.output


def test_closing_time_is_the_closing_step():
    case = {"state": "closed", "timeline": [{"at": "2026-12-30T10:00:00+08:00", "action": "intake"},
                                             {"at": "2027-01-04T09:00:00+08:00", "action": "confirm"},
                                             {"at": "2027-02-01T09:00:00+08:00", "action": "rule_fine"}]}
    assert yearly.closed_at(case) == at("2027-01-04T09:00")
    assert yearly.closed_at({**case, "state": "awaiting_report"}) is None


@pytest.mark.parametrize("doc, year", [
    ({"year": 2026}, 2026), ({"period": "2026Q3"}, 2026), ({"month": "2025-12"}, 2025),
    ({"issued_at": "2026-12-31T23:30:00+08:00"}, 2026), ({"_created": "2026-12-31T17:00:00+00:00"}, 2027),
])
def test_the_year_of_a_later_issues_record(doc, year):
    assert yearly.record_year(doc) == year


def test_later_issues_tables_are_taken_by_their_names():
    tables = ["cases", "users", "penalty_months", "technician_assessments", "technical_notices", "job_runs"]
    assert yearly.optional_tables(tables) == ["penalty_months", "technician_assessments", "technical_notices"]
