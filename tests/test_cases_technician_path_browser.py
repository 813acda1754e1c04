"""The technician's path on site (issue 12), in headless Chromium at the three widths with touch
emulation (a tablet on 768×1024 and 1024×768, a desktop with a touch screen on 1366×768):
arrive → sign the 技术服务单 on the tablet (6.2.6) → 维修完毕 from the signed version → return →
the report (6.2.7) prefilled from it, then 技质部's confirmation card (6.2.8).

One record (6.2.9): taken as signed, the confirmation shows no difference block; on one width a
prefilled value is changed at the report, which is refused without a reason and accepted with
one, and the manager then sees the difference. At every step nothing scrolls sideways (neither
the page nor a box inside it), and the 服务性质, rating and checklist segments are touch targets ≥ 44 px.

One server for the module, one browser; the steps before the technician's part (intake, 技质部's
decision, dispatch) are seeded through ``records.cases.workflow``.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app import create_app
from records.calendar.workdays import WorkCalendar
from records.cases import workflow
from records.cases.conduct import CHECKLIST as CONDUCT_CHECKLIST
from records.core.store import Store
from tests.browser_support import LiveServer, draw, login, watched_page
from tests.fixtures.calendar import TZ
from tests.fixtures.users import PASSWORD, TEST_USERS
from tests.test_ui_pages_browser import ALLOWED_SCROLLERS, AXE_WIDTH, OVERFLOW_JS

pytestmark = pytest.mark.browser

MIN = 44  # px: the smallest touch target (WCAG 2.5.5)
WIDTHS = ((768, 1024), (1024, 768), (1366, 768))
CHANGED_AT = 1366  # the width where a prefilled value is changed at the report (kept to one: time)
LOCAL = "%Y-%m-%dT%H:%M"
NAVIGATION_MS = 60_000  # archiving the tablet form makes its PDF (WeasyPrint): slow on a loaded machine


def _user(name: str) -> dict:
    return {"username": name, "roles": TEST_USERS[name]}


@pytest.fixture(scope="module")
def path_server(seeded_dir, tmp_path_factory, near_and_far):
    """The app on a copy of the seeded folder with one dispatched case (已出发) per width."""
    data_dir = tmp_path_factory.mktemp("technician_path") / "data"
    shutil.copytree(seeded_dir, data_dir)
    store, cal = Store(data_dir), WorkCalendar.default()
    made = near_and_far(store)
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    cases = {}
    for width, _ in WIDTHS:
        data = {"type": "service_request", "customer_id": made["near"]["id"], "product_serial": "IN-001",
                "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone",
                "description": f"电源控制箱无输出（{width}）", "received_at": now - timedelta(hours=8)}
        case = workflow.intake(store, cal, data, _user("receiver"), now=now - timedelta(hours=8))
        case = workflow.perform(store, cal, case["id"], "decide", _user("engineer"),
                                {"solution": "onsite_free", "analysis": "电源模块损坏"}, now=now - timedelta(hours=7))
        case = workflow.perform(store, cal, case["id"], "dispatch", _user("engineer"),
                                {"technicians": ["tech"], "plan": "更换电源模块", "precautions": "带备件",
                                 "departed_at": now - timedelta(hours=6)}, now=now - timedelta(hours=6, minutes=30))
        cases[width] = case["id"]
    server = LiveServer(create_app({"DATA_DIR": data_dir})).start()
    try:
        yield server, cases, now
    finally:
        server.stop()


def fits(page, step: str) -> None:
    """Nothing scrolls sideways: neither the page nor a box inside it."""
    problems = page.evaluate(OVERFLOW_JS, list(ALLOWED_SCROLLERS))
    assert not problems, f"{step} ({page.viewport_size['width']} px): " + "; ".join(problems)


def heights(page, selector: str) -> list[float]:
    boxes = [el.bounding_box() for el in page.locator(selector).all()]
    assert boxes, f"nothing matches {selector}"
    return [round(b["height"], 1) for b in boxes]


def submit(page, action: str, button: str) -> None:
    box = page.locator(f"#action-{action}")
    with page.expect_navigation():
        box.get_by_role("button", name=button).tap()
    expect(page.locator(".alert-success")).to_contain_text("已完成")


def sign_on_tablet(page, case_id: int, now: datetime) -> None:
    page.goto(f"/forms/case/{case_id}/tablet")
    fits(page, "平板签署")
    assert min(heights(page, "#charge-segments .segment")) >= MIN  # 服务性质: segmented buttons
    assert min(heights(page, "#tablet-form .segmented .segment")) >= MIN
    expect(page.locator("#charge-0")).to_be_checked()  # 免费, preset from the decision
    expect(page.locator("#arrived_at")).to_have_value((now - timedelta(hours=3)).strftime(LOCAL))
    page.fill("#completed_at", (now - timedelta(minutes=20)).strftime(LOCAL))
    page.fill("#fault_found", "电源模块输出电压为零")
    page.fill("#cause", "过流保护元件损坏")
    page.fill("#work_done", "更换电源模块，通电测试两小时正常")
    page.fill("#parts-0-name", "电源模块")
    page.fill("#parts-0-qty", "1")
    page.locator("#charge-segments .segment", has_text="免费").tap()
    for key, rating in (("attitude", "满意"), ("skill", "满意"), ("timeliness", "基本满意"), ("overall", "满意")):
        page.locator(f"#{key}-segments .segment", has_text=rating).first.tap()
    expect(page.locator("#timeliness-1")).to_be_checked()
    page.fill("#remarks", "服务及时")
    page.fill("#customer_signer", "陈工")
    draw(page, "#customer-pad", [(0.1, 0.7), (0.3, 0.2), (0.5, 0.75), (0.7, 0.25), (0.9, 0.6)])
    draw(page, "#technician-pad", [(0.2, 0.5), (0.5, 0.3), (0.8, 0.6)])
    fits(page, "平板签署（已填写）")
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").tap()
    expect(page.locator(".alert-success")).to_contain_text("已生成并归档")
    fits(page, "技术服务单归档")


def fill_report(box, today: str) -> None:
    """What the signed form does not hold: the report, the 7.x checklist, one dated expense line."""
    box.get_by_label("书面汇报").fill("故障系电源模块损坏，已更换，运行正常。")
    for key in CONDUCT_CHECKLIST:  # 7.1–7.3: each answered 是
        box.locator(f"#report-{key}-0").check()
    box.get_by_label("全面检测、检查的结果").fill("全面检测正常")
    box.get_by_label("日期 1").fill(today)
    box.get_by_label("类别 1").select_option(label="交通")
    box.get_by_label("费用内容 1").fill("往返车费")
    box.get_by_label("金额（元） 1").fill("260")


@pytest.mark.parametrize("size", WIDTHS, ids=[f"{w}x{h}" for w, h in WIDTHS])
def test_technician_path_one_record(size, browser, path_server):
    server, cases, now = path_server
    width, height = size
    case_id, url = cases[width], f"/cases/{cases[width]}"
    tablet = width < 1366
    with watched_page(browser, server, viewport={"width": width, "height": height}, has_touch=True,
                      is_mobile=tablet) as page:
        page.set_default_navigation_timeout(NAVIGATION_MS)
        login(page, server, "tech", PASSWORD)
        page.goto(url)
        expect(page.locator("#state-label")).to_contain_text("已出发")
        fits(page, "案例（已出发）")
        page.locator("#action-arrive").get_by_label("到达现场时间").fill((now - timedelta(hours=3)).strftime(LOCAL))
        submit(page, "arrive", "记录到达")
        fits(page, "案例（已到达）")

        sign_on_tablet(page, case_id, now)

        page.goto(url)
        box = page.locator("#action-complete")
        expect(box.locator("#complete-signed")).to_contain_text("第 1 版")
        expect(box.get_by_label("平板签署", exact=True)).to_be_checked()
        expect(box.get_by_label("完成的工作")).to_have_value("更换电源模块，通电测试两小时正常")
        fits(page, "维修完毕")
        submit(page, "complete", "记录维修完毕")
        workflow.perform(server.store, WorkCalendar.default(), case_id, "approve_return", _user("engineer"), {})
        page.goto(url)
        submit(page, "record_return", "记录返回")

        box = page.locator("#action-report")
        expect(page.locator("#report-form-version")).to_contain_text("第 1 版")
        expect(box.get_by_label("故障原因")).to_have_value("过流保护元件损坏")
        expect(box.get_by_label("及时性 基本满意", exact=True)).to_be_checked()
        if width == 768:
            assert min(heights(page, "#report-ratings .segment")) >= MIN
            assert len(heights(page, "#report-ratings .segment")) == 12  # 4 aspects × 3 ratings
            assert min(heights(page, "#report-charge-segments .segment")) >= MIN  # 有偿 / 无偿
            assert min(heights(page, "#report-plan_explained-segments .segment")) >= MIN  # 7.x: 是 / 否
        fits(page, "书面汇报")
        fill_report(box, now.date().isoformat())
        fits(page, "书面汇报（已填写）")
        if width == AXE_WIDTH:  # the report form (not in tests/ui_pages.py: a case awaiting its report)
            serious = [f"{v['id']}: {[n['target'] for n in v['nodes'][:5]]}" for v in Axe().run(page).response["violations"]
                       if v["impact"] in ("serious", "critical")]
            assert not serious, serious
        if width == CHANGED_AT:  # a prefilled value changed: refused without a reason (6.2.9)
            box.get_by_label("故障原因").fill("过流保护元件损坏，系电网浪涌所致")
            with page.expect_navigation():
                box.get_by_role("button", name="提交书面汇报").tap()
            box = page.locator("#action-report")
            expect(box).to_contain_text("与顾客签字的《技术服务单》不一致")
            expect(box.get_by_label("故障原因")).to_have_value("过流保护元件损坏，系电网浪涌所致")
            fits(page, "书面汇报（被拒绝）")
            assert server.store.get("cases", case_id)["state"] == "awaiting_report"
            box.get_by_label("与签字表单不一致的原因").fill("返回后检测发现浪涌痕迹，补充原因")
            if box.get_by_label("日期 1").input_value() == "":  # the expense line, if not kept
                fill_report(box, now.date().isoformat())
        submit(page, "report", "提交书面汇报")
        fits(page, "案例（已汇报）")
        refused = (f"/cases/{case_id}/report",) if width == CHANGED_AT else ()  # its 400, on purpose
        assert page.watch.errors(ignore=("/favicon.ico", *refused)) == [] and page.watch.csp_violations() == []

    with watched_page(browser, server, viewport={"width": width, "height": height}, has_touch=True,
                      is_mobile=tablet) as page:
        login(page, server, "manager", PASSWORD)
        page.goto(url)
        expect(page.locator("#action-confirm")).to_be_visible()
        review = page.locator("#confirm-review")
        expect(review.locator("#confirm-evaluation td[data-aspect='timeliness']")).to_have_text("基本满意")
        differences = page.locator("#record-differences")
        if width == CHANGED_AT:
            expect(differences.locator("tr[data-difference]")).to_have_count(1)
            row = differences.locator("tr[data-difference]")
            expect(row.locator("[data-signed]")).to_have_text("过流保护元件损坏")
            expect(row.locator("[data-reported]")).to_have_text("过流保护元件损坏，系电网浪涌所致")
            expect(row.locator("[data-reason]")).to_contain_text("浪涌痕迹")
        else:
            expect(differences).to_have_count(0)  # one record: taken as signed
        fits(page, "确认（经理）")
        assert page.watch.errors() == [] and page.watch.csp_violations() == []
