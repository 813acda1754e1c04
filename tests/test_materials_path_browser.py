"""Issue 16's browser path (3.1, 6.2.5, 6.2.7), as the users do it in headless Chromium at 1366 px:
技质部 issues two bought-in parts to the technician's kit from the dispatched case's page (6.2.5);
the technician lists what comes back at the report (one unused, one faulty removed part); 技质部
receives them (the unused one back into the store, the faulty one to inspection, 6.2.7) and
inspects the faulty part: cause category 外购件 (3.1). From the inspection 技质部 raises a claim
against the part's supplier (prefilled from the inspection and the catalogue), sends it with the
notice (已发出), records the supplier's reply (供应商答复); 财务部 records a first amount
received (部分追回), and the claim page shows the state and the amount recovered.

Prepared through the domain on ``live_server.store`` (the steps other tests click): the supplier,
the part in the catalogue and 5 units received into the store; the case taken to 已出发
(records.cases.workflow); after the issue, arrival, completion and return, with the signed
技术服务单 archived as a tablet version (so the report form comes prefilled from it).
On every page: nothing scrolls sideways, no CSP violation, no console error.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from records.calendar.workdays import WorkCalendar
from records.cases import workflow
from records.cases.conduct import CHECKLIST as CONDUCT_CHECKLIST
from records.materials import claims, inspections, parts, stock, suppliers
from tests.browser_support import login, watched_page
from tests.fixtures.calendar import TZ
from tests.fixtures.service_forms import RATED
from tests.fixtures.users import PASSWORD, TEST_USERS
from tests.test_ui_pages_browser import ALLOWED_SCROLLERS, OVERFLOW_JS

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
CODE = "PWR-24V"
CLAIMED = {"parts": ("更换的电源模块", "820"), "labour": ("现场维修人工", "600"), "travel": ("往返差旅", "260")}
RECOVERED = "820.00"  # the part only, of 1680.00
RECEIVED = 5  # units in the store before the issue
ISSUED = 2


def _user(name: str) -> dict:
    return {"username": name, "roles": TEST_USERS[name]}


def prepare(store, customer_id: int, now: datetime) -> dict:
    """The supplier, the bought-in part with 5 units in the store, and the case dispatched (已出发)."""
    with store.transaction("engineer") as tx:
        maker = suppliers.insert_tx(tx, {"name": "华源电源有限公司", "address": "江苏省无锡市",
                                         "contacts": [{"name": "王经理", "phone": "0510-5550123"}],
                                         "warranties": [{"part_code": CODE, "part_name": "", "months": 36}]})
        parts.insert_tx(tx, {"code": CODE, "name": "电源模块", "spec": "24V 10A", "unit": "件", "source": "bought_in",
                             "supplier_id": maker["id"], "min_stock": 1})
        stock.receipt_tx(tx, CODE, RECEIVED, "engineer", now - timedelta(days=30), unit_cost="820")
    cal, ago = WorkCalendar.default(), lambda hours: now - timedelta(hours=hours)  # noqa: E731
    call = {"type": "service_request", "customer_id": customer_id, "product_serial": "IN-001",
            "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone",
            "description": "电源控制箱无输出", "received_at": ago(8)}
    c = workflow.intake(store, cal, call, _user("receiver"), now=ago(8))
    c = workflow.perform(store, cal, c["id"], "decide", _user("engineer"),
                         {"solution": "onsite_free", "analysis": "电源模块损坏"}, now=ago(7))
    return workflow.perform(store, cal, c["id"], "dispatch", _user("engineer"),
                            {"technicians": ["tech"], "plan": "更换电源模块", "precautions": "带备件",
                             "departed_at": ago(6.5)}, now=ago(6.5))


def back_from_site(store, case: dict, now: datetime, archive_signed_form) -> dict:
    """Arrived, completed, its 技术服务单 signed on the tablet (archived with its fields), returned:
    待书面汇报 (6.2.7)."""
    cal, ago = WorkCalendar.default(), lambda hours: now - timedelta(hours=hours)  # noqa: E731

    def act(action, user, hours, **data):
        return workflow.perform(store, cal, case["id"], action, _user(user), data, now=ago(hours))

    act("arrive", "tech", 5, arrived_at=ago(5.2))
    c = act("complete", "tech", 4, work_done="更换电源模块，全面检测正常", completed_at=ago(4.2), form_path="paper")
    fields = {"arrived_at": ago(5.2).strftime("%Y-%m-%d %H:%M"), "completed_at": ago(4.2).strftime("%Y-%m-%d %H:%M"),
              "fault_found": "电源模块无输出", "cause": "电源模块内部过流保护元件损坏", "work_done": "更换电源模块，全面检测正常",
              "charge": "free", "amount": "", "parts": [{"name": "电源模块", "spec": "24V 10A", "qty": 1, "note": ""}],
              "ratings": dict(RATED), "remarks": "服务及时", "customer_signer": "刘参谋"}
    archive_signed_form(store, c, kind="tablet", fields=fields, reason="平板签署")
    act("approve_return", "engineer", 3.8)
    return act("record_return", "tech", 2, returned_at=ago(2.2))


def supplier_id(store) -> int:
    return parts.get_by_code(store, CODE)["supplier_id"]


def fits(page, step: str) -> None:
    problems = page.evaluate(OVERFLOW_JS, list(ALLOWED_SCROLLERS))
    assert not problems, f"{step} ({WIDTH} px): " + "; ".join(problems)


def clean(page) -> None:
    assert page.watch.errors() == [] and page.watch.csp_violations() == []


def go(page, click) -> None:
    with page.expect_navigation():
        click()


def test_issue_return_inspect_claim_recover(browser, live_server, near_and_far, archive_signed_form):
    store = live_server.store
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    made = near_and_far(store)
    case = prepare(store, made["near"]["id"], now)
    assert case["state"] == "on_route"
    url = f"/cases/{case['id']}"

    with watched_page(browser, live_server, viewport={"width": WIDTH, "height": HEIGHT}) as page:
        # 1. 技质部 issues 2 units from the store into the technician's kit, from the case page (6.2.5)
        login(page, live_server, "engineer", PASSWORD)
        page.goto(url)
        go(page, lambda: page.locator("#issue-parts").click())
        expect(page.locator("h1")).to_contain_text("发放物料到技术人员工具包")
        page.get_by_label("技术人员", exact=True).select_option("tech")
        page.get_by_label("物料 1", exact=True).select_option(CODE)
        page.get_by_label("数量 1", exact=True).fill(str(ISSUED))
        fits(page, "发放物料")
        go(page, lambda: page.get_by_role("button", name="发放到工具包").click())
        expect(page.locator(".alert-success")).to_contain_text("已发放到工具包")
        assert page.url.endswith(url)
        assert stock.balance(store, stock.STORE, CODE) == RECEIVED - ISSUED
        page.goto("/materials/kit/tech")
        row = page.locator("#kit tbody tr", has_text=CODE)
        expect(row.locator("td[data-label='数量']")).to_have_text(f"{ISSUED} 件")
        fits(page, "工具包")
        clean(page)

        # 2. the technician, back from site, lists the returned materials at the report (6.2.7)
        back_from_site(store, case, now, archive_signed_form)
        login(page, live_server, "tech", PASSWORD)
        page.goto(url)
        box = page.locator("#action-report")
        expect(page.locator("#report-form-version")).to_contain_text("第 1 版")
        box.get_by_label("书面汇报").fill("电源模块损坏，已更换；带回未用备件一件、拆下的损坏模块一件。")
        for key in CONDUCT_CHECKLIST:  # 7.1–7.3: each answered 是
            box.locator(f"#report-{key}-0").check()
        box.get_by_label("全面检测、检查的结果").fill("全面检测正常")
        box.get_by_label("日期 1", exact=True).fill(now.date().isoformat())
        box.get_by_label("类别 1", exact=True).select_option(label="交通")
        box.get_by_label("费用内容 1", exact=True).fill("往返车费")
        box.get_by_label("金额（元） 1", exact=True).fill("260")
        for n, (what, condition) in enumerate((("电源模块", "未使用"), ("电源模块（拆下）", "损坏品")), start=1):
            box.get_by_label(f"备件编码（目录内备件） {n}", exact=True).fill(CODE)
            box.get_by_label(f"返回物料 {n}", exact=True).fill(what)
            box.get_by_label(f"数量 {n}", exact=True).fill("1")
            box.get_by_label(f"状态 {n}", exact=True).select_option(label=condition)
        fits(page, "书面汇报（已填写）")
        go(page, lambda: box.get_by_role("button", name="提交书面汇报").click())
        expect(page.locator(".alert-success")).to_contain_text("已完成")
        reported = store.get("cases", case["id"])
        assert reported["state"] == "awaiting_confirmation"
        assert [(m["part_code"], m["condition"]) for m in reported["returned_materials"]] == [
            (CODE, "unused"), (CODE, "damaged")]
        fits(page, "案例（已汇报）")
        clean(page)

        # 3. 技质部 receives them: the unused one back into the store, the faulty one to inspection
        login(page, live_server, "engineer", PASSWORD)
        page.goto(f"/returns/case/{case['id']}")
        expect(page.locator("#handin-status")).to_contain_text("待交齐")
        page.get_by_label("检查情况 1", exact=True).fill("外观完好，包装未拆，可再用")
        page.get_by_label("检查情况 2", exact=True).fill("外壳有烧蚀痕迹")
        fits(page, "接收返回物料")
        go(page, lambda: page.get_by_role("button", name="确认接收").click())
        expect(page.locator(".alert-success")).to_contain_text("已接收")
        expect(page.locator("#handin-status")).to_contain_text("书面汇报已交齐")
        assert stock.balance(store, stock.STORE, CODE) == RECEIVED - ISSUED + 1
        assert stock.balance(store, stock.kit_of("tech"), CODE) == ISSUED - 1
        [pending] = inspections.pending(store)
        materials = page.locator("#materials")
        expect(materials.locator("tbody tr").nth(0)).to_contain_text("检查后退回库房")
        fits(page, "返回物料（已接收）")

        # 4. ... and inspect the faulty part: 确认故障, cause category 外购件 (3.1)
        go(page, lambda: materials.get_by_role("link", name="待检验").click())
        assert page.url.endswith(f"/returns/inspections/{pending['id']}")
        page.get_by_label("检验结果", exact=True).select_option(label="确认故障")
        page.get_by_label("故障原因", exact=True).fill("电源模块内部过流保护元件击穿，属元件质量问题")
        page.get_by_label("原因类别", exact=True).select_option(label="外购件")
        page.get_by_label("零部件序列号", exact=True).fill("HY24-2026-0815")
        fits(page, "返回物料检验")
        go(page, lambda: page.get_by_role("button", name="保存检验结果").click())
        expect(page.locator(".alert-success")).to_contain_text("检验结果已保存")
        expect(page.locator("#inspection-state")).to_have_text("已检验")
        expect(page.locator("#cause-category")).to_have_text("外购件")
        fits(page, "返回物料检验（已检验）")
        clean(page)

        # 5. a claim against the part's supplier, from the inspection (3.1): drafted, sent, answered
        go(page, lambda: page.locator("#supplier-claim-link").click())
        form = page.locator("#claim-form")
        expect(form.get_by_label("供应商", exact=True)).to_have_value(str(supplier_id(store)))
        expect(form.get_by_label("服务案例编号", exact=True)).to_have_value(case["number"])
        expect(form.get_by_label("检验记录编号（可选）")).to_have_value(str(pending["id"]))
        expect(form.get_by_label("零部件代号", exact=True)).to_have_value(CODE)
        expect(form.get_by_label("原因类别", exact=True)).to_have_value("bought_in")
        expect(form.get_by_label("故障描述", exact=True)).to_contain_text("过流保护元件击穿")
        for n, (kind, (text, amount)) in enumerate(CLAIMED.items()):
            form.get_by_label("类别", exact=True).nth(n).select_option(kind)
            form.get_by_label("说明", exact=True).nth(n).fill(text)
            form.get_by_label("金额（元）", exact=True).nth(n).fill(amount)
        fits(page, "起草供应商索赔")
        go(page, lambda: form.get_by_role("button", name="保存草稿").click())
        expect(page.locator(".alert-success")).to_contain_text("已起草索赔")
        expect(page.locator("#claim-state")).to_have_text("起草")
        expect(page.locator("#claim-amount")).to_have_text("1680.00")
        fits(page, "供应商索赔（起草）")
        claim_url = page.url
        go(page, lambda: page.locator("#step-send").get_by_role("button", name="发出通知和索赔（归档通知函）").click())
        expect(page.locator("#claim-state")).to_have_text("已发出")
        expect(page.locator("#reply-due")).not_to_be_empty()
        box = page.locator("#step-reply")
        box.get_by_label("同意赔偿（全部或部分）").check()
        box.get_by_label("答复内容", exact=True).fill("同意赔偿电源模块，人工及差旅费用另行协商")
        fits(page, "供应商索赔（已发出）")
        go(page, lambda: box.get_by_role("button", name="记录答复").click())
        expect(page.locator(".alert-success")).to_contain_text("已记录供应商答复")
        expect(page.locator("#claim-state")).to_have_text("供应商答复")
        expect(page.locator("#step-recover")).to_have_count(0)  # 财务部 records the money
        clean(page)

        # 6. 财务部 records the first amount received: 部分追回 (the amount and its date, for 9.4)
        login(page, live_server, "finance", PASSWORD)
        page.goto(claim_url)
        box = page.locator("#step-recover")
        box.get_by_label("追回金额（元）").fill(RECOVERED)
        box.get_by_label("说明（可选）").fill("供应商电汇：电源模块款")
        fits(page, "供应商索赔（记录追回款）")
        go(page, lambda: box.get_by_role("button", name="记录追回款").click())
        expect(page.locator(".alert-success")).to_contain_text("已记录追回款")
        expect(page.locator("#claim-state")).to_have_text("部分追回")
        expect(page.locator("#recovered-total")).to_have_text(RECOVERED)
        expect(page.locator("#claim-recoveries tbody tr")).to_have_count(1)
        fits(page, "供应商索赔（部分追回）")
        clean(page)
        assert page.watch.external_requests() == []
    assert store.get("inspections", pending["id"])["cause_category"] == "bought_in"
    [claim] = store.scan(claims.TABLE)
    assert (claim["state"], claim["inspection_id"], claim["case_id"]) == ("partly_recovered", pending["id"], case["id"])
    today = datetime.now(TZ).date()
    assert claims.recoveries(store, today, today) == [{"claim_id": claim["id"], "case_id": case["id"],
                                                      "supplier_id": supplier_id(store), "amount": Decimal(RECOVERED),
                                                      "date": today}]
