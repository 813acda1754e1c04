"""The report and confirmation pages (issue 12, issue 14's 7.1–7.4) through the app's test client:
every bad expense line shown beside its line with the typed values kept, the running total's
script, receipts uploaded per line and downloaded by readers only, the override at confirmation,
the customer's contact added with one tick, and a 7.4 approval asked and given on the case."""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from records.calendar.corrections import current_calendar
from records.cases import workflow
from records.notifications import inbox
from tests.fixtures.calendar import TZ
from tests.fixtures.service_forms import CONDUCT
from tests.fixtures.users import set_supervisor

TECH = {"username": "tech", "roles": ["technician", "receiver"]}
ENG = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}


def html(resp) -> str:
    return resp.get_data(as_text=True)


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def returned(store, make_case, archive_signed_form):
    """``returned()``: a case the engineer took in, decided (free on site), tech sent, done, back,
    with its signed 技术服务单 archived: the report is next."""
    def make():
        cal = current_calendar(store)
        c = make_case(username="engineer", roles=("tq_engineer", "receiver"))
        c = workflow.perform(store, cal, c["id"], "decide", ENG, {"solution": "onsite_free", "analysis": "a"})
        c = workflow.perform(store, cal, c["id"], "dispatch", ENG, {"technicians": ["tech"], "plan": "p",
                                                                  "precautions": "q"})
        c = workflow.perform(store, cal, c["id"], "arrive", TECH, {"arrived_at": c["dispatch"]["departed_at"]})
        c = workflow.perform(store, cal, c["id"], "complete", TECH, {"work_done": "更换电源模块",
                                                                   "completed_at": c["onsite"]["arrived_at"]})
        c = workflow.perform(store, cal, c["id"], "approve_return", ENG, {})
        c = workflow.perform(store, cal, c["id"], "record_return", TECH, {"returned_at": c["onsite"]["completed_at"]})
        archive_signed_form(store, c)
        return store.get("cases", c["id"])
    return make


def _minute(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def _today() -> str:
    return datetime.now(TZ).date().isoformat()


def report_post(c, lines, **over) -> dict:
    data = {"report-rev": c["_rev"], "report-arrived_at": _minute(c["onsite"]["arrived_at"]),
            "report-completed_at": _minute(c["onsite"]["completed_at"]), "report-fault_found": "输出电压为零",
            "report-cause": "保护元件损坏", "report-work_done": "更换电源模块", "report-charge": "free",
            "report-attitude": "satisfied", "report-skill": "satisfied", "report-timeliness": "basically",
            "report-overall": "satisfied", "report-text": "已修复，运行正常",
            **{f"report-{k}": v for k, v in CONDUCT.items()},
            "report-customer_contact_name": "王站长", "report-customer_contact_phone": "0937-5550303"}
    for i, line in enumerate(lines):
        data.update({f"report-expenses-{i}-{k}": v for k, v in line.items()})
    data.update(over)
    return data


def row_of(page: str, name: str) -> str:
    """The table row (<tr>…</tr>) holding the input ``name``."""
    at = page.index(f'name="{name}"')
    return page[page.rindex("<tr", 0, at):page.index("</tr>", at)]


def test_every_bad_line_is_shown_beside_its_line_with_the_typed_values_kept(client, auth, store, returned):
    c = returned()
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'src="/static/expenses.js"' in page and 'id="expense-total"' in page and "<script>" not in page
    assert 'enctype="multipart/form-data"' in page and 'name="report-expenses-0-receipts"' in page
    assert 'data-expense-amount' in page and "交际应酬（7.4）" in page and "（7.1）" in page
    resp = client.post(f"/cases/{c['id']}/report", data=report_post(c, [
        {"date": _today(), "category": "transport", "item": "高铁", "amount": "1,86"},
        {"date": _today(), "category": "", "item": "住宿", "amount": "１８６０"},
        {"date": _today(), "category": "lodging", "item": "住宿", "amount": "￥300"},
    ]))
    assert resp.status_code == 400
    page = html(resp)
    assert "第 1、2 行有误" in page
    first, second, third = (row_of(page, f"report-expenses-{i}-amount") for i in range(3))
    assert "金额格式不正确" in first and 'value="1,86"' in first and "请选择费用类别" not in first
    assert "请选择费用类别" in second and 'value="１８６０"' in second and "金额格式不正确" not in second
    assert "invalid-feedback" not in third
    assert store.get("cases", c["id"])["state"] == "awaiting_report"  # nothing half-written


def test_receipts_per_line_the_override_and_the_contact_at_confirmation(client, auth, store, app_world, returned):
    c = returned()
    scan = png_bytes()
    auth.login("tech")
    resp = client.post(f"/cases/{c['id']}/report", content_type="multipart/form-data", data=report_post(c, [
        {"date": _today(), "category": "transport", "item": "高铁", "amount": "¥800",
         "receipts": (io.BytesIO(scan), "高铁票.png")},
    ]))
    assert resp.status_code == 302, html(resp)
    c = store.get("cases", c["id"])
    [receipt] = c["report"]["expenses"][0]["receipts"]
    page = html(client.get(f"/cases/{c['id']}"))
    link = f"/cases/{c['id']}/expenses/0/receipts/0"
    assert f'href="{link}"' in page and "高铁票.png" in page
    got = client.get(link)
    assert got.status_code == 200 and got.data == scan and got.mimetype == "image/png"
    assert client.get(f"/cases/{c['id']}/expenses/0/receipts/1").status_code == 404
    auth.logout()
    auth.login("receiver")  # not part of this case
    assert client.get(link).status_code == 403

    auth.logout()
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    assert "将顾客联系人 王站长（0937-5550303）加入" in page and 'id="conduct"' in page
    post = {"confirm-rev": c["_rev"], "confirm-quality": "服务及时", "confirm-lines-0-approved": "900",
            "confirm-lines-0-reason": "", "confirm-add_contact": "y",
            "confirm-fault_category": "power", "confirm-cause_category": "process"}  # 9.3: required (issue 17)
    resp = client.post(f"/cases/{c['id']}/confirm", data=post)
    assert resp.status_code == 400
    row = row_of(html(resp), "confirm-lines-0-approved")
    assert "超过报销金额" in row and "超额核准" in row and 'value="900"' in row
    resp = client.post(f"/cases/{c['id']}/confirm", data={**post, "confirm-lines-0-override": "y",
                                                          "confirm-lines-0-reason": "另有出租车费未列"})
    assert resp.status_code == 302, html(resp)
    c = store.get("cases", c["id"])
    assert c["audit"]["lines"][0]["approved"] == 900.0 and c["audit"]["lines"][0]["override"] is True
    assert {"name": "王站长", "phone": "0937-5550303", "title": ""} in store.get("customers", c["customer_id"])["contacts"]
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="contact-added"' in page and "超额核准" in page and receipt["filename"] in page


def test_a_74_approval_is_asked_and_given_on_the_case(client, auth, store, returned):
    set_supervisor(store, "tech", "receiver")  # a 主管领导 who has no other part in the case
    c = returned()
    auth.login("receiver")
    assert client.get(f"/cases/{c['id']}").status_code == 403
    auth.logout()
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="action-request_approval"' in page
    resp = client.post(f"/cases/{c['id']}/request-approval", data={"request_approval-rev": c["_rev"],
                                                                   "request_approval-purpose": ""})
    assert resp.status_code == 400 and "请填写事由及预计金额" in html(resp)
    resp = client.post(f"/cases/{c['id']}/request-approval", data={"request_approval-rev": c["_rev"],
                                                                   "request_approval-purpose": "招待工作餐，约 300 元"})
    assert resp.status_code == 302
    [notice] = [n for n in store.scan(inbox.TABLE) if n["recipient"] == "receiver"]
    assert "交际应酬" in notice["subject"] and notice["link"] == f"/cases/{c['id']}"
    auth.logout()
    auth.login("receiver")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="action-decide_approval"' in page and "招待工作餐，约 300 元" in page
    c = store.get("cases", c["id"])
    resp = client.post(f"/cases/{c['id']}/decide-approval", data={
        "decide_approval-rev": c["_rev"], "decide_approval-request": "1", "decide_approval-agreed": "yes",
        "decide_approval-given_at": _minute(c["approvals"][0]["requested_at"])})
    assert resp.status_code == 302, html(resp)
    [a] = store.get("cases", c["id"])["approvals"]
    assert (a["state"], a["decided_by"]) == ("approved", "receiver")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="approvals"' in page and "主管领导已同意" in page and 'id="action-decide_approval"' not in page
