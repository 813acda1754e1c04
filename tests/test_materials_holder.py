"""Whose kit a case's part line posts to (6.2.7; records.materials.stock.holder): with two
technicians sent, each line comes from the kit that holds it, never a false shortfall."""
from __future__ import annotations

import pytest

from records.materials import parts, stock


@pytest.mark.parametrize("kits, qty, expected", [
    ({"tech": 2, "tech2": 0}, 1, "tech"),
    ({"tech": 0, "tech2": 2}, 2, "tech2"),    # the second technician carried it
    ({"tech": 1, "tech2": 3}, 2, "tech2"),    # the one holding the whole quantity
    ({"tech": 1, "tech2": 0}, 2, "tech"),     # some is better than none: the rest is a shortfall
    ({"tech": 0, "tech2": 0}, 1, "tech"),     # nobody: the first sent (a 库存差异)
])
def test_the_kit_holding_the_part(store, kits, qty, expected):
    with store.transaction("engineer") as tx:
        parts.insert_tx(tx, {"code": "PM-24V", "name": "电源模块", "unit": "件", "source": "bought_in"})
        stock.receipt_tx(tx, "PM-24V", 10, "engineer")
        for user, n in kits.items():
            if n:
                stock.issue_tx(tx, "PM-24V", n, user, "engineer")
    assert stock.holder(store, ["tech", "tech2"], "PM-24V", qty) == expected


def test_a_returned_code_not_in_the_catalogue_makes_no_stock(store):
    with store.transaction("engineer") as tx:
        odd = stock.return_tx(tx, 1, "tech", [{"part_code": "NO-SUCH", "qty": 2}], "engineer")
    assert odd[0]["part_code"] == "NO-SUCH" and odd[0]["discrepancy_id"]
    assert stock.balance(store, stock.STORE, "NO-SUCH") == 0
    assert stock.discrepancies(store)[0]["kind"] == "return_unknown"
