"""Issue 14's exports of the list pages: every row matching the page's filters (not only the page
shown), with the page's columns, as .xlsx and as CSV (UTF-8 with a BOM), read back with openpyxl
and csv; a formula-looking text stays text."""
from __future__ import annotations

import codecs
import csv
import io

import pytest
from openpyxl import load_workbook

from records.catalog import customers


def read_back(resp) -> list[list]:
    """The rows of an export response (.xlsx or .csv), header first; CSV fields as text."""
    assert resp.status_code == 200, resp.data[:300]
    data = resp.get_data()
    if resp.mimetype.endswith("sheet"):
        return [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def many_customers(app_world):
    """60 more customers (more than a page of 50), one with a name that looks like a formula."""
    s = app_world.store
    for i in range(60):
        customers.create_customer(s, {"name": f"导出测试单位{i:02d}", "distance_km": 10 + i}, "t")
    customers.create_customer(s, {"name": "=HYPERLINK(\"http://evil\")", "distance_km": 5}, "t")
    return s


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_customers_export_every_matching_row_not_only_the_page(client, auth, many_customers, fmt):
    auth.login("engineer")
    page = client.get("/customers/?q=导出测试")
    assert "导出 Excel" in page.text and "export=xlsx" in page.text and "q=" in page.text
    rows = read_back(client.get(f"/customers/?q=导出测试&page=2&export={fmt}"))
    assert rows[0] == ["单位名称", "地址", "路程（公里）", "联系人"]
    assert len(rows) == 61 and rows[1][0] == "导出测试单位00" and rows[-1][0] == "导出测试单位59"
    assert rows[1][2] == (10 if fmt == "xlsx" else "10")  # a number stays a number in the workbook
    evil = read_back(client.get(f"/customers/?q=hyperlink&export={fmt}"))[1][0]
    assert evil == ('=HYPERLINK("http://evil")' if fmt == "xlsx" else '\'=HYPERLINK("http://evil")')


def test_products_export_with_warranty(client, auth, app_world):
    auth.login("receiver")
    rows = read_back(client.get("/products/?export=xlsx"))
    assert rows[0] == ["产品编号", "型号", "名称", "顾客单位", "交付日期", "质保", "质保至", "可靠性产品"]
    assert [r[0] for r in rows[1:]] == ["IN-001", "OUT-001"]
    assert rows[1][3] == "某部队第一修理所" and rows[2][5] == "过保"


def test_case_list_export_follows_its_filters(client, auth, make_case):
    made = [make_case() for _ in range(3)]
    auth.login("engineer")
    rows = read_back(client.get("/cases/?export=csv"))
    assert rows[0] == ["编号", "类型", "状态", "顾客单位", "产品编号", "来电人", "收到时间", "下一期限", "期限状态"]
    assert sorted(r[0] for r in rows[1:]) == sorted(c["number"] for c in made)
    assert rows[1][3] == "某部队第一修理所" and "6.2.2" not in rows[1][7] and rows[1][7]
    assert read_back(client.get("/cases/?q=没有这个词&export=xlsx")) == [rows[0]]
    auth.logout()
    auth.login("receiver")
    assert client.get("/cases/?export=xlsx").status_code == 403  # the list's own rule holds


def test_followups_export_needs_the_list_role(client, auth, app_world):
    auth.login("engineer")
    rows = read_back(client.get("/followups/?export=xlsx"))
    assert rows[0][:3] == ["顾客单位", "类别", "周期"]
    auth.logout()
    auth.login("sales")
    assert client.get("/followups/?export=csv").status_code == 403
