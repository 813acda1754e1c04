"""Purchase requests (3.1 「及时采购」, 「所需材料…的检验」): request by 技质部, approval by
技质部经理, receipt with incoming inspection (partial deliveries, rejections), lateness."""
from __future__ import annotations

from datetime import date

import pytest

from records.core.errors import DomainError
from records.core.store import Store
from records.materials import parts, purchases, stock
from tests.fixtures.calendar import at

NOW = at("2026-11-30T10:00")
U = {"engineer": {"username": "engineer", "roles": ["tq_engineer"]},
     "manager": {"username": "manager", "roles": ["tq_manager", "tq_engineer"]},
     "finance": {"username": "finance", "roles": ["finance"]}}


@pytest.fixture
def db(data_dir):
    """The seeded users' store, without Flask, with two parts in the catalogue."""
    store = Store(data_dir)
    with store.transaction("engineer") as tx:
        parts.insert_tx(tx, {"code": "PWR-24V", "name": "电源模块", "source": "bought_in"})
    return store


def do(store, op, *args, **kw):
    with store.transaction("test") as tx:
        return op(tx, *args, **kw)


def ask(store, who="engineer", **over):
    data = {"part_code": "PWR-24V", "qty": "5", "reason": "库存低于最低库存", "need_by": date(2026, 12, 10), **over}
    return do(store, purchases.request_tx, data, U[who], NOW)


REQUEST_REFUSALS = [
    ("finance", {}, "只有技质部可以提出采购申请", "part_code"),
    ("engineer", {"part_code": "", "text": ""}, "请填写物料名称或说明", "text"),
    ("engineer", {"part_code": "NOPE"}, "请从物料目录中选择", "part_code"),
    ("engineer", {"qty": "0"}, "数量必须是 1—99999 的整数", "qty"),
    ("engineer", {"reason": ""}, "请填写采购原因", "reason"),
    ("engineer", {"need_by": None}, "请填写需要日期", "need_by"),
    ("engineer", {"need_by": date(2026, 11, 1)}, "需要日期不能早于今天", "need_by"),
    ("engineer", {"case_id": 999}, "没有这个案例", "case"),
]


@pytest.mark.parametrize("who, over, message, field", REQUEST_REFUSALS)
def test_request_refusals_name_their_field(db, who, over, message, field):
    with pytest.raises(DomainError) as exc:
        ask(db, who, **over)
    assert (str(exc.value), exc.value.field) == (message, field)
    assert purchases.all_requests(db) == []


def test_only_the_manager_approves_and_a_refusal_needs_a_reason(db):
    r = ask(db)
    with pytest.raises(DomainError, match="技质部经理审批"):
        do(db, purchases.decide_tx, r["id"], True, "", U["engineer"], NOW)
    with pytest.raises(DomainError, match="请填写审批意见"):
        do(db, purchases.decide_tx, r["id"], False, "", U["manager"], NOW)
    r2 = ask(db, text="万用表", part_code="")
    assert do(db, purchases.decide_tx, r2["id"], False, "库房有备用", U["manager"], NOW)["state"] == "refused"
    with pytest.raises(DomainError, match="现在不能验收"):
        do(db, purchases.receive_tx, r["id"], {"accepted": 1, "inspection": "合格"}, U["engineer"], NOW)


DELIVERIES = [  # deliveries (accepted, rejected), then the state, the accepted total and the store
    ([(5, 0)], "received", 5, 5),
    ([(2, 0)], "partial", 2, 2),
    ([(2, 1), (3, 0)], "received", 5, 5),
    ([(0, 2)], "approved", 0, 0),
    ([(0, 2), (6, 0)], "received", 6, 6),
]


@pytest.mark.parametrize("deliveries, state, total, held", DELIVERIES)
def test_receipts_with_inspection(db, deliveries, state, total, held):
    r = ask(db)
    do(db, purchases.decide_tx, r["id"], True, "", U["manager"], NOW)
    for accepted, rejected in deliveries:
        r = do(db, purchases.receive_tx, r["id"], {"accepted": accepted, "rejected": rejected, "unit_cost": "820",
                                                   "inspection": "外观、通电检验", "reject_reason": "外壳破损" if rejected else ""},
               U["engineer"], NOW)
    assert (r["state"], r["accepted_qty"], stock.balance(db, "store", "PWR-24V")) == (state, total, held)
    assert len(r["receipts"]) == len(deliveries)
    if held:
        assert parts.get_by_code(db, "PWR-24V")["cost"] == 820.0


RECEIPT_REFUSALS = [
    ({"accepted": 0, "rejected": 0, "inspection": "x"}, "请填写到货的合格数量或不合格数量", "accepted"),
    ({"accepted": 1, "inspection": ""}, "请填写检验结果", "inspection"),
    ({"accepted": 0, "rejected": 1, "inspection": "x"}, "请填写不合格原因", "reject_reason"),
    ({"accepted": 1, "inspection": "x", "unit_cost": "-1"}, "单位成本必须是不小于 0 的金额", "unit_cost"),
]


@pytest.mark.parametrize("data, message, field", RECEIPT_REFUSALS)
def test_receipt_refusals(db, data, message, field):
    r = ask(db)
    do(db, purchases.decide_tx, r["id"], True, "", U["manager"], NOW)
    with pytest.raises(DomainError) as exc:
        do(db, purchases.receive_tx, r["id"], data, U["engineer"], NOW)
    assert (str(exc.value), exc.value.field) == (message, field)
    assert stock.all_balances(db) == {}


def test_a_free_text_request_is_received_under_a_catalogue_code(db):
    r = ask(db, part_code="", text="电源模块 24V")
    do(db, purchases.decide_tx, r["id"], True, "", U["manager"], NOW)
    with pytest.raises(DomainError, match="合格品入库前请选择目录中的物料"):
        do(db, purchases.receive_tx, r["id"], {"accepted": 1, "inspection": "合格"}, U["engineer"], NOW)
    r = do(db, purchases.receive_tx, r["id"], {"accepted": 1, "inspection": "合格", "part_code": "pwr-24v"},
           U["engineer"], NOW)
    assert r["part_code"] == "PWR-24V" and stock.balance(db, "store", "PWR-24V") == 1


def test_late_requests_wait_for_the_requester_and_the_manager(db):
    r = ask(db)
    other = ask(db, who="manager")
    late_day, early_day = date(2026, 12, 11), date(2026, 12, 10)
    assert purchases.todo(db, U["engineer"], early_day) == []
    assert [x["id"] for x in purchases.todo(db, U["engineer"], late_day)] == [r["id"]]
    assert {x["id"]: x["late"] for x in purchases.todo(db, U["manager"], early_day)} == {r["id"]: False, other["id"]: False}
    assert {x["id"]: x["late"] for x in purchases.todo(db, U["manager"], late_day)} == {r["id"]: True, other["id"]: True}
    do(db, purchases.decide_tx, r["id"], True, "", U["manager"], NOW)
    do(db, purchases.receive_tx, r["id"], {"accepted": 5, "inspection": "合格"}, U["engineer"], NOW)
    assert purchases.todo(db, U["engineer"], late_day) == []
