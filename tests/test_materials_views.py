"""The 物料 pages (3.1, 5.2.4, 6.2.5) through the real app: roles, the catalogue and its export,
the sale price by 财务部, receipts and the low-stock warning, the issue to a technician's kit from
a dispatched case's page (refused beyond stock, with the quantity available), the technician's
own kit, purchase request → approval → inspection, the stocktake, the discrepancies, 我的待办,
and a quote line picked from the catalogue."""
from __future__ import annotations

from datetime import timedelta

import pytest

from records.calendar.corrections import current_calendar
from records.calendar.workdays import now_local, today_local
from records.cases import workflow
from records.materials import parts, purchases, stock


@pytest.fixture
def catalogue(store):
    with store.transaction("engineer") as tx:
        parts.insert_tx(tx, {"code": "PWR-24V", "name": "电源模块", "spec": "24V", "source": "bought_in", "min_stock": 2})
        parts.insert_tx(tx, {"code": "FUSE-5A", "name": "保险丝", "source": "bought_in"})
        stock.receipt_tx(tx, "FUSE-5A", 10, "engineer")
    return store


ROLE_PAGES = [  # (user, url, status)
    ("engineer", "/materials/", 200), ("finance", "/materials/", 200), ("sales", "/materials/", 403),
    ("tech", "/materials/", 302), ("tech", "/materials/kit", 200), ("tech", "/materials/kit/tech2", 403),
    ("engineer", "/materials/kit/tech", 200), ("tech", "/materials/parts", 403), ("finance", "/materials/parts", 200),
    ("finance", "/materials/parts/new", 403), ("engineer", "/materials/adjust", 403), ("manager", "/materials/adjust", 200),
    ("engineer", "/materials/purchases", 200), ("finance", "/materials/purchases", 403),
    ("engineer", "/materials/discrepancies", 200), ("engineer", "/materials/receipt", 200),
    ("engineer", "/materials/transfer", 200), ("engineer", "/materials/purchases/new", 200),
]


def test_who_opens_which_page(client, auth, catalogue):
    got = {}
    for user in dict.fromkeys(u for u, _, _ in ROLE_PAGES):  # one login per user (Argon2 is slow on purpose)
        auth.login(user)
        got.update({(user, url): client.get(url).status_code for u, url, _ in ROLE_PAGES if u == user})
        auth.logout()
    assert got == {(u, url): status for u, url, status in ROLE_PAGES}


def test_catalogue_new_edit_price_and_export(client, auth, store):
    auth.login("engineer")
    bad = client.post("/materials/parts/new", data={"code": "a b", "name": "电缆", "unit": "根", "source": "own",
                                                    "supplier_id": "0", "min_stock": "0"})
    assert bad.status_code == 200 and "物料编码只能由字母" in bad.get_data(as_text=True)
    assert 'value="电缆"' in bad.get_data(as_text=True)  # typed values kept
    ok = client.post("/materials/parts/new", data={"code": "cab-1", "name": "电缆", "unit": "根", "source": "own",
                                                   "supplier_id": "0", "min_stock": "3", "cost": "12.5"})
    assert ok.status_code == 302
    part = parts.get_by_code(store, "CAB-1")
    assert (part["cost"], part["min_stock"]) == (12.5, 3)
    page = client.get(f"/materials/parts/{part['id']}").get_data(as_text=True)
    assert "未定价" in page and "sale_price" not in page  # 技质部 sees no price form (5.2.4)
    assert client.post(f"/materials/parts/{part['id']}/price", data={"rev": part["_rev"], "sale_price": "1"}).status_code == 403
    auth.logout()
    auth.login("finance")
    client.post(f"/materials/parts/{part['id']}/price", data={"rev": part["_rev"], "sale_price": "88"})
    assert parts.get_by_code(store, "CAB-1")["sale_price"] == 88.0
    csv = client.get("/materials/parts?export=csv").get_data(as_text=True)
    assert "CAB-1" in csv and "88.0" in csv


def test_issue_at_dispatch_refused_beyond_stock_then_consumed(client, auth, catalogue, dispatched_case):
    case = dispatched_case(catalogue)
    auth.login("engineer")
    show = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f"/materials/issue/{case['id']}" in show
    form = {"username": "tech", "lines-0-part_code": "FUSE-5A", "lines-0-qty": "11"}
    refused = client.post(f"/materials/issue/{case['id']}", data=form).get_data(as_text=True)
    assert "FUSE-5A：库存不足：可用 10 件" in refused
    assert stock.kit(catalogue, "tech") == []
    form["lines-0-qty"] = "3"
    assert client.post(f"/materials/issue/{case['id']}", data=form).status_code == 302
    assert stock.issued(catalogue, case["id"]) == [{"part_code": "FUSE-5A", "qty": 3}]
    auth.logout()
    auth.login("tech")
    kit = client.get("/materials/kit").get_data(as_text=True)
    assert "FUSE-5A" in kit and "保险丝" in kit
    assert f"/materials/issue/{case['id']}" not in client.get(f"/cases/{case['id']}").get_data(as_text=True)
    with catalogue.transaction("engineer") as tx:
        short = stock.consume_tx(tx, case["id"], "tech", [{"part_code": "FUSE-5A", "qty": 5}], "engineer")
    assert [(s["part_code"], s["qty"]) for s in short] == [("FUSE-5A", 2)]
    auth.logout()
    auth.login("engineer")
    d = stock.discrepancies(catalogue, open_only=True)[0]
    assert "消耗超出工具包库存" in client.get("/materials/discrepancies").get_data(as_text=True)
    client.post(f"/materials/discrepancies/{d['id']}", data={"note": "技术员借用同事的保险丝"})
    assert stock.discrepancies(catalogue, open_only=True) == []


def test_low_stock_receipt_and_stocktake(client, auth, catalogue):
    auth.login("engineer")
    page = client.get("/materials/").get_data(as_text=True)
    assert "低于最低库存" in page and "data-low-stock" in page
    client.post("/materials/receipt", data={"part_code": "PWR-24V", "qty": "2", "unit_cost": "800", "note": "采购"})
    assert "data-low-stock" not in client.get("/materials/").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    bad = client.post("/materials/adjust", data={"location": "store", "part_code": "FUSE-5A", "counted": "8", "reason": ""})
    assert "请填写调整原因" in bad.get_data(as_text=True)
    client.post("/materials/adjust", data={"location": "store", "part_code": "FUSE-5A", "counted": "8", "reason": "年终盘点"})
    assert stock.balance(catalogue, "store", "FUSE-5A") == 8
    assert any(e.get("action") == "create" for e in catalogue.history(stock.MOVES, stock.moves(catalogue)[0]["id"]))


def test_purchase_request_approval_inspection_and_todo(client, auth, catalogue):
    auth.login("engineer")
    need = today_local() + timedelta(days=3)
    bad = client.post("/materials/purchases/new", data={"part_code": "PWR-24V", "qty": "4", "reason": "低于最低库存",
                                                        "need_by": need.isoformat(), "case": "FW-NONE"})
    assert "没有这个案例编号" in bad.get_data(as_text=True)
    resp = client.post("/materials/purchases/new", data={"part_code": "PWR-24V", "qty": "4", "reason": "低于最低库存",
                                                         "need_by": need.isoformat()})
    req = purchases.all_requests(catalogue)[0]
    assert resp.headers["Location"].endswith(f"/materials/purchases/{req['id']}")
    assert client.post(f"/materials/purchases/{req['id']}/decide",
                       data={"rev": req["_rev"], "decision": "approve"}).status_code == 403
    auth.logout()
    auth.login("manager")
    assert "采购申请 #" in client.get("/cases/my").get_data(as_text=True)  # waits for the manager's approval
    refused = client.post(f"/materials/purchases/{req['id']}/decide", data={"rev": req["_rev"], "decision": "refuse"})
    assert "请填写审批意见" in refused.get_data(as_text=True)
    client.post(f"/materials/purchases/{req['id']}/decide", data={"rev": req["_rev"], "decision": "approve"})
    req = purchases.all_requests(catalogue)[0]
    assert req["state"] == "approved"
    page = client.post(f"/materials/purchases/{req['id']}/receive",
                       data={"rev": req["_rev"], "part_code": "PWR-24V", "accepted": "3", "rejected": "1",
                             "unit_cost": "790", "inspection": "通电检验", "reject_reason": ""}).get_data(as_text=True)
    assert "请填写不合格原因" in page
    client.post(f"/materials/purchases/{req['id']}/receive",
                data={"rev": req["_rev"], "part_code": "PWR-24V", "accepted": "3", "rejected": "1", "unit_cost": "790",
                      "inspection": "通电检验", "reject_reason": "外壳破损"})
    req = purchases.all_requests(catalogue)[0]
    assert (req["state"], stock.balance(catalogue, "store", "PWR-24V")) == ("partial", 3)
    assert "部分到货" in client.get(f"/materials/purchases/{req['id']}").get_data(as_text=True)


def test_a_late_request_shows_in_the_requesters_todo(client, auth, catalogue):
    with catalogue.transaction("engineer") as tx:
        r = tx.insert(purchases.TABLE, {"part_code": "PWR-24V", "text": "电源模块", "qty": 1, "reason": "备件",
                                        "case_id": None, "need_by": (today_local() - timedelta(days=1)).isoformat(),
                                        "state": "approved", "requested_by": "engineer", "requested_at": "2026-11-01T09:00",
                                        "accepted_qty": 0, "receipts": []})
    auth.login("engineer")
    page = client.get("/cases/my").get_data(as_text=True)
    assert f"采购申请 #{r['id']}" in page and "已逾期" in page
    auth.logout()
    auth.login("tech")
    assert f"采购申请 #{r['id']}" not in client.get("/cases/my").get_data(as_text=True)


def test_a_quote_line_picked_from_the_catalogue_prefills_the_price(client, auth, catalogue, app_world, store):
    with store.transaction("finance") as tx:
        parts.set_sale_price_tx(tx, parts.get_by_code(tx, "PWR-24V")["id"], "1200", "finance", now_local())
    case = workflow.intake(store, current_calendar(store), {
        "type": "service_request", "customer_id": app_world.far["id"], "product_serial": "OUT-001",
        "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone", "description": "主板损坏"},
        {"username": "engineer", "roles": ["tq_engineer"]})
    case = workflow.perform(store, current_calendar(store), case["id"], "decide", {"username": "engineer", "roles": ["tq_engineer"]},
                            {"solution": "onsite_paid", "analysis": "电源损坏"}, expect_rev=case["_rev"])
    auth.login("engineer")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "PWR-24V 电源模块" in page  # the catalogue in the line's select
    client.post(f"/cases/{case['id']}/quote", data={"quote-rev": case["_rev"], "quote-service_fee": "500",
                                                      "quote-parts-0-code": "PWR-24V", "quote-parts-0-part": "",
                                                      "quote-parts-0-quantity": "2"})
    line = store.get("cases", case["id"])["quote"]["parts"][0]
    assert (line["part"], line["part_code"], line["catalogue_price"], line["unit_price"]) == ("电源模块", "PWR-24V", 1200.0, None)
    auth.logout()
    auth.login("finance")
    assert 'value="1200.0' in client.get(f"/cases/{case['id']}").get_data(as_text=True)  # 财务部 confirms it (5.2.4)
