"""In a real headless Chromium: log in, create a customer and a product, find them again.

Also checks that every page loads only from the app itself (no CDN) and that nothing on the
way breaks the Content-Security-Policy (no inline script or style).
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from records.catalog import customers, products
from tests.browser_support import login
from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.browser


def test_engineer_registers_customer_and_product(page, live_server):
    login(page, live_server, "engineer", PASSWORD)
    expect(page.get_by_role("button", name="退出")).to_be_visible()

    # a customer with one contact person
    page.goto("/customers/new")
    page.get_by_label("单位名称").fill("江南船舶制造有限公司")
    page.get_by_label("地址").fill("江苏省南通市港闸区 88 号")
    page.get_by_label("路程（公里）").fill("260")
    page.get_by_label("联系人姓名").first.fill("王工")
    page.get_by_label("联系人电话").first.fill("0513-12345678")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="已创建")).to_have_text("已创建顾客单位 江南船舶制造有限公司")
    expect(page.locator("main")).to_contain_text("王工")
    customer = customers.by_name(live_server.store, "江南船舶制造有限公司")
    assert customer and customer["contacts"][0]["phone"] == "0513-12345678"
    assert customer["distance_km"] == 260

    # a product delivered to it
    delivered = date.today() - timedelta(days=40)
    page.goto("/products/new")
    page.get_by_label("型号").fill("HX-300")
    page.get_by_label("产品名称").fill("船用控制柜")
    page.get_by_label("产品编号").fill("HX300-2026-0001")
    page.get_by_label("顾客单位").select_option(label="江南船舶制造有限公司")
    page.get_by_label("交付日期").fill(delivered.isoformat())
    page.get_by_label("质保期（月）").fill("24")
    page.get_by_label("可靠性产品").check()
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="已登记产品")).to_have_text("已登记产品 HX300-2026-0001")
    product = products.by_serial(live_server.store, "HX300-2026-0001")
    assert product and product["customer_id"] == customer["id"] and product["reliability"] is True

    # its warranty status on its own page
    status = products.warranty(product, date.today())
    assert status.in_warranty
    expect(page.locator("main")).to_contain_text(status.label)  # 质保期内（至 YYYY-MM-DD）
    assert re.search(r"/products/\d+$", page.url)

    # and in the product list, with the customer's name
    page.get_by_role("link", name="产品", exact=True).click()
    row = page.locator("tbody tr", has_text="HX300-2026-0001")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("江南船舶制造有限公司")
    expect(row).to_contain_text("在保")
    page.get_by_role("searchbox").fill("HX-300")
    with page.expect_navigation():
        page.get_by_role("button", name="搜索").click()
    expect(page.locator("tbody tr", has_text="HX300-2026-0001")).to_have_count(1)

    # only the app itself was asked for anything, and the CSP refused nothing
    watch = page.watch
    assert any(u.endswith(".js") for u in watch.requests), "Bootstrap's scripts were not loaded at all"
    assert any(u.endswith(".css") for u in watch.requests), "no stylesheet was loaded"
    assert watch.external_requests() == []
    assert watch.csp_violations() == []
    assert watch.bad_responses == []
    assert watch.errors() == []


def test_product_import_in_the_browser(page, live_server):
    customers.create_customer(live_server.store, {"name": "西北铁路局", "distance_km": 1500}, "test")
    login(page, live_server, "engineer", PASSWORD)
    page.goto("/products/")
    page.get_by_role("link", name="导入台账").click()
    header = "顾客单位,型号,产品名称,出厂编号,交付日期,质保期（月）,可靠性产品,备注\r\n"
    bad = header + "西北铁路局,TR-9,信号机,B-1,2024-03-15,24,是,\r\n不存在的单位,TR-9,信号机,B-2,2024-13-01,24,否,\r\n"
    page.get_by_label("产品台账文件").set_input_files(
        {"name": "台账.csv", "mimeType": "text/csv", "buffer": bad.encode("utf-8-sig")})
    with page.expect_navigation():
        page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#import-errors tbody tr")).to_have_count(2)
    expect(page.locator("#import-errors")).to_contain_text("不存在的单位")
    assert live_server.store.count(products.TABLE) == 0

    good = header + "西北铁路局,TR-9,信号机,B-1,2024-03-15,24,是,\r\n西北铁路局,TR-9,信号机,B-2,2024年3月16日,24,否,\r\n"
    page.get_by_label("产品台账文件").set_input_files(
        {"name": "台账.csv", "mimeType": "text/csv", "buffer": good.encode("gb18030")})
    with page.expect_navigation():
        page.get_by_role("button", name="上传并检查").click()
    expect(page.locator("#import-new tbody tr")).to_have_count(2)  # issue 15: a preview, then the confirmation
    with page.expect_navigation():
        page.get_by_role("button", name="只导入新产品").click()
    expect(page.get_by_role("alert").filter(has_text="导入")).to_have_text("已从 台账.csv 导入 2 个产品")
    expect(page.locator("tbody tr", has_text="西北铁路局")).to_have_count(2)

    page.goto("/products/import/")
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载导入模板").click()
    assert dl.value.suggested_filename == "产品台账导入模板.xlsx"

    watch = page.watch
    assert watch.external_requests() == []
    assert watch.csp_violations() == []
    assert watch.errors() == []


def test_the_watch_does_see_a_csp_violation(page, live_server):
    """The checks above are not vacuous: an inline style is refused and reported."""
    page.goto("/login")
    page.evaluate("""() => { const s = document.createElement('style');
                             s.textContent = 'body { color: red }'; document.head.appendChild(s); }""")
    page.wait_for_function("() => true")
    page.wait_for_timeout(200)
    assert page.watch.csp_violations(), page.watch.console
