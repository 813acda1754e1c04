"""The product ledger import takes the company's cumulative ledger (issue 15): a preview of the
new, unchanged and changed rows, then the new ones imported and, when asked, the changed ones
updated — all or nothing, audited; cases keep the warranty fixed at their intake (6.2.2)."""
from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import Workbook

from records.cases import vocab
from records.catalog import customers, product_import, products

URL = "/products/import/"
HEADER = ["顾客单位", "型号", "产品名称", "产品编号", "交付日期", "质保期（月）", "可靠性产品", "备注"]
NEAR, FAR = "某部队第一修理所", "西北某试验基地"  # tests/fixtures/catalog.py
# The app world's two products as the ledger lists them (unchanged), and two new ones.
LEDGER = [[NEAR, "JX-200", "电源控制箱", "IN-001", "2025-01-10", "36", "", ""],
          [FAR, "TX-9", "通信终端", "OUT-001", "2020-01-10", "12", "", ""],
          [FAR, "TX-9", "通信终端", "NEW-1", "2024-06-01", "24", "是", "二期"],
          [NEAR, "JX-300", "电源控制箱", "NEW-2", "2024-07-01", "24", "", ""]]


def csv_bytes(rows) -> bytes:
    return ("\r\n".join(",".join(str(c) for c in r) for r in [HEADER, *rows]) + "\r\n").encode("utf-8-sig")


def upload(client, data: bytes, filename: str = "台账.csv"):
    return client.post(URL, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def confirm(client, page: str, button: str = "import_new"):
    form = page[page.index('action="/products/import/confirm"'):]
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form[:form.index("</form>")]))
    return client.post("/products/import/confirm", data={**fields, button: "1"})


def counts(page: str) -> tuple[int, int, int]:
    return tuple(int(re.search(rf'id="count-{k}">(\d+)<', page).group(1)) for k in ("new", "unchanged", "changed"))


def changed_rows(page: str) -> dict[str, list[str]]:
    """serial -> the page's 「字段：原 → 新」 lines of the changed table."""
    body = page[page.index('id="import-changed"'):]
    body = body[:body.index("</table>")]
    rows = re.findall(r"<tr><td>\d+</td><td><a [^>]*>([^<]+)</a></td>\s*<td><ul[^>]*>(.*?)</ul>", body, re.S)
    return {s: [html.unescape(x) for x in re.findall(r"<li>(.*?)</li>", lis)] for s, lis in rows}


# --- the domain: how a row compares with the stored product ------------------------------------
@pytest.mark.parametrize("row, kind, fields", [
    (LEDGER[0], "unchanged", []),
    ([NEAR, "JX-200", "电源控制箱", "in-001", "2025-01-10", "36", "否", ""], "unchanged", []),  # same plate, other case
    ([NEAR, "JX-200", "电源控制箱", "IN-001", "2025-01-10", "48", "", ""], "changed", [("质保期（月）", "36", "48")]),
    ([FAR, "JX-200", "电源控制箱", "IN-001", "2025/1/11", "36", "是", "换单位"], "changed",
     [("顾客单位", NEAR, FAR), ("交付日期", "2025-01-10", "2025-01-11"), ("可靠性产品", "否", "是"),
      ("备注", "", "换单位")]),
    (LEDGER[2], "new", []),
])
def test_a_row_is_new_unchanged_or_changed(db, row, kind, fields):
    result = product_import.preview(db, "l.csv", csv_bytes([row]))
    assert result.ok and result.rows == 1
    got = {"new": result.new, "unchanged": result.unchanged, "changed": result.changed}
    assert [k for k, v in got.items() if v] == [kind]
    if kind == "changed":
        assert result.changed[0].fields == fields and result.changed[0].row == 2


def test_the_confirmation_refuses_a_preview_that_no_longer_holds(db):
    data = csv_bytes([LEDGER[2], [NEAR, "JX-200", "电源控制箱", "IN-001", "2025-01-10", "48", "", ""]])
    seen = product_import.preview(db, "l.csv", data)
    product = products.by_serial(db, "IN-001")
    products.update_product(db, product["id"], {**product, "remarks": "他人刚改"}, "engineer")
    with pytest.raises(product_import.ImportChanged):
        product_import.confirm(db, "l.csv", data, "manager", token=seen.token, update_changed=True)
    assert products.by_serial(db, "NEW-1") is None  # nothing at all
    assert products.by_serial(db, "IN-001")["warranty_months"] == 36


# --- the pages: the same ledger twice, then edited --------------------------------------------
def test_a_cumulative_ledger_twice_then_edited(client, auth, app_world, make_case):
    store = app_world.store
    auth.login("engineer")
    page = upload(client, csv_bytes(LEDGER)).get_data(as_text=True)
    assert counts(page) == (2, 2, 0) and "尚未导入任何数据" in page and store.count(products.TABLE) == 2
    resp = confirm(client, page)
    assert resp.status_code == 302 and "已从 台账.csv 导入 2 个产品" in client.get("/products/").get_data(as_text=True)
    assert products.by_serial(store, "NEW-1")["remarks"] == "二期"

    # The same ledger again (today: 「产品编号已存在」 on every row): nothing new, nothing to do.
    page = upload(client, csv_bytes(LEDGER)).get_data(as_text=True)
    assert "产品编号已存在" not in page and counts(page) == (0, 4, 0)
    assert "无需导入" in page and 'action="/products/import/confirm"' not in page

    # An undecided open case of IN-001, its warranty fixed at intake (in warranty).
    case = make_case()
    assert case["state"] == "awaiting_decision" and case["warranty"]["in_warranty"]
    before = store.get(vocab.TABLE, case["id"])["warranty"]

    edited = [list(r) for r in LEDGER] + [[FAR, "TX-9", "通信终端", "NEW-3", "2024-08-01", "12", "", ""]]
    edited[0][5] = "12"          # IN-001: 36 → 12 months (would be out of warranty today)
    edited[2][1] = "TX-9A"       # NEW-1: another model
    page = upload(client, csv_bytes(edited), "台账（新）.csv").get_data(as_text=True)
    assert counts(page) == (1, 2, 2)
    assert changed_rows(page) == {"IN-001": ["质保期（月）：36 → 12"], "NEW-1": ["型号：TX-9 → TX-9A"]}
    undecided = page[page.index('id="import-undecided"'):]
    assert f'href="/cases/{case["id"]}">{case["number"]}</a>' in undecided[:undecided.index("</div>")]

    # Only the new ones: NEW-3 in, the changed products untouched.
    resp = confirm(client, page, "import_new")
    assert resp.status_code == 302 and products.by_serial(store, "NEW-3") is not None
    assert products.by_serial(store, "IN-001")["warranty_months"] == 36

    # Then the changed ones too: one transaction, audited, the case's warranty unchanged.
    page = upload(client, csv_bytes(edited), "台账（新）.csv").get_data(as_text=True)
    assert counts(page) == (0, 3, 2)
    resp = confirm(client, page, "import_all")
    assert resp.status_code == 302
    assert "已从 台账（新）.csv 导入 0 个产品，更新 2 个产品" in client.get("/products/").get_data(as_text=True)
    in1, new1 = products.by_serial(store, "IN-001"), products.by_serial(store, "NEW-1")
    assert (in1["warranty_months"], new1["model"]) == (12, "TX-9A")
    last = [store.history(products.TABLE, p["id"])[-1] for p in (in1, new1)]
    assert len({e["ts"] for e in last}) == 1 and {e["actor"] for e in last} == {"engineer"}
    assert "产品台账导入" in last[0]["note"]
    assert store.get(vocab.TABLE, case["id"])["warranty"] == before  # 6.2.2: fixed at intake


def test_a_moved_store_shows_the_preview_again_and_writes_nothing(client, auth, app_world):
    store = app_world.store
    auth.login("manager")
    rows = [LEDGER[0][:5] + ["48", "", ""], LEDGER[2]]
    page = upload(client, csv_bytes(rows)).get_data(as_text=True)
    product = products.by_serial(store, "IN-001")
    products.update_product(store, product["id"], {**product, "name": "电源控制箱（改）"}, "engineer")
    resp = confirm(client, page, "import_all")
    again = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "请重新核对" in again and counts(again) == (1, 0, 1)
    assert products.by_serial(store, "NEW-1") is None and products.by_serial(store, "IN-001")["warranty_months"] == 36


def test_the_confirmation_reads_only_the_kept_file(client, auth, app_world):
    auth.login("engineer")
    resp = client.post("/products/import/confirm", data={"upload": "0" * 64, "filename": "x.csv", "token": "1" * 64,
                                                         "import_new": "1"})
    assert resp.status_code == 302
    assert "上传的文件已失效" in client.get(URL).get_data(as_text=True)
    resp = client.post("/products/import/confirm", data={"upload": "../etc", "token": "1" * 64, "import_new": "1"})
    assert resp.status_code == 302 and app_world.store.count(products.TABLE) == 2


def test_a_title_row_keeps_excels_row_numbers(client, auth, app_world):
    wb = Workbook()
    ws = wb.active
    ws.append(["XX公司产品台账（累计）"])
    ws.append([])
    ws.append(HEADER)                      # row 3
    ws.append(LEDGER[2])                   # row 4
    ws.append([])                          # row 5: blank, skipped
    ws.append([NEAR, "JX-1", "箱", "B-1", "2024-13-01", "24", "", ""])  # row 6: a bad date
    buf = io.BytesIO()
    wb.save(buf)
    auth.login("engineer")
    page = upload(client, buf.getvalue(), "台账.xlsx").get_data(as_text=True)
    body = page[page.index('id="import-errors"'):]
    assert re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td>", body) == [("6", "交付日期")]
    assert "表头在第 3 行" in page
    assert app_world.store.count(products.TABLE) == 2


def test_an_unknown_customer_is_an_error_until_it_exists(db):
    data = csv_bytes([["新单位", "M", "N", "S-9", "2024-01-02", "12", "", ""]])
    assert not product_import.preview(db, "l.csv", data).ok
    customers.create_customer(db, {"name": "新单位", "distance_km": 5}, "t")
    assert [p["serial_no"] for p in product_import.import_products(db, "l.csv", data, "t").imported] == ["S-9"]
