"""技术通报: the affected products (by model, serial range, delivery dates, pasted serials) against a
hand-made ledger, and every customer holding one (records/technical_notices/selection.py)."""
from __future__ import annotations

import pytest

from records.catalog import customers, products
from records.core.store import Store
from records.technical_notices import selection

# (customer, serial, model, delivered): a hand-made ledger
LEDGER = (("甲", "JX-0098", "JX-200", "2024-03-01"), ("甲", "JX-0099", "JX-200", "2024-03-02"),
          ("乙", "JX-0100", "JX-200", "2024-05-01"), ("乙", "JX-101", "JX-200", "2024-06-01"),
          ("丙", "JX-0102", "JX-200", "2025-01-15"), ("丙", "jx-0103", "JX-200", "2025-02-01"),
          ("丁", "KX-0100", "JX-200", "2024-05-01"), ("丁", "JX-0100A", "JX-200", "2024-05-01"),
          ("甲", "JX-0100-B", "TX-9", "2024-05-01"), ("戊", "JX200-9", "JX-200", "2023-01-01"))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("ledger") / "data")
    ids = {}
    for who, serial, model, delivered in LEDGER:
        if who not in ids:
            ids[who] = customers.create_customer(store, {"name": f"单位{who}", "distance_km": 10}, "t")["id"]
        products.create_product(store, {"model": model, "name": "设备", "serial_no": serial, "customer_id": ids[who],
                                        "delivery_date": delivered, "warranty_months": 12}, "t")
    return store


@pytest.mark.parametrize("serial, first, last, inside", [
    ("JX-0100", "JX-0099", "JX-0101", True),
    ("JX-0099", "JX-0099", "JX-0101", True),          # inclusive at both ends
    ("JX-0101", "JX-0099", "JX-0101", True),
    ("JX-0102", "JX-0099", "JX-0101", False),
    ("JX-101", "JX-0099", "JX-0101", True),           # tail widths differ: compared as numbers
    ("JX-00100", "JX-99", "JX-101", True),            # leading zeros
    ("jx-0100", "JX-0099", "JX-0101", True),          # case aside, as the ledger's serial_key
    ("KX-0100", "JX-0099", "JX-0101", False),         # different prefix
    ("JX-0100A", "JX-0099", "JX-0101", False),        # no numeric tail
    ("JX200-9", "JX200-1", "JX200-10", True),         # digits inside the prefix
    ("JX2009", "JX200-1", "JX200-10", False),
])
def test_serial_range(serial, first, last, inside):
    assert selection.in_range(serial, first, last) is inside


@pytest.mark.parametrize("data, field", [
    ({"mode": "range", "serial_from": "", "serial_to": "JX-1"}, "serial_from"),
    ({"mode": "range", "serial_from": "JX-A", "serial_to": "JX-1"}, "serial_from"),
    ({"mode": "range", "serial_from": "JX-1", "serial_to": "KX-2"}, "serial_to"),
    ({"mode": "range", "serial_from": "JX-9", "serial_to": "JX-2"}, "serial_to"),
    ({"mode": "delivery"}, "delivered_from"),
    ({"mode": "delivery", "delivered_from": "2025-02-30"}, "delivered_from"),
    ({"mode": "delivery", "delivered_from": "2025-02-01", "delivered_to": "2025-01-01"}, "delivered_to"),
    ({"mode": "list", "serials": " ,、 "}, "serials"),
    ({"mode": "nope"}, "mode"),
])
def test_bad_selection_names_the_field(data, field):
    with pytest.raises(selection.SelectionError) as err:
        selection.clean(data)
    assert err.value.field == field


@pytest.mark.parametrize("model, data, serials, holders, not_found, other", [
    ("JX-200", {"mode": "model"},
     ["JX-0098", "JX-0099", "JX-0100", "JX-0100A", "JX-0102", "jx-0103", "JX-101", "JX200-9", "KX-0100"],
     {"单位甲", "单位乙", "单位丙", "单位丁", "单位戊"}, [], []),
    ("jx-200", {"mode": "range", "serial_from": "JX-0099", "serial_to": "JX-0102"},
     ["JX-0099", "JX-0100", "JX-0102", "JX-101"], {"单位甲", "单位乙", "单位丙"}, [], []),
    ("JX-200", {"mode": "delivery", "delivered_from": "2024-05-01", "delivered_to": "2024-06-01"},
     ["JX-0100", "JX-0100A", "JX-101", "KX-0100"], {"单位乙", "单位丁"}, [], []),
    ("JX-200", {"mode": "delivery", "delivered_from": "2025-01-01"}, ["JX-0102", "jx-0103"], {"单位丙"}, [], []),
    ("JX-200", {"mode": "list", "serials": "JX-0098\njx-0102、JX-9999；JX-0100-B, JX-0098"},
     ["JX-0098", "JX-0102"], {"单位甲", "单位丙"}, ["JX-9999"], ["JX-0100-B"]),
    ("TX-9", {"mode": "model"}, ["JX-0100-B"], {"单位甲"}, [], []),
])
def test_selection_against_the_ledger(ledger, model, data, serials, holders, not_found, other):
    found = selection.select(ledger, model, selection.clean(data))
    assert [p["serial_no"] for p in found.products] == serials
    assert set(found.customers.values()) == holders
    assert found.not_found == not_found
    assert found.other_model == other
