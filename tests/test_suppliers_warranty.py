"""The warranty of a supplier's parts (3.1, GLOSSARY): months per supplier and part, counted from
our product's delivery date, or from the part's receipt into stock when issued as a spare."""
from __future__ import annotations

from datetime import date

import pytest

from records.materials import suppliers, warranty
from records.materials.warranty import within_warranty

D = date.fromisoformat


@pytest.mark.parametrize("months, start, failed, within, until", [
    (12, "2026-01-15", "2026-01-15", True, "2027-01-14"),   # the first day counts
    (12, "2026-01-15", "2027-01-14", True, "2027-01-14"),   # the last day counts
    (12, "2026-01-15", "2027-01-15", False, "2027-01-14"),  # the same date a year later is out
    (1, "2026-01-31", "2026-02-27", True, "2026-02-27"),    # 31 Jan + 1 month → 28 Feb, last day 27 Feb
    (1, "2026-01-31", "2026-02-28", False, "2026-02-27"),
    (24, "2024-02-29", "2026-02-27", True, "2026-02-27"),   # leap day start, clamped
    (6, "2026-03-01", "2026-02-28", False, "2026-08-31"),   # failed before the start: not within
    (36, "2025-06-01", "2028-05-31", True, "2028-05-31"),
])
def test_within_warranty(months, start, failed, within, until):
    assert within_warranty(months, D(start), D(failed)) == (within, D(until))


@pytest.mark.parametrize("basis, delivered, received, start", [
    (warranty.DELIVERY, "2025-01-10", "2024-12-01", "2025-01-10"),  # fitted in our product: its delivery
    (warranty.STOCK, "2025-01-10", "2026-03-02", "2026-03-02"),     # a spare from stock: its receipt
    (warranty.STOCK, "2025-01-10", None, None),                     # receipt unknown: no start
])
def test_start_of(basis, delivered, received, start):
    assert warranty.start_of(basis, D(delivered), D(received) if received else None) == (D(start) if start else None)


SUPPLIER = {"name": "华东电源", "warranties": warranty.normalise_rules([
    {"part_code": "PWR-24V", "part_name": "24V 电源", "months": "24"},
    {"part_code": "", "part_name": "风扇", "months": 6},
    {"part_code": "", "part_name": "", "months": 12},
])}


@pytest.mark.parametrize("code, text, months", [
    ("PWR-24V", "", 24), ("pwr-24v", "随便", 24),   # the code first, case-insensitively
    ("", "风扇", 6), ("X-1", "风扇", 6),              # else the name
    ("X-1", "电缆", 12), ("", "", 12),                # else the supplier's default
])
def test_months_for(code, text, months):
    assert warranty.months_for(SUPPLIER, code, text) == months


@pytest.mark.parametrize("rows, message", [
    ([{"part_code": "A", "months": "x"}], "整月数"),
    ([{"part_code": "A", "months": 0}], "1–240"),
    ([{"part_code": "A", "months": 3}, {"part_code": "a", "months": 4}], "重复"),
    ([{"months": 3}, {"months": 4}], "重复"),
])
def test_bad_rules_are_refused(rows, message):
    with pytest.raises(warranty.WarrantyError, match=message):
        warranty.normalise_rules(rows)


def test_assess_says_what_is_missing():
    with pytest.raises(warranty.WarrantyError) as exc:
        warranty.assess({"name": "无保修", "warranties": []}, "A", "", warranty.DELIVERY, D("2026-01-01"), D("2026-02-01"))
    assert exc.value.field == "part_code" and "未设定" in str(exc.value)
    got = warranty.assess(SUPPLIER, "PWR-24V", "", warranty.DELIVERY, D("2025-01-10"), D("2027-01-10"))
    assert got == {"months": 24, "basis": "delivery", "start": "2025-01-10", "until": "2027-01-09",
                   "failed_on": "2027-01-10", "within": False}


def test_supplier_pages_edit_for_tq_read_for_finance(app, auth, store):
    auth.login("engineer")
    resp = auth.client.post("/suppliers/new", data={
        "name": "精工结构件", "address": "宁波", "contacts-0-name": "周工", "contacts-0-phone": "0574-1",
        "warranties-0-part_name": "机箱", "warranties-0-months": "36", "active": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    saved = suppliers.all_suppliers(store)[0]
    assert saved["warranties"] == [{"part_code": "", "part_name": "机箱", "months": 36}]
    # a duplicate name is refused beside the field, the typed values kept
    resp = auth.client.post("/suppliers/new", data={"name": "精工结构件", "address": "别处"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "供应商已存在" in html and "别处" in html
    resp = auth.client.post(f"/suppliers/{saved['id']}/edit", data={
        "rev": saved["_rev"], "name": "精工结构件", "warranties-0-part_name": "机箱", "warranties-0-months": "300"})
    assert "1–240" in resp.get_data(as_text=True)
    auth.logout()
    auth.login("finance")
    assert "精工结构件" in auth.client.get("/suppliers/").get_data(as_text=True)
    assert "机箱" in auth.client.get(f"/suppliers/{saved['id']}").get_data(as_text=True)
    assert auth.client.get("/suppliers/new").status_code == 403
    auth.logout()
    auth.login("tech")
    assert auth.client.get("/suppliers/").status_code == 403
