"""Two whole case paths in headless Chromium, each step by the user whose role takes it.

1. An in-warranty on-site repair, from the receiver's intake to the 技质部 audit and close; the
   signed 技术服务单 comes back on paper: a scan of the printed PDF is uploaded before the report.
2. An out-of-warranty request: the customer refuses the fee, the VP approves, service goes on;
   the 技术服务单 is signed on the tablet, and its fields fill the report form.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from records.cases.conduct import CHECKLIST as CONDUCT_CHECKLIST
from records.service_forms import archive as form_archive
from tests.browser_support import draw, login
from tests.fixtures.calendar import TZ
from tests.fixtures.pdfs import page_image
from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def data(live_server, near_and_far):
    return near_and_far(live_server.store, (("near", "JX200-2025-001", "JX-200", "电源控制箱", "2025-03-15", 36),
                                            ("far", "TX9-2021-044", "TX-9", "通信终端", "2021-01-10", 12)))


class Actor:
    """Switches the browser to a user (through the login form) only when needed."""

    def __init__(self, page, live_server):
        self.page, self.server, self.current = page, live_server, None

    def __call__(self, username: str, case_url: str | None = None):
        if self.current != username:
            login(self.page, self.server, username, PASSWORD)
            self.current = username
        if case_url:
            self.page.goto(case_url)
        return self.page


def submit(page, action: str, button: str):
    with page.expect_navigation():
        page.locator(f"#action-{action}").get_by_role("button", name=button).click()
    expect(page.locator(".alert-success")).to_contain_text("已完成")


def intake(page, customer: str, serial: str, kind: str = "质量问题"):
    page.goto("/cases/new")
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("顾客单位", exact=True).select_option(label=customer)
    page.get_by_label("产品编号", exact=True).fill(serial)
    page.get_by_label("来电人姓名").fill("刘参谋")
    page.get_by_label("来电人电话").fill("0312-5550101")
    page.get_by_label("顾客反映的内容").fill("开机后无输出，指示灯不亮")
    with page.expect_navigation():
        page.get_by_role("button", name="登记").click()
    expect(page.locator(".alert-success")).to_contain_text("已登记 FW")
    return page.url


def case_id_of(url: str) -> int:
    return int(url.rstrip("/").rsplit("/", 1)[1])


def upload_scan(page, url: str):
    """Print the form (the app's PDF), 'scan' its page (pdftoppm, PNG) and upload the scan."""
    case_id = case_id_of(url)
    pdf = page.request.get(f"/forms/case/{case_id}.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    scan = page_image(pdf.body(), dpi=150, fmt="png")
    page.goto(f"/forms/case/{case_id}/upload")
    page.set_input_files("input[type=file]", files=[{"name": "扫描件.png", "mimeType": "image/png", "buffer": scan}])
    with page.expect_navigation():
        page.get_by_role("button", name="上传归档").click()
    expect(page.locator(".alert-success")).to_contain_text("按二维码自动核对")


def sign_on_tablet(page, url: str):
    """Fill the form with the customer on the tablet, let them rate and sign (issue 5)."""
    page.goto(f"/forms/case/{case_id_of(url)}/tablet")
    page.fill("#fault_found", "通信终端无法开机")
    page.fill("#cause", "主板电源管理芯片老化损坏")
    page.fill("#work_done", "更换主板")
    page.fill("#parts-0-name", "主板")
    page.fill("#parts-0-qty", "1")
    page.check("#charge-0")  # 免费: the customer refused the fee, the VP approved the service
    for key, choice in (("attitude", 0), ("skill", 0), ("timeliness", 1), ("overall", 0)):
        page.check(f"#{key}-{choice}")
    page.fill("#remarks", "希望缩短到达时间")
    page.fill("#customer_signer", "陈工")
    draw(page, "#customer-pad", [(0.1, 0.7), (0.3, 0.2), (0.5, 0.75), (0.7, 0.25), (0.9, 0.6)])
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    expect(page.locator(".alert-success")).to_contain_text("已生成并归档")


def fill_form_by_hand(box):
    """The paper path: the technician types in what the customer's signed form says."""
    box.get_by_label("故障现象").fill("电源模块无输出，指示灯不亮")
    box.get_by_label("故障原因").fill("电源模块过流保护元件损坏")
    box.get_by_label("处理情况").fill("更换电源模块，全面检测正常")
    box.get_by_label("更换零部件 1").fill("电源模块")
    box.get_by_label("更换数量 1", exact=True).fill("1")
    box.get_by_label("无偿", exact=True).check()
    for aspect, rating in (("服务态度", "满意"), ("技术水平", "满意"), ("及时性", "基本满意"), ("总体评价", "满意")):
        box.get_by_label(f"{aspect} {rating}", exact=True).check()
    box.get_by_label("顾客意见与建议").fill("服务及时，态度很好")


def onsite_to_close(as_user, url: str, sign: str = "scan"):
    page = as_user("engineer", url)
    box = page.locator("#action-dispatch")
    box.get_by_label("tech-姓名", exact=True).check()
    box.get_by_label("告知顾客的服务方案").fill("更换电源模块并全面检测")
    box.get_by_label("告知技术人员的注意事项").fill("携带备用电源模块，注意防静电")
    submit(page, "dispatch", "开具技术服务单并派出")
    expect(page.locator("#form-no")).to_contain_text("JF")

    page = as_user("tech", url)
    expect(page.locator("#action-arrive")).to_be_visible()
    submit(page, "arrive", "记录到达")
    if sign == "tablet":  # 6.2.6: the customer signs on the tablet, then 技质部 is called (issue 12)
        sign_on_tablet(page, url)
        page.goto(url)
        box = page.locator("#action-complete")
        expect(box.locator("#complete-signed")).to_contain_text("第 1 版")
        expect(box.get_by_label("平板签署", exact=True)).to_be_checked()
        expect(box.get_by_label("完成的工作")).to_have_value("更换主板")  # the signed form's, no quick rating
    else:
        box = page.locator("#action-complete")
        box.get_by_label("纸质表单", exact=True).check()
        box.get_by_label("完成的工作").fill("更换电源模块，全面检测正常")
    submit(page, "complete", "记录维修完毕")
    expect(page.locator("#action-record_return")).to_be_visible()  # may return, but unapproved

    page = as_user("engineer", url)
    submit(page, "approve_return", "同意返回")

    page = as_user("tech", url)
    submit(page, "record_return", "记录返回")
    if sign == "scan":
        # 6.2.7: the report waits for the signed 技术服务单, with links to where it is archived
        expect(page.locator("#report-needs-form")).to_contain_text("尚未归档签字的《技术服务单》")
        expect(page.locator("#report-needs-form a")).to_have_count(2)
        upload_scan(page, url)
    page.goto(url)
    expect(page.locator("#report-form-version")).to_contain_text("第 1 版")
    box = page.locator("#action-report")
    if sign == "scan":
        fill_form_by_hand(box)
    else:  # filled from the tablet version: the technician checks it
        expect(box.get_by_label("故障现象")).to_have_value("通信终端无法开机")
        expect(box.get_by_label("更换零部件 1")).to_have_value("主板")
        expect(box.get_by_label("及时性 基本满意", exact=True)).to_be_checked()
    box.get_by_label("书面汇报").fill("故障系电源模块损坏，已更换，运行正常。")
    for key in CONDUCT_CHECKLIST:  # 7.1–7.3: each answered 是
        box.locator(f"#report-{key}-0").check()
    box.get_by_label("全面检测、检查的结果").fill("全面检测正常")
    box.get_by_label("日期 1").fill(datetime.now(TZ).date().isoformat())
    box.get_by_label("类别 1").select_option(label="交通")
    box.get_by_label("费用内容 1").fill("差旅费")
    box.get_by_label("金额（元） 1").fill("¥1,200")
    box.get_by_label("金额（元） 2").fill("-5")  # not an amount: left out of the running total
    expect(page.locator("#expense-total")).to_have_text("1,200.00")
    box.get_by_label("金额（元） 2").fill("")
    box.get_by_label("金额（元） 1").fill("８００")  # full-width digits
    expect(page.locator("#expense-total")).to_have_text("800.00")
    box.get_by_label("返回物料 1").fill("电源模块")
    box.get_by_label("数量 1", exact=True).fill("1")
    box.get_by_label("状态 1").select_option(label="损坏品")
    submit(page, "report", "提交书面汇报")
    expect(page.locator("#deadlines tr[data-deadline='confirm']")).to_contain_text("6.2.8")
    expect(page.locator("#report-evaluation")).to_contain_text("基本满意")

    page = as_user("manager", url)
    review = page.locator("#confirm-review")  # what 技质部 confirms (6.2.8): the form and the evaluation
    expect(review).to_contain_text("主板电源管理芯片老化损坏" if sign == "tablet" else "电源模块过流保护元件损坏")
    expect(review.locator("#confirm-evaluation td[data-aspect='timeliness']")).to_have_text("基本满意")
    expect(page.locator("#record-differences")).to_have_count(0)  # one record: taken as signed, no difference
    box = page.locator("#action-confirm")
    box.get_by_label("服务质量及顾客评价确认意见").fill("服务及时，顾客满意")
    box.get_by_label("差旅费：报销 800.00 元 核准金额").fill("750")
    box.get_by_label("差旅费：报销 800.00 元 调整理由").fill("超出差旅标准")
    box.get_by_label("故障类别（9.3，必填）").select_option(label="电源")  # issue 17: required at the confirmation
    box.get_by_label("原因类别（9.3，必填）").select_option(label="外购件")
    submit(page, "confirm", "确认并完成费用审核")
    expect(page.locator("#current-step")).to_contain_text("已结案")
    expect(page.locator("#expenses")).to_contain_text("750.00")
    expect(page.locator("#no-actions")).to_be_visible()
    return page


def check_clean(page):
    assert page.watch.csp_violations() == []
    assert page.watch.errors() == []
    assert page.watch.external_requests() == []


def test_in_warranty_onsite_repair_from_intake_to_close(page, live_server, data):
    as_user = Actor(page, live_server)
    as_user("receiver")
    url = intake(page, "某部队第一修理所", "JX200-2025-001")
    # recording is the hand-over (6.1.3): met at once, the case waits for 技质部's decision
    expect(page.locator("#current-step")).to_contain_text("待确定解决方案")
    expect(page.locator("#deadlines tr[data-deadline='handover']")).to_contain_text("6.1.3")
    expect(page.locator("#deadlines tr[data-deadline='handover']")).to_have_attribute("data-status", "met")
    expect(page.locator("#action-decide")).to_have_count(0)
    page.goto("/cases/my")
    expect(page.locator("#my-work")).not_to_contain_text("传递技质部")

    page = as_user("engineer", url)
    box = page.locator("#action-decide")
    expect(page.locator("main")).to_contain_text("质保期内")
    box.get_by_label("现场服务·质保期内免费（5.1.1.1）").check()
    box.get_by_label("故障分析").fill("电源模块损坏")
    submit(page, "decide", "确定方案")
    expect(page.locator("#deadlines tr[data-deadline='arrival']")).to_contain_text("5.1.1.3")
    expect(page.locator("#deadlines tr[data-deadline='arrival']")).to_contain_text("24 小时")

    page = onsite_to_close(as_user, url)
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(9)
    case = live_server.store.find("cases")[0]
    assert case["state"] == "closed" and case["outcome"] == "completed"
    assert case["audit"]["lines"] == [{"date": datetime.now(TZ).date().isoformat(), "category": "transport",
                                       "item": "差旅费", "claimed": 800.0, "approved": 750.0, "reason": "超出差旅标准",
                                       "override": False, "rule": None}]
    assert case["report"]["returned_materials"] == [{"part": "电源模块", "quantity": 1, "condition": "damaged"}]
    form = case["report"]["service_form"]
    assert form["ratings"] == {"attitude": "satisfied", "skill": "satisfied", "timeliness": "basically",
                               "overall": "satisfied"}
    assert form["parts"] == [{"part": "电源模块", "quantity": 1}] and form["charge"] == "free"
    [scan] = form_archive.archived_versions(live_server.store, case["id"])
    assert (scan["kind"], scan["matched_by"]) == ("scan", "qr")
    assert case["report"]["form_version"]["id"] == scan["id"]
    check_clean(page)


def test_out_of_warranty_refused_by_customer_approved_by_vp(page, live_server, data):
    as_user = Actor(page, live_server)
    as_user("engineer")
    url = intake(page, "西北某试验基地", "TX9-2021-044")
    expect(page.locator("#current-step")).to_contain_text("待确定解决方案")  # 技质部's own intake
    box = page.locator("#action-decide")
    expect(page.locator("main")).to_contain_text("已过质保期")
    box.get_by_label("现场服务·有偿（5.1.1.2、5.2.3—5.2.5）").check()
    box.get_by_label("故障分析").fill("主板老化损坏")
    submit(page, "decide", "确定方案")

    box = page.locator("#action-quote")
    box.get_by_label("服务费（元）").fill("2000")
    box.get_by_label("备件名称 1").fill("主板")
    box.get_by_label("数量 1").fill("1")
    submit(page, "quote", "保存报价")
    expect(page.locator("#action-send_quote")).to_have_count(0)  # waiting for 财务部's prices

    page = as_user("finance", url)
    page.locator("#action-price").get_by_label("主板 × 1").fill("3500")
    submit(page, "price", "保存价格")

    page = as_user("engineer", url)
    page.locator("#action-send_quote").get_by_label("传真", exact=True).check()  # how it was sent (5.2.5); to the caller by default
    submit(page, "send_quote", "已将方案和费用通知顾客")
    expect(page.locator("#quote")).to_contain_text("5500.00")

    page = as_user("sales", url)
    box = page.locator("#action-customer_response")
    box.get_by_label("拒绝承担费用").check()
    box.get_by_label("顾客方答复人").fill("陈工")
    submit(page, "customer_response", "记录顾客意见")
    expect(page.locator("#current-step")).to_contain_text("待分管副总批准")
    expect(page.locator("#no-actions")).to_be_visible()

    page = as_user("vp", url)
    page.goto("/cases/my")
    expect(page.locator("#my-work")).to_contain_text("分管副总审批")
    page.goto(url)
    box = page.locator("#action-vp_decision")
    box.get_by_label("批准提供售后服务").check()
    box.get_by_label("审批意见").fill("保障任务需要，同意先行服务")
    submit(page, "vp_decision", "提交审批")
    expect(page.locator("#deadlines tr[data-deadline='arrival']")).to_contain_text("48 小时")

    page = onsite_to_close(as_user, url, sign="tablet")
    case = live_server.store.find("cases")[0]
    assert case["vp_approval"]["approved"] is True and case["vp_approval"]["by"] == "vp"
    assert case["report"]["service_form"]["cause"] == "主板电源管理芯片老化损坏"
    assert case["report"]["service_form"]["ratings"]["timeliness"] == "basically"
    assert case["report"]["form_version"]["kind"] == "tablet"
    assert case["customer_response"] == {**case["customer_response"], "accepted": False, "person": "陈工"}
    assert (case["state"], case["outcome"]) == ("closed", "completed")
    check_clean(page)
