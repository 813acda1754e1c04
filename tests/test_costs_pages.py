"""外部损失成本 (9.4) through the real app: a closed free on-site case's cost (its part without a
catalogue cost flagged), an item entered with its evidence (refused without), corrected (audited)
and reversed (kept), 财务部's 工业总产值 and the loss rate, who may, and the quarter's workbook
read back with openpyxl."""
from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from records.calendar.workdays import WorkCalendar
from records.core import parameters
from records.reports import case_costs as cc
from records.reports import failure_costs as fc
from records.reports import failure_entries as fe
from tests.fixtures.archive import png_bytes

Q = "2026Q4"  # closed_case is confirmed on 3 Dec 2026


def entry_data(case, **over):
    data = {"item": "claims", "amount": "10,000", "date": "2026-10-15", "case_number": case["number"],
            "customer_id": "", "description": "顾客索赔：停机损失"}
    data.update(over)
    return data


def test_the_quarter_page_entries_output_value_and_who_may(db, closed_case, client, auth):
    case = closed_case()
    auth.login("tech")
    assert client.get(f"/costs/?quarter={Q}").status_code == 403  # a technician does not read 9.4
    auth.login("finance")
    page = client.get(f"/costs/?quarter={Q}").get_data(as_text=True)
    assert "外部损失" in page and "保修费用" in page and "公司参数：人工费率" in page
    assert "电源模块" in page and "按 0 计" in page and "人工费率" in page  # no catalogue cost, no rate yet: flagged
    cost = cc.cost_of(db, case, WorkCalendar.default())
    assert cost.expenses_total == Decimal("1000.00") and cost.working_days == Decimal("1.800")  # 1h + 1 d + 5h

    bad = client.post("/costs/entries", data=entry_data(case), content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "请附上证据文件" in text and "顾客索赔：停机损失" in text  # typed values kept
    assert not list(db.scan(fe.TABLE))
    unlinked = client.post("/costs/entries", data=entry_data(case, case_number="", evidence=[(io.BytesIO(png_bytes()), "x.png")]),
                           content_type="multipart/form-data")
    assert unlinked.status_code == 400 and "请关联一个案例" in unlinked.get_data(as_text=True)

    ok = client.post("/costs/entries", data=entry_data(case, evidence=[(io.BytesIO(png_bytes()), "索赔函.png")]),
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    (entry,) = list(db.scan(fe.TABLE))
    assert entry["quarter"] == Q and entry["customer_id"] == case["customer_id"] and entry["evidence"][0]["filename"] == "索赔函.png"
    assert client.get(f"/costs/entries/{entry['id']}/evidence/0").data == png_bytes()

    no_reason = client.post(f"/costs/entries/{entry['id']}", data=entry_data(case, amount="12000", rev=entry["_rev"]),
                            content_type="multipart/form-data")
    assert no_reason.status_code == 400 and "请写明更正理由" in no_reason.get_data(as_text=True)
    fixed = client.post(f"/costs/entries/{entry['id']}", content_type="multipart/form-data",
                        data=entry_data(case, amount="12000", reason="按法院调解书更正", rev=entry["_rev"]))
    assert fixed.status_code == 302
    shown = client.get(f"/costs/entries/{entry['id']}").get_data(as_text=True)
    assert "更正：按法院调解书更正" in shown and "12,000.00" in shown
    q = fc.of_quarter(db, Q, WorkCalendar.default())
    assert dict(q.items)["claims"] == Decimal("12000.00") and q.totals_by("customer")[0][0] == "某部队第一修理所"

    auth.login("engineer")
    assert client.post(f"/costs/output/{Q}", data={"amount": "1000000"}).status_code == 403  # 财务部 only
    auth.login("finance")
    bad = client.post(f"/costs/output/{Q}", data={"amount": "一百万"})
    assert bad.status_code == 400 and "请填写大于 0 的工业总产值" in bad.get_data(as_text=True)
    assert client.post(f"/costs/output/{Q}", data={"amount": "１,０００,０００"}).status_code == 302
    q = fc.of_quarter(db, Q, WorkCalendar.default())
    assert q.output == Decimal("1000000.00") and fc.percent(q.loss_rate) == f"{q.total / 10000:.2f}%"
    assert fc.percent(q.loss_rate) in client.get(f"/costs/?quarter={Q}").get_data(as_text=True)

    assert client.post(f"/costs/entries/{entry['id']}/reverse", data={"reason": ""}).status_code == 400
    assert client.post(f"/costs/entries/{entry['id']}/reverse", data={"reason": "重复录入"}).status_code == 302
    (kept,) = list(db.scan(fe.TABLE))  # never deleted
    assert kept["reversed"]["reason"] == "重复录入"
    assert dict(fc.of_quarter(db, Q, WorkCalendar.default()).items)["claims"] == Decimal("0.00")
    assert "已冲销：重复录入" in client.get(f"/costs/?quarter={Q}").get_data(as_text=True)


def test_the_case_cost_block_and_the_workbook(db, closed_case, client, auth):
    case = closed_case()
    parameters.set_value(db, "labour_rate", 300, "finance")
    assert cc.rate_schedule(db)[-1][1] == Decimal(300)
    auth.login("finance")
    assert f"/costs/cases/{case['id']}" in client.get(f"/cases/{case['id']}").get_data(as_text=True)
    page = client.get(f"/costs/cases/{case['id']}").get_data(as_text=True)
    assert "1,000.00" in page and "1.80 个工作日 × 1 人" in page and "目录中无成本，按 0 计" in page and Q in page
    auth.login("tech")
    assert f"/costs/cases/{case['id']}" not in client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert client.get(f"/costs/cases/{case['id']}").status_code == 403

    auth.login("gm")
    resp = client.get(f"/costs/?quarter={Q}&export=xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(resp.data))
    cost = cc.cost_of(db, case, WorkCalendar.default())
    first = wb.worksheets[0]
    rows = {r[0]: r[1] for r in first.iter_rows(min_row=2, values_only=True) if r and r[0]}
    assert rows["保修费用"] == float(cost.total) and rows["外部损失成本合计"] == float(cost.total)
    cases = wb["案例成本"]
    assert [c.value for c in cases[2]][:4] == [case["number"], "质保期内免费服务", 1000, 0]
