"""季度报告 pages (9.2) through the real app: 技质部经理 makes a draft with the button, writes the
summary (a refusal kept beside its field), issues it and corrects it; the readers (技质部, 分管副总,
总经理) read the versions and download the archived PDF and workbook; the others get 403; the
GM's home page shows the latest report and the quarter so far."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from records.reports import quarterly as q
from tests.fixtures.assessments import dl
from tests.fixtures.calendar import at


@pytest.fixture
def cases(store):
    with store.transaction("test") as tx:
        tx.insert("cases", {"number": "Q1", "type": "consultation", "received_at": "2026-08-03T09:00:00+08:00",
                            "state": "closed", "outcome": "answered",
                            "deadlines": {"consult_reply": dl("2026-08-03T17:00", "2026-08-03T11:00")}})
    return store


def test_the_manager_drafts_writes_issues_and_corrects(cases, client, auth):
    auth.login("manager")
    page = client.get("/quarterly/").get_data(as_text=True)
    assert "生成季度报告草稿" in page and "季度报告" in page
    bad = client.post("/quarterly/", data={"quarter": "2026Q5"})
    assert bad.status_code == 400 and "格式如 2026Q3" in bad.get_data(as_text=True)
    future = client.post("/quarterly/", data={"quarter": "2099Q1"})
    assert future.status_code == 400 and "只能为已结束的季度" in future.get_data(as_text=True)
    made = client.post("/quarterly/", data={"quarter": "2026q3"})
    doc = cases.first(q.TABLE, lambda d: True)
    assert made.status_code == 302 and made.headers["Location"].endswith(f"/quarterly/{doc['id']}")
    url = f"/quarterly/{doc['id']}"
    assert "季度报告草稿：2026 年第 3 季度" in client.get("/cases/my").get_data(as_text=True)  # 我的待办
    page = client.get(url).get_data(as_text=True)
    assert "2026 年第 3 季度" in page and "案例类型" in page and "跟踪回访" in page and 'name="summary"' in page

    refused = client.post(f"{url}/summary", data={"rev": doc["_rev"], "summary": "", "issue": "1"})
    assert refused.status_code == 400 and "请先填写并保存技质部经理总结" in refused.get_data(as_text=True)
    doc = cases.get(q.TABLE, doc["id"])
    assert client.post(f"{url}/refresh", data={"rev": doc["_rev"]}).status_code == 302
    doc = cases.get(q.TABLE, doc["id"])
    draft_pdf = client.get(f"{url}/pdf")
    assert draft_pdf.mimetype == "application/pdf" and draft_pdf.data.startswith(b"%PDF")
    issued = client.post(f"{url}/summary", data={"rev": doc["_rev"], "summary": "本季度平稳。", "issue": "1"})
    assert issued.status_code == 302
    doc = cases.get(q.TABLE, doc["id"])
    assert doc["status"] == q.ISSUED
    page = client.get(url).get_data(as_text=True)
    assert "已发布" in page and 'name="summary"' not in page and "更正原因" in page and "本季度平稳。" in page

    assert client.post(f"{url}/correct", data={"reason": ""}).status_code == 400
    corrected = client.post(f"{url}/correct", data={"reason": "补录一个案例"})
    v2 = cases.first(q.TABLE, lambda d: d["version"] == 2)
    assert corrected.headers["Location"].endswith(f"/quarterly/{v2['id']}") and v2["reason"] == "补录一个案例"
    listing = client.get("/quarterly/").get_data(as_text=True)
    assert "第 2 版" in listing and "补录一个案例" in listing
    auth.logout()

    auth.login("gm")
    home = client.get("/").get_data(as_text=True)
    assert "售后服务质量季度报告" in home and f"/quarterly/{doc['id']}" in home and "本季度至今" in home
    xlsx = client.get(f"{url}/xlsx")
    assert xlsx.data == q.archived(cases, doc, "xlsx")  # the archived bytes, as issued
    assert "案例类型" in load_workbook(io.BytesIO(xlsx.data)).sheetnames
    assert client.get(f"{url}/pdf").data == q.archived(cases, doc, "pdf")
    assert client.post(f"/quarterly/{v2['id']}/summary", data={"rev": v2["_rev"], "summary": "x"}).status_code == 403
    auth.logout()


READERS = {"engineer": 200, "vp": 200, "tech": 403, "finance": 403}  # the GM: above


def test_who_reads_the_report(store, client, auth, cal):
    doc, _ = q.create_draft(store, "2026Q3", cal, at("2026-11-02T09:00"), "manager")
    for user, status in READERS.items():
        auth.login(user)
        assert client.get("/quarterly/").status_code == status, user
        assert client.get(f"/quarterly/{doc['id']}").status_code == status, user
        assert client.get(f"/quarterly/{doc['id']}/xlsx").status_code == status, user
        if status == 200:
            page = client.get(f"/quarterly/{doc['id']}").get_data(as_text=True)
            assert 'name="summary"' not in page  # only 技质部经理 writes it
            assert client.post(f"/quarterly/{doc['id']}/refresh", data={"rev": 1}).status_code == 403
        assert ('href="/quarterly/"' in client.get("/").get_data(as_text=True)) == (status == 200), user  # the menu
        auth.logout()
