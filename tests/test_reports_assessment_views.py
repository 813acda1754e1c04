"""考核 pages (9.1, 9.5) through the real app: the lists, one assessment with its figures, the
opinion sent (notices, the archived PDF as each reader may read it), refusals kept beside their
field, immutability, the month's Excel export, and who may (403 for the others)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from records.fines.visibility import HIDDEN_TEXT
from tests.fixtures.assessments import quarter
from tests.fixtures.pdfs import flat, pdf_text

TECH_PAGE = "/assessments/technicians/2026Q3/tech"


@pytest.fixture
def q3(store):
    with store.transaction("test") as tx:
        for doc in quarter():
            tx.insert("cases", doc)
    return store


def send(client, **over):
    data = {"grade": "合格", "opinion": "汇报需及时。", "recipients": ["sales"], "send": "发送", **over}
    return client.post(TECH_PAGE, data=data)


def test_tq_sends_a_technician_quarter_and_everyone_reads_what_they_may(q3, client, auth):
    auth.login("engineer")
    page = client.get("/assessments/?quarter=2026Q3").get_data(as_text=True)
    assert "tech-姓名" in page and "1/3（33.3%）" in page  # tech's arrivals: 1 on time of 3 due
    page = client.get(TECH_PAGE).get_data(as_text=True)
    assert "考核意见" in page and "服务次数" in page and "C3" in page  # the 返修 links its case
    bad = send(client, opinion="")
    assert bad.status_code == 400 and "请填写考核意见" in bad.get_data(as_text=True)
    assert 'value="合格" selected' in bad.get_data(as_text=True) or '<option selected value="合格">' in bad.get_data(as_text=True)
    assert send(client).status_code == 302
    sent = client.get(TECH_PAGE).get_data(as_text=True)
    assert "已发送" in sent and 'name="opinion"' not in sent and "下载 PDF" in sent
    again = send(client, opinion="改")
    assert again.status_code in (400, 403) and "改" not in q3.first("assessments", lambda d: True)["opinion"]
    doc = q3.first("assessments", lambda d: True)
    assert sorted(n["recipient"] for n in q3.scan("notifications") if n["kind"] == "assessment") == \
        ["manager", "sales", "tech"]
    auth.logout()

    auth.login("tech")  # the person concerned: the fines in full, the assessment in his list
    assert f"/assessments/{doc['id']}" in client.get("/assessments/").get_data(as_text=True)
    resp = client.get(f"/assessments/{doc['id']}/pdf")
    assert resp.mimetype == "application/pdf" and "合计200" in flat(pdf_text(resp.data))
    auth.logout()

    auth.login("sales")  # a recipient chosen (「报相关部门」): no fines, no lists
    assert client.get("/assessments/").status_code == 403
    assert HIDDEN_TEXT in client.get(TECH_PAGE).get_data(as_text=True)
    text = flat(pdf_text(client.get(f"/assessments/{doc['id']}/pdf").data))
    assert HIDDEN_TEXT in text and "合计200" not in text
    auth.logout()

    auth.login("tech2")  # neither the person nor a recipient
    assert client.get(TECH_PAGE).status_code == 403
    assert client.get(f"/assessments/{doc['id']}/pdf").status_code == 403


@pytest.mark.parametrize("who, url, status", [
    ("sales", "/assessments/", 403),
    ("receiver", "/assessments/", 403),
    ("tech", "/assessments/", 200),
    ("tech", TECH_PAGE, 403),                                  # his own, before it is sent
    ("gm", TECH_PAGE, 200),
    ("engineer", "/assessments/managers", 403),
    ("manager", "/assessments/managers?month=2026-09", 200),
    ("gm", "/assessments/managers/2026-09/manager", 200),
    ("engineer", "/assessments/managers/2026-09/engineer", 403),  # his own, not yet evaluated
    ("manager", "/assessments/technicians/2026Q9/tech", 404),
])
def test_who_may_open(client, auth, who, url, status):
    auth.login(who)
    assert client.get(url).status_code == status


def test_gm_may_read_but_not_send_a_technician_assessment(q3, client, auth):
    auth.login("gm")
    assert 'name="opinion"' not in client.get(TECH_PAGE).get_data(as_text=True)
    assert send(client).status_code == 403


def test_manager_evaluates_a_member_the_gm_the_manager_and_the_month_exports(q3, client, auth):
    auth.login("manager")
    assert client.post("/assessments/managers/2026-09/manager", data={"grade": "优秀", "evaluation": "x",
                                                                        "send": "确认并归档"}).status_code == 403
    resp = client.post("/assessments/managers/2026-09/engineer",
                       data={"grade": "良好", "evaluation": "答复及时。", "quality_notes": "记录清楚", "send": "确认并归档"})
    assert resp.status_code == 302
    book = load_workbook(io.BytesIO(client.get("/assessments/managers/2026-09.xlsx").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "人员" and any(r[0] == "engineer-姓名" and r[8] == "良好" and r[11] == "已发送" for r in rows[1:])
    auth.logout()
    auth.login("engineer")
    page = client.get("/assessments/managers/2026-09/engineer").get_data(as_text=True)
    assert "答复及时。" in page and "记录清楚" in page
    auth.logout()
    auth.login("gm")
    assert 'name="evaluation"' in client.get("/assessments/managers/2026-09/manager").get_data(as_text=True)
