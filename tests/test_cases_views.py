"""The case pages through the test client: roles (403), stale revisions, form errors."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from records.calendar.corrections import current_calendar
from records.cases import flow, vocab, workflow
from records.service_forms import archive as form_archive
from tests.fixtures.service_forms import CONDUCT

TZ = ZoneInfo("Asia/Shanghai")


def html(resp) -> str:
    return resp.get_data(as_text=True)


def test_intake_form_and_redirect(client, auth, store, intake_data):
    auth.login("receiver")
    resp = client.get("/cases/new")
    assert resp.status_code == 200 and "登记" in html(resp)
    resp = client.post("/cases/new", data=intake_data())
    assert resp.status_code == 302
    case = store.find("cases")[0]
    assert resp.headers["Location"].endswith(f"/cases/{case['id']}")
    # recording is the hand-over to 技质部 (6.1.3): met now, nothing left for the receiver to do
    assert case["state"] == "awaiting_decision" and case["received_by"] == case["recorded_by"] == "receiver"
    assert case["deadlines"]["handover"]["done_at"] and case["tq_received_at"]
    page = html(client.get(resp.headers["Location"]))
    assert case["number"] in page and "待确定解决方案" in page and "登记即传递技质部（6.1.3）" in page
    assert 'id="action-decide"' not in page and "action-handover" not in page
    assert "6.1.3" in page and "收到后 4 个工作小时内传递到技质部" in page


def test_intake_errors_keep_typed_values(client, auth, store, intake_data):
    auth.login("receiver")
    resp = client.post("/cases/new", data=intake_data(caller_phone="", caller_name="王干事"))
    assert resp.status_code == 400
    page = html(resp)
    assert "请填写来电人电话" in page and 'value="王干事"' in page and "电源控制箱无输出" in page
    # a domain refusal beside its field: the product belongs to another customer
    resp = client.post("/cases/new", data=intake_data(product_serial="OUT-001"))
    assert resp.status_code == 400
    page = html(resp)
    assert "不属于" in page and 'value="OUT-001"' in page and "is-invalid" in page
    future = (datetime.now(TZ) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post("/cases/new", data=intake_data(received_at=future))
    assert resp.status_code == 400 and "不能晚于当前时间" in html(resp)
    assert store.count("cases") == 0


def test_wrong_role_gets_403_and_no_form(client, auth, store, make_case):
    case = make_case()
    auth.login("receiver")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="action-decide"' not in page
    resp = client.post(f"/cases/{case['id']}/decide", data={"decide-rev": case["_rev"], "decide-solution": "onsite_free",
                                                           "decide-analysis": "x"})
    assert resp.status_code == 403
    auth.logout()
    auth.login("tech")  # not the receiver, not 技质部
    assert client.post(f"/cases/{case['id']}/decide", data={"decide-rev": case["_rev"]}).status_code == 403
    assert client.get("/cases/").status_code == 200  # technicians read the list
    auth.logout()
    auth.login("receiver")
    assert client.get("/cases/").status_code == 403
    other = make_case(username="sales", roles=("sales", "receiver"))
    assert client.get(f"/cases/{other['id']}").status_code == 403  # not his case
    assert store.get("cases", case["id"])["_rev"] == case["_rev"]


def test_decide_then_stale_second_click(client, auth, store, make_case):
    case = make_case()
    auth.login("engineer")
    decide = {"decide-rev": case["_rev"], "decide-solution": "phone_guidance", "decide-analysis": "a",
              "decide-guidance": "g"}
    resp = client.post(f"/cases/{case['id']}/decide", data=decide)
    assert resp.status_code == 302
    after = store.get("cases", case["id"])
    assert after["state"] == "awaiting_guidance_result"
    auth.logout()
    auth.login("manager")  # the manager's page still had the old revision
    resp = client.post(f"/cases/{case['id']}/decide", data=decide, follow_redirects=True)
    page = html(resp)
    assert "该案例已被他人更新" in page and "电话指导中" in page
    now = store.get("cases", case["id"])
    assert now["_rev"] == after["_rev"]
    assert [t["action"] for t in now["timeline"]] == ["intake", "decide"]


def test_transition_not_allowed_in_state(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    auth.login("engineer")
    resp = client.post(f"/cases/{case['id']}/dispatch", data={
        "dispatch-rev": case["_rev"], "dispatch-technicians": "tech", "dispatch-plan": "p",
        "dispatch-precautions": "q", "dispatch-departed_at": "2026-11-27T08:00"})
    assert resp.status_code == 409
    assert "当前状态为「待确定解决方案」，不能执行「派出前安排（6.2.5）」" in html(resp)


def test_decide_form_errors_keep_values(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    auth.login("engineer")
    resp = client.post(f"/cases/{case['id']}/decide", data={
        "decide-rev": case["_rev"], "decide-solution": "onsite_paid", "decide-analysis": "电源模块烧毁"})
    assert resp.status_code == 400
    page = html(resp)
    assert "现场服务应免费（5.1.1.1）" in page and "电源模块烧毁" in page
    resp = client.post(f"/cases/{case['id']}/decide", data={
        "decide-rev": case["_rev"], "decide-solution": "onsite_free", "decide-analysis": "电源模块烧毁",
        "decide-participants": "张工、李工"})
    assert resp.status_code == 302
    c = store.get("cases", case["id"])
    assert c["state"] == "awaiting_dispatch" and c["decision"]["participants"] == "张工、李工"
    page = html(client.get(f"/cases/{case['id']}"))
    assert "5.1.1.3" in page and 'name="dispatch-technicians"' in page and 'value="tech"' in page


def test_my_work_and_list_filters(client, auth, store, app_world, make_case):
    mine = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=60 * 24 * 7)  # overdue 6.2.2
    other = make_case()  # a receiver's, recorded now: handed over (6.1.3)
    auth.login("receiver")
    page = html(client.get("/cases/my"))
    assert other["number"] not in page and mine["number"] not in page  # recording handed it over
    auth.logout()
    auth.login("engineer")
    page = html(client.get("/cases/my"))
    assert mine["number"] in page and 'class="overdue"' in page and "确定解决方案" in page
    page = html(client.get("/cases/?overdue=y"))
    assert mine["number"] in page and "共 1 条" in page
    page = html(client.get("/cases/?state=awaiting_decision"))
    assert "共 2 条" in page and "state=awaiting_handover" not in page and "待传递技质部" not in page
    page = html(client.get(f"/cases/?customer_id={app_world.far['id']}"))
    assert "共 0 条" in page
    assert "共 2 条" in html(client.get("/cases/?q=刘参谋"))
    assert "共 2 条" in html(client.get("/cases/?product=in-001&type=service_request"))
    assert "共 0 条" in html(client.get("/cases/?date_from=2030-01-01"))


def test_fine_rulings_by_role(client, auth, store, make_case):
    case = make_case(minutes_ago=60 * 24 * 7)  # recorded a week after the call: 6.1.4 proposed at once
    c = store.get("cases", case["id"])
    assert [(f["clause"], f["amount"], f["person"]) for f in c["fines"]] == [("6.1.4", 50, "receiver")]
    auth.logout()
    auth.login("engineer")
    data = {"rule_fine-rev": c["_rev"], "rule_fine-key": "handover", "rule_fine-decision": "waived",
            "rule_fine-reason": "顾客节假日来电"}
    assert client.post(f"/cases/{case['id']}/rule-fine", data=data).status_code == 403
    auth.logout()
    auth.login("manager")
    assert 'id="action-rule_fine"' in html(client.get(f"/cases/{case['id']}"))
    assert case["number"] in html(client.get("/cases/my"))
    resp = client.post(f"/cases/{case['id']}/rule-fine", data={**data, "rule_fine-reason": ""})
    assert resp.status_code == 400 and "请填写理由" in html(resp)
    assert client.post(f"/cases/{case['id']}/rule-fine", data=data).status_code == 302
    c = store.get("cases", case["id"])
    assert c["fines"][0]["status"] == "waived" and c["fines"][0]["reason"] == "顾客节假日来电"
    auth.logout()
    auth.login("gm")
    resp = client.post(f"/cases/{case['id']}/gm-rule-fine", data={
        "gm_rule_fine-rev": c["_rev"], "gm_rule_fine-key": "handover", "gm_rule_fine-amount": "50",
        "gm_rule_fine-reason": "多次延误，按规定处罚"})
    assert resp.status_code == 302
    assert store.get("cases", case["id"])["fines"][0]["status"] == "gm_ruled"


def test_price_form_lines_for_finance(client, auth, store, app_world, intake_data):
    cal = current_calendar(store)
    eng = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
    received = datetime.now(TZ).replace(microsecond=0) - timedelta(minutes=30)
    c = workflow.intake(store, cal, {**intake_data(customer_id=app_world.far["id"], product_serial="OUT-001"),
                                  "received_at": received}, eng)
    c = workflow.perform(store, cal, c["id"], "decide", eng, {"solution": "onsite_paid", "analysis": "a"})
    auth.login("engineer")
    resp = client.post(f"/cases/{c['id']}/quote", data={
        "quote-rev": c["_rev"], "quote-service_fee": "1500", "quote-parts-0-part": "主板", "quote-parts-0-quantity": "2",
        "quote-parts-1-part": "", "quote-parts-1-quantity": ""})
    assert resp.status_code == 302
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="action-send_quote"' not in page and "待财务部报价" in page
    auth.logout()
    auth.login("finance")
    c = store.get("cases", c["id"])
    page = html(client.get(f"/cases/{c['id']}"))
    assert "主板 × 2" in page and 'name="price-prices-0"' in page
    resp = client.post(f"/cases/{c['id']}/price", data={"price-rev": c["_rev"], "price-prices-0": "-1"})
    assert resp.status_code == 400 and "单价不能为负数" in html(resp)
    resp = client.post(f"/cases/{c['id']}/price", data={"price-rev": c["_rev"], "price-prices-0": "1200"})
    assert resp.status_code == 302
    assert store.get("cases", c["id"])["quote"]["parts"][0]["unit_price"] == 1200.0
    assert flow.quote_total(store.get("cases", c["id"])) == 3900.0


def test_deadline_colours_on_case_page(client, auth, store, make_case):
    case = make_case(minutes_ago=60 * 24 * 7)
    auth.login("receiver")
    page = html(client.get(f"/cases/{case['id']}"))
    row = re.search(r'<tr class="([^"]*)" data-deadline="handover" data-status="(\w+)"', page)
    assert row and row.group(1) == "overdue" and row.group(2) == "met_late"  # recorded late (6.1.3)
    assert "逾期完成" in page


# --- What a user sees on the case page ---------------------------------------------------------


@pytest.fixture
def dispatched(store, make_case):
    """``dispatched()``: a case the engineer took in, decided on site (free) and sent tech to."""
    def make():
        cal = current_calendar(store)
        eng = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
        c = make_case(username="engineer", roles=("tq_engineer", "receiver"))
        c = workflow.perform(store, cal, c["id"], "decide", eng, {"solution": "onsite_free", "analysis": "a"})
        return workflow.perform(store, cal, c["id"], "dispatch", eng, {"technicians": ["tech"], "plan": "p",
                                                                     "precautions": "q"})
    return make


def test_case_page_says_who_acts_next_and_links_the_service_form(client, auth, store, make_case, dispatched):
    case = make_case()
    auth.login("receiver")
    page = html(client.get(f"/cases/{case['id']}"))
    # recorded = handed over: the page names 技质部 as the one to act, with the time left (6.2.2)
    assert 'id="next-steps"' in page and "确定解决方案（6.2.2）" in page and 'id="no-actions"' in page
    assert "剩余" in page
    c = dispatched()
    auth.logout()
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    assert f"/forms/case/{c['id']}.pdf" in page and f"/forms/case/{c['id']}/upload" in page
    assert f"/forms/case/{c['id']}/tablet" in page and c["dispatch"]["form_no"] in page
    assert "到达现场" in page and "tech-姓名" in page
    # buttons are Bootstrap's own classes (Bootstrap-Flask adds the btn- prefix itself)
    assert "btn-btn-" not in page and 'class="btn btn-primary' in page


def test_decide_form_offers_only_what_the_warranty_allows(client, auth, store, app_world, intake_data, make_case):
    cal = current_calendar(store)
    eng = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
    received = datetime.now(TZ).replace(microsecond=0) - timedelta(minutes=30)
    out = workflow.intake(store, cal, {**intake_data(customer_id=app_world.far["id"], product_serial="OUT-001"),
                                    "received_at": received}, eng)
    auth.login("engineer")
    page = html(client.get(f"/cases/{out['id']}"))
    assert 'value="onsite_paid"' in page and 'value="onsite_free"' not in page and "decide-misuse" not in page
    inw = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    page = html(client.get(f"/cases/{inw['id']}"))
    assert 'value="onsite_free"' in page and 'value="onsite_paid"' in page and "decide-misuse" in page


def test_return_without_approval_is_warned_and_free_report_asks_no_receipt(client, auth, store, dispatched):
    cal = current_calendar(store)
    c = dispatched()
    tech = {"username": "tech", "roles": ["technician", "receiver"]}
    c = workflow.perform(store, cal, c["id"], "arrive", tech, {"arrived_at": c["dispatch"]["departed_at"]})
    c = workflow.perform(store, cal, c["id"], "complete", tech, {"work_done": "w", "completed_at": c["onsite"]["arrived_at"]})
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    assert "技质部尚未确认、同意返回" in page and "6.2.6" in page
    c = workflow.perform(store, cal, c["id"], "record_return", tech, {"returned_at": c["onsite"]["completed_at"],
                                                                     "confirm_unapproved": True})
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="action-report"' in page and "report-receipt_no" not in page
    assert "系统按期限记录自动提出" in page  # the 6.2.6 proposal is not the technician's own


def test_manager_proposes_6_1_5_and_6_2_9_on_the_case_page(client, auth, store, make_case, dispatched):
    case = make_case()
    auth.login("engineer")
    assert 'id="action-propose_fine"' not in html(client.get(f"/cases/{case['id']}"))
    resp = client.post(f"/cases/{case['id']}/propose-fine", data={
        "propose_fine-rev": case["_rev"], "propose_fine-kind": "record_unclear", "propose_fine-person": "receiver",
        "propose_fine-items": "1", "propose_fine-facts": "x"})
    assert resp.status_code == 403
    auth.logout()
    auth.login("manager")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="action-propose_fine"' in page and 'value="record_unclear"' in page
    assert 'value="falsified_form"' not in page  # no 技术服务单 issued yet
    resp = client.post(f"/cases/{case['id']}/propose-fine", data={
        "propose_fine-rev": case["_rev"], "propose_fine-kind": "record_unclear", "propose_fine-person": "receiver",
        "propose_fine-items": "2", "propose_fine-facts": ""})
    assert resp.status_code == 400 and "请填写事实" in html(resp) and "<details" in html(resp)
    resp = client.post(f"/cases/{case['id']}/propose-fine", data={
        "propose_fine-rev": case["_rev"], "propose_fine-kind": "record_unclear", "propose_fine-person": "receiver",
        "propose_fine-items": "2", "propose_fine-facts": "电话号码记错，多花长途费用"})
    assert resp.status_code == 302
    c = store.get("cases", case["id"])
    assert [(f["clause"], f["person"], f["amount"]) for f in c["fines"]] == [("6.1.5", "receiver", 100)]
    page = html(client.get(f"/cases/{case['id']}"))
    assert "6.1.5" in page and "电话号码记错" in page and 'id="action-rule_fine"' in page
    c = dispatched()
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'value="falsified_form"' in page
    resp = client.post(f"/cases/{c['id']}/propose-fine", data={
        "propose_fine-rev": c["_rev"], "propose_fine-kind": "falsified_form", "propose_fine-person": "tech",
        "propose_fine-items": "1", "propose_fine-facts": "到达时间填报不实"})
    assert resp.status_code == 302
    f = store.get("cases", c["id"])["fines"][0]
    assert (f["clause"], f["person"], f["range"]) == ("6.2.9", "tech", [50, 500])


def test_intake_page_lists_serial_numbers(client, auth, store, app_world, intake_data):
    auth.login("receiver")
    page = html(client.get("/cases/new"))
    assert 'list="product-serials"' in page and '<option value="IN-001">' in page and "6.1.3" in page
    resp = client.post("/cases/new", data=intake_data(customer_id="0"))
    assert resp.status_code == 302  # the customer comes from the serial number
    assert store.find("cases")[0]["customer_id"] == app_world.near["id"]


# --- The report step: the signed 技术服务单 first, its fields, the evaluation at 6.2.8 -----------


@pytest.fixture
def returned(store, dispatched):
    """``returned()``: a ``dispatched()`` case done on site, return approved, tech back."""
    def make():
        cal = current_calendar(store)
        c = dispatched()
        tech = {"username": "tech", "roles": ["technician", "receiver"]}
        eng = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
        c = workflow.perform(store, cal, c["id"], "arrive", tech, {"arrived_at": c["dispatch"]["departed_at"]})
        c = workflow.perform(store, cal, c["id"], "complete", tech, {"work_done": "更换电源模块",
                                                                   "completed_at": c["onsite"]["arrived_at"]})
        c = workflow.perform(store, cal, c["id"], "approve_return", eng, {})
        return workflow.perform(store, cal, c["id"], "record_return", tech,
                                {"returned_at": c["onsite"]["completed_at"]})
    return make


def _minute(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def _report_post(c, **over):
    data = {"report-rev": c["_rev"], "report-arrived_at": _minute(c["onsite"]["arrived_at"]),
            "report-completed_at": _minute(c["onsite"]["completed_at"]), "report-fault_found": "输出电压为零",
            "report-cause": "保护元件损坏", "report-work_done": "更换电源模块", "report-parts-0-part": "电源模块",
            "report-parts-0-quantity": "1", "report-charge": "free", "report-attitude": "satisfied",
            "report-skill": "satisfied", "report-timeliness": "basically", "report-overall": "satisfied",
            "report-remarks": "希望备件更充足", "report-text": "已修复，运行正常", "report-expenses-0-item": "差旅费",
            "report-expenses-0-amount": "800", "report-expenses-0-category": "transport",
            "report-expenses-0-date": _minute(c["onsite"]["arrived_at"])[:10],
            **{f"report-{k}": v for k, v in CONDUCT.items()}}
    data.update(over)
    return data


def test_report_needs_the_archived_form_then_shows_it_to_tq_at_confirmation(client, auth, store, returned):

    c = returned()
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    warning = re.search(r'id="report-needs-form">(.*?)</div>', page, re.S).group(1)
    assert f'href="/forms/case/{c["id"]}/upload"' in warning and f'href="/forms/case/{c["id"]}/tablet"' in warning
    # the form's fields are there: times, fault, cause, work, parts, paid or free, the four ratings
    for name in ("arrived_at", "completed_at", "fault_found", "cause", "work_done", "parts-0-part",
                 "parts-0-quantity", "charge", "amount", "attitude", "skill", "timeliness", "overall", "remarks"):
        assert f'name="report-{name}"' in page, name
    assert 'aria-label="服务态度 满意"' in page and 'aria-label="总体评价 不满意"' in page
    resp = client.post(f"/cases/{c['id']}/report", data=_report_post(c))
    assert resp.status_code == 400
    text = html(resp)
    assert "尚未归档签字的《技术服务单》" in text and 'id="report-needs-form"' in text
    assert store.get("cases", c["id"])["state"] == "awaiting_report"

    # signed on the tablet: the report form starts with what was filled there
    fields = {"arrived_at": "", "completed_at": "", "fault_found": "平板上填写的故障现象", "cause": "平板上填写的原因",
              "work_done": "平板上填写的处理情况", "charge": "free", "amount": "",
              "parts": [{"name": "电源模块", "spec": "DY-12", "qty": 2, "note": ""}],
              "ratings": {"attitude": "satisfied", "skill": "basically", "timeliness": "unsatisfied", "overall": "basically"},
              "remarks": "到达稍晚"}
    form_archive.archive_form(store, c, b"%PDF-1.7 signed", case_table=vocab.TABLE, kind="tablet", mime="application/pdf", filename="f.pdf",
                    actor="tech", matched_by="tablet", fields=fields)
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="report-needs-form"' not in page and 'id="report-form-version"' in page
    assert "平板上填写的故障现象" in page and 'value="电源模块 DY-12"' in page and 'value="2"' in page
    assert re.search(r'<input[^>]*checked[^>]*id="report-timeliness-2"|<input[^>]*id="report-timeliness-2"[^>]*checked',
                     page)
    # a missing rating stays beside the table, typed values kept
    resp = client.post(f"/cases/{c['id']}/report", data=_report_post(c, **{"report-skill": ""}))
    assert resp.status_code == 400 and "请选择顾客对「技术水平」的评价" in html(resp) and "希望备件更充足" in html(resp)
    # the values posted differ from the signed form (one record, 6.2.9): refused without a reason
    resp = client.post(f"/cases/{c['id']}/report", data=_report_post(c))
    assert resp.status_code == 400 and "与顾客签字的《技术服务单》不一致" in html(resp)
    assert "故障现象、故障原因、处理情况" in html(resp) and store.get("cases", c["id"])["state"] == "awaiting_report"
    resp = client.post(f"/cases/{c['id']}/report",
                       data=_report_post(c, **{"report-difference_reason": "顾客事后电话更正了评价"}))
    assert resp.status_code == 302
    c = store.get("cases", c["id"])
    f = c["report"]["service_form"]
    assert c["state"] == "awaiting_confirmation" and f["ratings"]["timeliness"] == "basically"
    assert f["parts"] == [{"part": "电源模块", "quantity": 1}] and c["report"]["form_version"]["kind"] == "tablet"

    # 技质部 sees the form's content and the customer's evaluation where it confirms them
    auth.logout()
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    review = page[page.index('id="confirm-review"'):page.index('id="confirm-review"') + 6000]
    for s in ("输出电压为零", "保护元件损坏", "电源模块 × 1", "无偿", "希望备件更充足", "基本满意",
              f"/forms/file/{c['report']['form_version']['id']}"):
        assert s in review, s
    evaluation = re.search(r'id="confirm-evaluation".*?</table>', page, re.S).group(0)
    assert [re.sub(r"<[^>]+>", "", x) for x in re.findall(r"<td[^>]*>(.*?)</td>", evaluation)] == [
        "满意", "满意", "基本满意", "满意"]
    assert 'id="report-evaluation"' in page
    # … and, above it, every difference from the signed form with the reason given
    block = re.search(r'id="record-differences".*?</table>', page, re.S).group(0)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-difference="([^"]+)">(.*?)</tr>', block, re.S)}
    assert set(rows) == {"arrived_at", "completed_at", "fault_found", "cause", "work_done", "parts",  # no time signed
                         "ratings.skill", "ratings.timeliness", "ratings.overall", "remarks"}
    assert "平板上填写的故障现象" in rows["fault_found"] and "输出电压为零" in rows["fault_found"]
    assert "电源模块 DY-12 × 2" in rows["parts"] and "顾客事后电话更正了评价" in rows["parts"]
    assert page.index('id="record-differences"') < page.index('id="confirm-review"')


def test_deadlines_show_clause_basis_start_and_due_everywhere(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=60 * 24 * 7)
    entry = case["deadlines"]["decision"]
    start = datetime.fromisoformat(entry["start"]).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    due = datetime.fromisoformat(entry["due"]).astimezone(TZ).strftime("%Y-%m-%d %H:%M")
    line = f"6.2.2 · 技质部收到后 8 个工作小时内确定解决方案 · 起算 {start}"
    auth.login("engineer")
    for url in ("/cases/", f"/cases/{case['id']}"):
        page = html(client.get(url))
        assert line in page and f"<strong class=\"text-nowrap\">{due}</strong>" in page, url
    for url in ("/cases/my", "/"):
        page = html(client.get(url))
        assert line in page and due in page, url


def test_no_regulation_number_written_outside_policy():
    """Hours, days and amounts of the regulation come from records.policy (issue 3, 5)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [root / "views/cases.py", root / "views/case_forms.py", root / "forms/cases.py",
             root / "forms/case_actions.py", root / "forms/case_report.py", root / "views/home.py",
             root / "views/templates/home.html", *sorted((root / "views/templates/cases").glob("**/*.html"))]
    pattern = re.compile(r"\d+\s*(个)?工作(小时|日)|\d+\s*(—\s*\d+\s*)?元|\d+\s*个?小时")
    found = [(f.name, m.group(0)) for f in files for m in pattern.finditer(f.read_text(encoding="utf-8"))]
    assert found == []
