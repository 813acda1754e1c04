"""The company category lists (GLOSSARY 故障类别 / 原因类别): seeds, add, rename, retire, choices."""
from __future__ import annotations

import pytest

from records.catalog import categories
from records.catalog.categories import CategoryError


def test_a_fresh_installation_reads_the_seeds(store):
    assert [e["name"] for e in categories.entries(store, "cause")] == [
        "设计", "制造工艺", "外购件", "外协件", "使用维护不当", "运输", "不明"]
    assert categories.name_of(store, "fault", "power") == "电源"
    assert set(categories.SUPPLIER_CAUSES) <= set(categories.names(store, "cause"))


def test_add_rename_retire_restore_keep_codes_and_audit(store):
    with store.transaction("tqm") as tx:
        new = categories.add_tx(tx, "fault", "  天线 ")
    assert new == {"code": "fault6", "name": "天线", "retired": False}
    with store.transaction("tqm") as tx:
        categories.rename_tx(tx, "fault", "fault6", "天线系统")
        categories.retire_tx(tx, "fault", "power")
    assert ("power", "电源") not in categories.choices(store, "fault")
    # a record already naming a retired entry keeps it in its select and still reads
    assert categories.choices(store, "fault", keep="power")[-1] == ("power", "电源（已停用）")
    assert categories.name_of(store, "fault", "fault6") == "天线系统"
    with pytest.raises(CategoryError):
        categories.check(store, "fault", "power")
    assert categories.check(store, "fault", "power", current="power") == "power"
    with store.transaction("tqm") as tx:
        categories.restore_tx(tx, "fault", "power")
    assert categories.check(store, "fault", "power") == "power"
    doc = next(store.scan(categories.TABLE))
    notes = [h.get("note", "") for h in store.history(categories.TABLE, doc["id"])]
    assert any("天线系统" in n for n in notes)


@pytest.mark.parametrize("kind, name, message", [
    ("cause", "", "请输入名称"),
    ("cause", "设计", "已有同名类别：设计"),
    ("cause", "长" * 31, "名称不能超过 30 个字"),
    ("colour", "红", "没有这种类别表"),
])
def test_refusals_name_the_problem(store, kind, name, message):
    with pytest.raises(CategoryError) as err:
        with store.transaction("tqm") as tx:
            categories.add_tx(tx, kind, name)
    assert message in str(err.value)
    assert list(store.scan(categories.TABLE)) == []  # nothing half-written
