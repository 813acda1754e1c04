"""Issue 17's browser path (9.3), as the users do it in headless Chromium at 1366 px: 技质部经理
classifies the fault at the confirmation (6.2.8: final and required), opens 质量统计 from the
「质量」 menu, finds the case's cause in its quarter and raises a preventive action from that row;
the owner starts it, uploads the evidence and hands it in; 技质部 verifies it effective and it is
closed (提出 → 实施中 → 待验证 → 已关闭).

The case is brought to 待确认 through records.cases.workflow (the steps before are other tests'
paths). A verification judges "effective" only after its observation period (at least a month
from the hand-in, records.reports.preventive.watch) has ended: after one refusal seen on the
page, the action's times are moved 40 days back (the browser cannot wait a month), then verified.
On every page: nothing scrolls sideways, no CSP violation, no console error.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from records.calendar.periods import quarter_label
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.cases import workflow
from records.cases.steps import handin
from records.reports import preventive
from records.users import accounts, departments
from tests.browser_support import login, watched_page
from tests.fixtures.calendar import TZ
from tests.fixtures.service_forms import report_form
from tests.fixtures.users import PASSWORD, TEST_USERS
from tests.test_ui_pages_browser import ALLOWED_SCROLLERS, OVERFLOW_JS

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
MINUTE = "%Y-%m-%dT%H:%M"
HANDED_IN_DAYS_AGO = 40  # > the shortest observation period (1 month, preventive.MONTHS)


def _user(name: str) -> dict:
    return {"username": name, "roles": TEST_USERS[name]}


def awaiting_confirmation(store, customer_id: int, archive_signed_form) -> dict:
    """Near's IN-001 (JX-200, in warranty) along the free on-site path, its signed 技术服务单
    scanned, reported an hour ago: 待确认 (6.2.8)."""
    cal, now = WorkCalendar.default(), datetime.now(TZ).replace(second=0, microsecond=0)
    ago = lambda hours: now - timedelta(hours=hours)  # noqa: E731
    call = {"type": "service_request", "customer_id": customer_id, "product_serial": "IN-001",
            "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone",
            "description": "电源控制箱无输出", "received_at": ago(8)}
    c = workflow.intake(store, cal, call, _user("receiver"), now=ago(8))

    def act(action, user, hours, **data):
        return workflow.perform(store, cal, c["id"], action, _user(user), data, expect_rev=c["_rev"], now=ago(hours))

    c = act("decide", "engineer", 7, solution="onsite_free", analysis="电源模块损坏")
    c = act("dispatch", "engineer", 6.5, technicians=["tech"], plan="更换电源模块", precautions="带备件",
            departed_at=ago(6))
    c = act("arrive", "tech", 5, arrived_at=ago(5.2))
    c = act("complete", "tech", 4, work_done="更换电源模块，全面检测正常", completed_at=ago(4.2),
            form_path="paper")
    c = act("approve_return", "engineer", 3.8)
    c = act("record_return", "tech", 2, returned_at=ago(2.2))
    archive_signed_form(store, c)
    form = report_form(arrived=ago(5.2).strftime(MINUTE), completed=ago(4.2).strftime(MINUTE))
    expenses = [{"date": ago(6).date().isoformat(), "category": "transport", "item": "差旅", "amount": "300"}]
    c = act("report", "tech", 1, text="已修复", **form, expenses=expenses,
            returned_materials=[{"part": "电源模块", "quantity": "1", "condition": "damaged"}])
    with store.transaction("engineer") as tx:  # 技质部 received the faulty part: handed in (6.2.7), 6.2.8 runs
        return handin.receive_tx(tx, cal, c["id"], _user("engineer"), {}, ago(0.9))


def handed_in_days_ago(store, action_id: int, days: int) -> None:
    """The action as if raised, carried out and handed in ``days`` ago (every time it holds moved back)."""
    a = store.get(preventive.TABLE, action_id)
    back = lambda value: iso_local(parse_local(value) - timedelta(days=days))  # noqa: E731
    with store.transaction("test") as tx:
        tx.update(preventive.TABLE, action_id, {
            "raised_at": back(a["raised_at"]), "submitted_at": back(a["submitted_at"]),
            "history": [{**h, "at": back(h["at"])} for h in a["history"]],
            "evidence": [{**e, "at": back(e["at"])} for e in a["evidence"]]}, note="test: handed in earlier")


def fits(page, step: str) -> None:
    problems = page.evaluate(OVERFLOW_JS, list(ALLOWED_SCROLLERS))
    assert not problems, f"{step} ({WIDTH} px): " + "; ".join(problems)


def go(page, click) -> None:
    with page.expect_navigation():
        click()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 220, 240)).save(out, format="PNG")
    return out.getvalue()


def test_classify_at_confirmation_raise_from_statistics_verify_and_close(browser, live_server, near_and_far,
                                                                         archive_signed_form):
    store = live_server.store
    made = near_and_far(store)
    dept = departments.create_department(store, "生产部", "admin")
    accounts.update_user(store, accounts.find_by_username(store, "tech2")["id"], "admin", department_id=dept["id"])
    case = awaiting_confirmation(store, made["near"]["id"], archive_signed_form)
    now = datetime.now(TZ)
    assert case["state"] == "awaiting_confirmation"
    quarter = quarter_label(parse_local(case["received_at"]).date())  # "2026Q4", the statistics form's value

    with watched_page(browser, live_server, viewport={"width": WIDTH, "height": HEIGHT}) as page:
        # 1. 技质部经理 confirms (6.2.8) with the final classification (9.3), refused without it
        login(page, live_server, "manager", PASSWORD)
        page.goto(f"/cases/{case['id']}")
        expect(page.locator("#state-label")).to_have_text("待确认及费用审核")
        box = page.locator("#action-confirm")
        box.get_by_label("服务质量及顾客评价确认意见").fill("服务及时，顾客满意")
        fits(page, "确认（填写）")
        go(page, lambda: box.get_by_role("button", name="确认并完成费用审核").click())
        box = page.locator("#action-confirm")
        expect(box.locator(".invalid-feedback")).to_contain_text("请选择故障类别（9.3：结案时须完成故障分类）")
        expect(box.get_by_label("服务质量及顾客评价确认意见")).to_have_value("服务及时，顾客满意")
        assert store.get("cases", case["id"])["state"] == "awaiting_confirmation"
        box.get_by_label("故障类别（9.3，必填）").select_option(label="电源")
        box.get_by_label("原因类别（9.3，必填）").select_option(label="制造工艺")
        go(page, lambda: box.get_by_role("button", name="确认并完成费用审核").click())
        expect(page.locator(".alert-success")).to_contain_text("已完成")
        expect(page.locator("#state-label")).to_have_text("已结案")
        expect(page.locator("#classification")).to_contain_text("故障分类（9.3）")
        expect(page.locator("#classification")).to_contain_text("电源")
        expect(page.locator("#classification")).to_contain_text("制造工艺")
        fits(page, "已结案")

        # 2. 质量统计 from the 「质量」 menu: the case's quarter, its cause, 「提出预防措施」 on that row
        page.get_by_role("button", name="质量", exact=True).click()
        go(page, lambda: page.locator(".dropdown-menu.show").get_by_role("link", name="质量统计").click())
        page.locator("#quarter").select_option(quarter)
        go(page, lambda: page.locator("#stat-filter").get_by_role("button", name="统计").click())
        expect(page.locator("h1")).to_contain_text(quarter)
        row = page.locator("#stat-cause tr[data-key='process']")
        expect(row.locator("td").nth(0)).to_have_text("制造工艺")
        expect(row.locator("td").nth(1)).to_have_text("1")
        expect(page.locator("#stat-gaps")).to_contain_text("没有缺口")
        fits(page, "质量统计")
        go(page, lambda: row.get_by_role("link", name="提出预防措施").click())
        expect(page.locator(f"input[name='cases'][value='{case['id']}']")).to_be_checked()
        expect(page.get_by_label("原因类别", exact=True)).to_have_value("process")
        page.get_by_label("根本原因", exact=True).fill("电源模块焊接工艺不良，过流保护元件虚焊")
        page.get_by_label("预防措施（对责任部门的改进要求）").fill("修订焊接工艺卡，增加过流保护元件焊点检验")
        page.get_by_label("责任部门", exact=True).select_option(label="生产部")
        page.get_by_label("负责人", exact=True).select_option("tech2")
        page.get_by_label("完成期限", exact=True).fill((now + timedelta(days=30)).date().isoformat())
        fits(page, "提出预防措施")
        go(page, lambda: page.get_by_role("button", name="提出预防措施").click())
        [action] = store.scan(preventive.TABLE)
        label = preventive.label(action)
        expect(page.locator(".alert-success")).to_contain_text(f"已提出{label}")
        expect(page.locator("#state")).to_have_text("提出")
        expect(page.locator("#cases")).to_contain_text(case["number"])
        assert (action["model"], action["cause_category"], action["cases"]) == ("JX-200", "process", [case["id"]])
        fits(page, "预防措施（提出）")
        refused = [f"/cases/{case['id']}/confirm"]  # the 400 of the confirmation refused above, on purpose
        assert page.watch.errors(ignore=("/favicon.ico", *refused)) == [] and page.watch.csp_violations() == []

        # 3. the owner, from 我的待办: starts it, uploads the evidence, hands it in
        login(page, live_server, "tech2", PASSWORD)
        page.goto("/cases/my")
        go(page, lambda: page.get_by_role("link", name=f"{label}（提出）").click())
        go(page, lambda: page.locator("#step-start").get_by_role("button", name="确定").click())
        expect(page.locator(".alert-success")).to_contain_text("已完成：开始实施")
        expect(page.locator("#state")).to_have_text("实施中")
        page.get_by_label("完成证据（PDF、JPEG 或 PNG，最大 20 MB）").set_input_files(
            {"name": "焊接工艺卡修订记录.png", "mimeType": "image/png", "buffer": png()})
        go(page, lambda: page.get_by_role("button", name="上传证据").click())
        expect(page.locator(".alert-success")).to_contain_text("已上传完成证据")
        expect(page.locator("#evidence")).to_contain_text("焊接工艺卡修订记录.png")
        fits(page, "预防措施（实施中）")
        go(page, lambda: page.locator("#step-submit").get_by_role("button", name="确定").click())
        expect(page.locator(".alert-success")).to_contain_text("已完成：提交完成证据，申请验证")
        expect(page.locator("#state")).to_have_text("待验证")
        expect(page.locator("#step-verify")).to_have_count(0)  # 技质部 verifies
        assert page.watch.errors(ignore=("/favicon.ico", *refused)) == [] and page.watch.csp_violations() == []

        # 4. 技质部 verifies: not before the observation period is over; then effective → 已关闭
        login(page, live_server, "engineer", PASSWORD)
        page.goto("/cases/my")  # 技质部's 我的待办: the actions to verify
        go(page, lambda: page.get_by_role("link", name=f"{label}（待验证）").click())
        box = page.locator("#step-verify")
        box.get_by_label("观察期（月，1—24）").fill("1")
        box.get_by_label("有效，关闭").check()
        go(page, lambda: box.get_by_role("button", name="提交验证").click())
        box = page.locator("#step-verify")
        expect(box.locator(".invalid-feedback")).to_contain_text("尚未结束，不能判定有效")
        expect(box.get_by_label("观察期（月，1—24）")).to_have_value("1")
        expect(page.locator("#state")).to_have_text("待验证")
        handed_in_days_ago(store, action["id"], HANDED_IN_DAYS_AGO)
        page.goto(preventive.link(action["id"]))
        box = page.locator("#step-verify")
        box.get_by_label("观察期（月，1—24）").fill("1")
        box.get_by_label("有效，关闭").check()
        box.get_by_label("验证意见（无效时必填）").fill("观察期内未再发生同类故障")
        go(page, lambda: box.get_by_role("button", name="提交验证").click())
        expect(page.locator(".alert-success")).to_contain_text("已完成：验证有效性（9.3）")
        expect(page.locator("#state")).to_have_text("已关闭")
        expect(page.locator("#verification")).to_contain_text("有效：观察期 1 个月")
        expect(page.locator("#recurrences")).to_contain_text("没有再发生")
        expect(page.locator("#actions")).to_have_count(0)
        fits(page, "预防措施（已关闭）")
        refused.append(preventive.link(action["id"]) + "/verify")  # refused above, on purpose
        assert page.watch.errors(ignore=("/favicon.ico", *refused)) == [] and page.watch.csp_violations() == []
        assert page.watch.external_requests() == []
    assert store.get(preventive.TABLE, action["id"])["state"] == "closed"
