"""The supplier claim's pages (3.1): raised from a case page (prefilled), evidence, the notice PDF
read back (its figures and Chinese text; archived when sent, SHA-256 kept), the reply step, the
register and its export read back with openpyxl, 我的待办."""
from __future__ import annotations

import hashlib
import io
from datetime import datetime

from openpyxl import load_workbook

from records.materials import claims, suppliers
from tests.fixtures.archive import png_bytes
from tests.fixtures.pdfs import flat, pdf_text


def test_a_claim_raised_from_a_case_sent_and_registered(app_world, make_case, auth):
    store = app_world.store
    with store.transaction("t") as tx:
        s = suppliers.insert_tx(tx, {"name": "华东电源器件有限公司", "address": "无锡市长江路 18 号",
                                     "contacts": [{"name": "陈经理", "phone": "0510-85550123"}],
                                     "warranties": [{"part_code": "", "part_name": "", "months": 120}]})
    case = make_case()
    auth.login("engineer")
    html = auth.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f"/suppliers/claims/new?case={case['id']}" in html  # the link for 技质部 on the case page
    html = auth.client.get(f"/suppliers/claims/new?case={case['id']}").get_data(as_text=True)
    assert case["number"] in html and "电源控制箱无输出" in html and "2025-01-10" in html  # prefilled
    form = {"supplier_id": s["id"], "case_number": case["number"], "part_code": "PWR-24V", "part_text": "24V 开关电源",
            "cause_category": "bought_in", "failure": "电源控制箱无输出；检验确认开关电源电容击穿",
            "warranty_basis": "delivery", "warranty_start": "2025-01-10", "failed_on": case["received_at"][:10],
            "lines-0-kind": "parts", "lines-0-text": "开关电源 1 台", "lines-0-amount": "860.00",
            "lines-1-kind": "labour", "lines-1-text": "2 人 × 2 天", "lines-1-amount": "1200.50",
            "lines-2-kind": "travel", "lines-2-text": "差旅", "lines-2-amount": "639.5"}
    bad = auth.client.post("/suppliers/claims/new", data={**form, "cause_category": "", "case_number": "FW-无此号"})
    assert bad.status_code == 200 and "请选择原因类别" in bad.get_data(as_text=True)
    resp = auth.client.post("/suppliers/claims/new", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    c = claims.register(store)[0]
    assert (c["case_id"], c["amount"], c["state"]) == (case["id"], "2700.00", "draft")
    url = f"/suppliers/claims/{c['id']}"
    resp = auth.client.post(f"{url}/evidence", data={"file": (io.BytesIO(png_bytes()), "电容击穿照片.png")},
                            content_type="multipart/form-data")
    assert resp.status_code == 302
    refused = auth.client.post(f"{url}/evidence", data={"file": (io.BytesIO(b"not an image"), "x.png")},
                               content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "待发出" in auth.client.get("/cases/my").get_data(as_text=True)  # 我的待办
    assert "草稿" in pdf_text(auth.client.get(f"{url}/notice.pdf").data)  # before sending: a draft, rendered now
    c = claims.get(store, c["id"])
    resp = auth.client.post(f"{url}/send", data={"rev": c["_rev"]})
    assert resp.status_code == 302
    c = claims.get(store, c["id"])
    assert c["state"] == "sent"
    pdf = auth.client.get(f"{url}/notice.pdf")
    assert pdf.headers["X-Content-SHA256"] == c["notice_pdf"]["sha256"] == hashlib.sha256(pdf.data).hexdigest()
    text = flat(pdf_text(pdf.data))
    for words in ("质量问题通知及索赔函", "华东电源器件有限公司", case["number"], "PWR-24V", "24V开关电源",
                  "外购件", "电容击穿", "电容击穿照片.png", "860.00", "1,200.50", "639.50", "2,700.00",
                  c["reply_due"], "120个月"):
        assert flat(words) in text, words
    assert "草稿" not in text
    # the reply: a date before the sending is refused beside its field
    resp = auth.client.post(f"{url}/reply", data={"rev": c["_rev"], "outcome": "accepted", "on": "2020-01-01",
                                                  "text": "同意"})
    assert resp.status_code == 400 and "答复日期应在发出日与今天之间" in resp.get_data(as_text=True)
    resp = auth.client.post(f"{url}/reply", data={"rev": c["_rev"], "outcome": "accepted", "on": c["sent_at"][:10],
                                                  "text": "同意赔偿"})
    assert resp.status_code == 302 and claims.get(store, c["id"])["state"] == "replied"
    auth.logout()
    auth.login("finance")
    assert "待记录追回款" in auth.client.get("/cases/my").get_data(as_text=True)
    html = auth.client.get(f"/suppliers/claims?supplier={s['id']}&state=replied").get_data(as_text=True)
    assert c["number"] in html
    assert c["number"] not in auth.client.get("/suppliers/claims?state=closed").get_data(as_text=True)
    resp = auth.client.get(f"/suppliers/claims?supplier={s['id']}&export=xlsx")
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    assert rows[0][:6] == ("编号", "供应商", "服务案例", "零部件", "状态", "索赔金额（元）")
    assert rows[1][:7] == (c["number"], "华东电源器件有限公司", case["number"], "PWR-24V 24V 开关电源", "供应商答复",
                           2700, 0)
    assert auth.client.get("/suppliers/claims/new").status_code == 403  # 财务部 reads
    auth.logout()
    auth.login("tech")
    assert "/suppliers/claims/new" not in auth.client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert auth.client.get(url).status_code == 403


def test_a_claim_prefilled_from_an_inspection_and_edited_while_drafted(app_world, make_case, auth):
    store = app_world.store
    case = make_case()
    with store.transaction("t") as tx:
        s = suppliers.insert_tx(tx, {"name": "精工结构件加工厂", "warranties": [{"part_name": "机箱", "months": 120}]})
        # an inspection of the faulty part, as RETURNS keeps it (records/materials/inspections.py, table "inspections")
        insp = tx.insert("inspections", {"case_id": case["id"], "part_code": "", "part_text": "机箱", "serial": "",
                                         "result": "faulty", "cause_text": "焊缝开裂", "cause_category": "outsourced"})
    auth.login("manager")
    html = auth.client.get(f"/suppliers/claims/new?inspection={insp['id']}").get_data(as_text=True)
    assert case["number"] in html and "焊缝开裂" in html and 'selected value="outsourced"' in html
    c = claims.create(store, {"supplier_id": s["id"], "case_id": case["id"], "case_number": case["number"],
                              "inspection_id": insp["id"], "part_text": "机箱", "cause_category": "outsourced",
                              "failure": "机箱焊缝开裂", "warranty_basis": "stock", "warranty_start": "2025-03-01",
                              "failed_on": case["received_at"][:10],
                              "lines": [{"kind": "other", "text": "停机损失", "amount": "500"}]},
                      {"username": "manager", "roles": ["tq_manager"]}, datetime.now().astimezone())
    url = f"/suppliers/claims/{c['id']}/edit"
    html = auth.client.get(url).get_data(as_text=True)
    assert "500.00" in html and "停机损失" in html
    resp = auth.client.post(url, data={"rev": c["_rev"], "supplier_id": s["id"], "case_number": case["number"],
                                       "inspection_id": insp["id"], "part_text": "机箱", "cause_category": "outsourced",
                                       "failure": "机箱焊缝开裂（复检）", "warranty_basis": "stock",
                                       "warranty_start": "2025-03-01", "failed_on": case["received_at"][:10],
                                       "lines-0-kind": "other", "lines-0-text": "停机损失", "lines-0-amount": "650"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    saved = claims.get(store, c["id"])
    assert (saved["amount"], saved["failure"], saved["warranty"]["basis"]) == ("650.00", "机箱焊缝开裂（复检）", "stock")
