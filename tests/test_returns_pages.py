"""退回物料 pages through the app's test client: 技质部 receives a case's returned materials (the
6.2.7 hand-in follows), inspects the faulty part, 我的待办 lists both; who may; a bad field shown
beside itself with nothing written; the tablet form offers the technician's kit."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from records.calendar.corrections import current_calendar
from records.calendar.workdays import parse_local
from records.cases import workflow
from records.cases.steps import handin
from records.materials import inspections
from tests.fixtures.calendar import TZ
from tests.fixtures.service_forms import report_form

TECH = {"username": "tech", "roles": ["technician", "receiver"]}
ENG = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
MATERIALS = [{"part": "电源模块", "quantity": "1", "condition": "damaged"},
             {"part": "保险管", "quantity": "2", "condition": "unused", "code": "F-10A"}]


def html(resp) -> str:
    return resp.get_data(as_text=True)


def minute(dt: datetime) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def reported(store, make_case, archive_signed_form):
    """A free on-site case reported by the technician with a faulty and an unused part to return."""
    cal = current_calendar(store)
    c = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=120)
    c = workflow.perform(store, cal, c["id"], "decide", ENG, {"solution": "onsite_free", "analysis": "a"})
    c = workflow.perform(store, cal, c["id"], "dispatch", ENG, {"technicians": ["tech"], "plan": "p", "precautions": "q"})
    c = workflow.perform(store, cal, c["id"], "arrive", TECH, {"arrived_at": c["dispatch"]["departed_at"]})
    c = workflow.perform(store, cal, c["id"], "complete", TECH, {"work_done": "更换电源模块",
                                                               "completed_at": c["onsite"]["arrived_at"]})
    c = workflow.perform(store, cal, c["id"], "approve_return", ENG, {})
    c = workflow.perform(store, cal, c["id"], "record_return", TECH, {"returned_at": c["onsite"]["completed_at"]})
    archive_signed_form(store, c)
    return workflow.perform(store, cal, c["id"], "report", TECH, {
        **report_form(), "arrived_at": parse_local(c["onsite"]["arrived_at"]),
        "completed_at": parse_local(c["onsite"]["completed_at"]), "text": "已修复", "expenses": [],
        "returned_materials": MATERIALS})


def test_receive_then_inspect_through_the_pages(client, auth, store, reported):
    c = reported
    assert not handin.handed_in(c) and "confirm" not in c["deadlines"]
    auth.login("tech")
    assert client.get("/returns/").status_code == 403  # 技质部's pages
    assert client.get(f"/returns/case/{c['id']}").status_code == 403
    tablet = html(client.get(f"/forms/case/{c['id']}/tablet"))
    assert "随身备件" in tablet and "目录外（填写名称）" in tablet  # parts used: picked from the kit, or free text
    auth.logout()

    auth.login("engineer")
    page = html(client.get("/returns/"))
    assert 'id="waiting"' in page and c["number"] in page and "保险管 × 2（未使用）" in page
    assert "返回物料待接收（2 项）" in html(client.get("/cases/my"))
    assert "尚未交齐：返回物料待技质部接收" in html(client.get(f"/cases/{c['id']}"))
    form = html(client.get(f"/returns/case/{c['id']}"))
    assert "待交齐：返回物料（技质部接收）" in form
    returned_at = parse_local(c["onsite"]["returned_at"])
    bad = client.post(f"/returns/case/{c['id']}", data={
        "rev": c["_rev"], "received_at": minute(returned_at - timedelta(hours=1)), "notes-0": "外壳烧蚀"})
    assert bad.status_code == 200 and "返回公司的时间" in html(bad) and "外壳烧蚀" in html(bad)
    assert not store.get("cases", c["id"]).get("handin")  # nothing written
    ok = client.post(f"/returns/case/{c['id']}", data={"rev": c["_rev"], "received_at": minute(returned_at),
                                                     "notes-0": "外壳烧蚀", "notes-1": "包装完好"})
    assert ok.status_code == 302
    c = store.get("cases", c["id"])
    assert handin.handed_in(c) and c["deadlines"]["confirm"]["start"] == c["report"]["reported_at"]
    assert "书面汇报已交齐" in html(client.get(ok.headers["Location"]))
    shown = html(client.get(f"/cases/{c['id']}"))
    assert "6.2.8 确认时限自此起算" in shown and "电源模块：已接收" in shown
    doc = inspections.for_case(store, c["id"])[0]
    assert "电源模块 待检验" in html(client.get("/cases/my"))
    assert "返回物料待接收" not in html(client.get("/cases/my"))

    page = html(client.get(f"/returns/inspections/{doc['id']}"))
    assert "外购件" in page and "待检验" in page  # the one cause list
    bad = client.post(f"/returns/inspections/{doc['id']}", data={"rev": doc["_rev"], "result": "confirmed_fault",
                                                               "cause_text": "电容击穿", "cause_category": ""})
    assert bad.status_code == 200 and "请选择原因类别" in html(bad) and "电容击穿" in html(bad)
    ok = client.post(f"/returns/inspections/{doc['id']}", data={"rev": doc["_rev"], "result": "confirmed_fault",
                                                              "cause_text": "电容击穿", "cause_category": "bought_in"})
    assert ok.status_code == 302
    assert inspections.get(store, doc["id"])["state"] == "done"
    assert 'id="done"' in html(client.get("/returns/")) and "电源模块 待检验" not in html(client.get("/cases/my"))
