"""The penalty register's pages (views/fines.py): who reads it (403 for others, own rows only for
the person concerned), the bulk ruling with one reason, issuing a month to payroll (frozen) and
the correction line of a later ruling, the register's and the payroll's exports read back."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook

from records.calendar.corrections import current_calendar
from records.cases import penalties, workflow
from records.fines import months, register
from records.fines.register import next_month
from tests.fixtures.calendar import TZ


@pytest.fixture
def fined(app_world, make_case, users):
    """Three cases with a proposal each: 6.1.5 on tech (50 元), 6.1.5 on tech2 (2 items, 100 元),
    and 6.1.4 on receiver (the call recorded a week after it was taken)."""
    store = app_world.store
    cal = current_calendar(store)
    made = []
    for person, items in (("tech", 1), ("tech2", 2)):
        case = make_case()
        case = workflow.perform(store, cal, case["id"], "propose_fine", users["manager"],
                                {"kind": "record_unclear", "person": person, "facts": "记录不清", "items": items})
        made.append((case, case["fines"][-1]["key"]))
    late = make_case(minutes_ago=7 * 24 * 60)
    made.append((late, "handover"))
    assert [c["fines"][-1]["person"] for c, _ in made] == ["tech", "tech2", "receiver"]
    return made


def fine_ids(page: str) -> list[str]:
    return re.findall(r'data-fine="([^"]+)"', page)


def test_who_reads_the_whole_register(client, auth, fined):
    for user, status in (("manager", 200), ("gm", 200), ("finance", 200),
                         ("admin", 403), ("engineer", 403), ("sales", 403), ("vp", 403)):
        auth.login(user)
        resp = client.get("/fines/")
        assert resp.status_code == status, user
        if status == 200:
            assert len(fine_ids(resp.text)) == 3
            assert "tech2-姓名" in resp.text and "receiver-姓名" in resp.text
            assert 'href="/fines/"' in resp.text  # the menu entry
        assert client.get("/fines/months").status_code == status, user
        assert client.get("/fines/?export=csv").status_code == status, user
        auth.logout()


def test_the_person_concerned_reads_only_their_own_rows(client, auth, fined):
    auth.login("tech")
    resp = client.get("/fines/")
    assert resp.status_code == 200
    assert fine_ids(resp.text) == [f"{fined[0][0]['id']}:{fined[0][1]}"]
    assert "tech2-姓名" not in resp.text and "receiver-姓名" not in resp.text
    assert "批量处理" not in resp.text
    assert client.get("/fines/?person=tech2").text.count("data-fine=") == 0  # a filter cannot widen it
    exported = client.get("/fines/?export=csv").get_data().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(exported)))) == 2 and "tech2-姓名" not in exported
    assert client.get("/fines/months").status_code == 403
    assert client.post("/fines/rule", data={"fines": ["1:x"], "decision": "waived", "reason": "x"}).status_code == 403


def test_bulk_ruling_with_one_reason_skips_what_cannot_be_ruled(client, auth, fined, store):
    auth.login("manager")
    (c1, k1), (c2, k2), (c3, k3) = fined
    ticked = [f"{c1['id']}:{k1}", f"{c2['id']}:{k2}", f"{c3['id']}:没有这条"]
    resp = client.post("/fines/rule", data={"fines": ticked, "decision": "confirmed", "reason": "记录确有不清"},
                       follow_redirects=True)
    assert "已确认 2 条处罚建议" in resp.text and "没有这条处罚建议" in resp.text
    for case, key, amount in ((c1, k1, 50), (c2, k2, 100)):
        stored = store.get("cases", case["id"])
        f = next(f for f in stored["fines"] if f["key"] == key)
        assert (f["status"], f["final_amount"], f["reason"], f["decided_by"]) == ("confirmed", amount, "记录确有不清", "manager")
        assert stored["timeline"][-1]["action"] == "rule_fine"
    # the same again: each already ruled proposal is refused with its reason, nothing changes
    again = client.post("/fines/rule", data={"fines": ticked[:2], "decision": "waived", "reason": "再次"},
                        follow_redirects=True)
    assert again.text.count("当前为「已确认」，不能再批量处理") == 2
    # no reason: nothing ruled
    none = client.post("/fines/rule", data={"fines": [f"{c3['id']}:{k3}"], "decision": "waived", "reason": ""},
                       follow_redirects=True)
    assert "理由" in none.text and store.get("cases", c3["id"])["fines"][0]["status"] == "proposed"
    auth.logout()
    auth.login("gm")  # the GM rules otherwise, one by one on the case page: not the bulk ruling
    assert client.post("/fines/rule", data={"fines": ticked, "decision": "waived", "reason": "x"}).status_code == 403


def test_issued_month_is_frozen_and_a_later_ruling_is_a_correction(client, auth, fined, store, users):
    (c1, k1), (c2, k2), (c3, k3) = fined
    out = penalties.rule_many(store, current_calendar(store), [(c1["id"], k1), (c2["id"], k2)], users["manager"],
                              "confirmed", "确认")
    assert [o.ok for o in out] == [True, True]
    month = datetime.now(TZ).strftime("%Y-%m")
    auth.login("manager")
    assert client.post(f"/fines/months/{month}/issue").status_code == 403  # only 财务部 issues
    auth.logout()
    auth.login("finance")
    page = client.get("/fines/months")
    assert f"发放 {month}（冻结）" in page.text
    resp = client.post(f"/fines/months/{month}/issue", follow_redirects=True)
    assert f"{month} 已发放并冻结：2 条，合计 150 元" in resp.text
    assert "已发放，不能再次发放" in client.post(f"/fines/months/{month}/issue", follow_redirects=True).text
    assert "尚未开始" in client.post(f"/fines/months/{next_month(next_month(month))}/issue",
                                   follow_redirects=True).text
    [doc] = months.issued(store).values()
    assert doc["total"] == 150 and store.history(months.TABLE, doc["id"])  # audited
    # the GM rules 0 on tech's 50 after the month was issued: a correction of -50 in the next month
    workflow.perform(store, current_calendar(store), c1["id"], "gm_rule_fine", users["gm"],
                     {"key": k1, "amount": "0", "reason": "特殊情况"})
    rows = penalties.register_rows(store)
    frozen = [r for r in rows if r["month"] == month]
    assert sorted((r["person"], r["amount"], r["frozen"]) for r in frozen) == [("tech", 50, True), ("tech2", 100, True)]
    [corr] = [r for r in rows if r["kind"] == "correction"]
    assert (corr["person"], corr["amount"], corr["month"]) == ("tech", -50, next_month(month))
    totals = register.totals(rows)["months"]
    assert totals[("tech", next_month(month))].amount == -50
    # the payroll export of the issued month: the frozen amounts per person, with clause and case
    wb = load_workbook(io.BytesIO(client.get(f"/fines/months/{month}/payroll").get_data()))
    got = [list(r) for r in wb.active.iter_rows(values_only=True)]
    assert got[0] == ["责任人", "部门", "条款", "案例", "类别", "金额（元）", "裁定时间", "依据"]
    assert [(r[0], r[2], r[3], r[5]) for r in got[1:] if r[4] != "小计"] == [
        ("tech-姓名", "6.1.5", c1["number"], 50), ("tech2-姓名", "6.1.5", c2["number"], 100)]
    assert [r[5] for r in got[1:] if r[4] == "小计"] == [50, 100]
    nxt = list(csv.reader(io.StringIO(client.get(f"/fines/months/{next_month(month)}/payroll?export=csv")
                                      .get_data().decode("utf-8-sig"))))
    assert [(r[0], r[4], r[5]) for r in nxt[1:]] == [("tech-姓名", "更正", "-50"), ("", "小计", "-50")]
    # the register page: the totals link to their rows; the month filter shows the frozen lines
    page = client.get(f"/fines/?month={month}").text
    assert len(fine_ids(page)) == 2 and "已发放" in page
    assert fine_ids(client.get("/fines/").text)[0] == f"{c3['id']}:{k3}"  # waiting for a ruling: first
    assert f"/fines/?person=tech&amp;month={next_month(month)}" in client.get("/fines/").text


def test_register_export_reads_back_with_the_pages_columns(client, auth, fined):
    auth.login("gm")
    wb = load_workbook(io.BytesIO(client.get("/fines/?clause=6.1.5&export=xlsx").get_data()))
    got = [list(r) for r in wb.active.iter_rows(values_only=True)]
    assert got[0][:4] == ["责任人", "部门", "条款", "案例"] and len(got) == 3
    assert {r[0] for r in got[1:]} == {"tech-姓名", "tech2-姓名"}
    assert "导出 Excel" in client.get("/fines/").text
