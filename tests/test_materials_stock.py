"""Service materials (3.1, 5.2.4, 6.2.5, 6.2.7): the catalogue, the stock arithmetic per location,
the refusals, consumption with shortfalls, and two processes issuing the last unit at once."""
from __future__ import annotations

import multiprocessing
from datetime import datetime

import pytest

from records.core.errors import DomainError
from records.core.store import Store
from records.materials import parts, stock
from tests.fixtures.calendar import at

NOW = at("2026-11-30T10:00")
MANAGER = {"username": "manager", "roles": ["tq_manager", "tq_engineer"]}
ENGINEER = {"username": "engineer", "roles": ["tq_engineer"]}


@pytest.fixture
def db(data_dir):
    """The seeded users' store, without Flask, with two parts in the catalogue."""
    store = Store(data_dir)
    with store.transaction("engineer") as tx:
        parts.insert_tx(tx, {"code": "pwr-24v", "name": "电源模块", "spec": "24V", "unit": "件", "source": "bought_in",
                             "min_stock": 3})
        parts.insert_tx(tx, {"code": "CAB-1", "name": "信号电缆", "unit": "根", "source": "own"})
    return store


def apply(store, op, *args, **kw):
    with store.transaction("engineer") as tx:
        return op(tx, *args, **kw)


# (operations, expected balances {location: {code: qty}})
ARITHMETIC = [
    ([("receipt", "PWR-24V", 5)], {"store": {"PWR-24V": 5}}),
    ([("receipt", "PWR-24V", 5), ("issue", "PWR-24V", 2, "tech")], {"store": {"PWR-24V": 3}, "kit:tech": {"PWR-24V": 2}}),
    ([("receipt", "PWR-24V", 5), ("issue", "PWR-24V", 2, "tech"), ("kit_return", "PWR-24V", 1, "tech")],
     {"store": {"PWR-24V": 4}, "kit:tech": {"PWR-24V": 1}}),
    ([("receipt", "PWR-24V", 5), ("issue", "PWR-24V", 5, "tech"), ("kit_return", "PWR-24V", 5, "tech")],
     {"store": {"PWR-24V": 5}}),
    ([("receipt", "CAB-1", 4), ("adjust", "store", "CAB-1", 1)], {"store": {"CAB-1": 1}}),
    ([("receipt", "CAB-1", 4), ("adjust", "store", "CAB-1", 9)], {"store": {"CAB-1": 9}}),
    ([("receipt", "CAB-1", 4), ("issue", "CAB-1", 2, "tech"), ("adjust", "kit:tech", "CAB-1", 0)],
     {"store": {"CAB-1": 2}}),
]


def run(store, ops):
    for op in ops:
        kind, code, qty = op[:3]
        if kind == "receipt":
            apply(store, stock.receipt_tx, code, qty, "engineer", NOW)
        elif kind == "issue":
            apply(store, stock.issue_tx, code, qty, op[3], "engineer", NOW)
        elif kind == "kit_return":
            apply(store, stock.kit_return_tx, code, qty, op[3], "engineer", NOW)
        elif kind == "adjust":
            apply(store, stock.adjust_tx, code, qty, op[3], "年终盘点", MANAGER, NOW)


@pytest.mark.parametrize("ops, expected", ARITHMETIC)
def test_balances_follow_the_moves(db, ops, expected):
    run(db, ops)
    assert stock.all_balances(db) == expected


REFUSALS = [  # (setup, the refused operation, the message)
    ([("receipt", "PWR-24V", 3)], lambda tx: stock.issue_tx(tx, "PWR-24V", 4, "tech", "engineer", NOW), "库存不足：可用 3 件"),
    ([], lambda tx: stock.issue_tx(tx, "PWR-24V", 1, "tech", "engineer", NOW), "库存不足：可用 0 件"),
    ([("receipt", "CAB-1", 3), ("issue", "CAB-1", 2, "tech")],
     lambda tx: stock.kit_return_tx(tx, "CAB-1", 3, "tech", "engineer", NOW), "库存不足：可用 2 根"),
    ([], lambda tx: stock.issue_tx(tx, "NOPE", 1, "tech", "engineer", NOW), "物料目录中没有编码 NOPE"),
    ([], lambda tx: stock.receipt_tx(tx, "CAB-1", 0, "engineer", NOW), "数量必须是 1—99999 的整数"),
    ([], lambda tx: stock.receipt_tx(tx, "CAB-1", "两", "engineer", NOW), "数量必须是正整数"),
    ([], lambda tx: stock.issue_tx(tx, "CAB-1", 1, "nobody", "engineer", NOW), "没有这个库位"),
    ([], lambda tx: stock.adjust_tx(tx, "store", "CAB-1", 1, "盘点", ENGINEER, NOW), "盘点调整只能由技质部经理进行"),
    ([], lambda tx: stock.adjust_tx(tx, "store", "CAB-1", 1, " ", MANAGER, NOW), "请填写调整原因"),
    ([], lambda tx: stock.adjust_tx(tx, "store", "CAB-1", -1, "盘点", MANAGER, NOW), "盘点数量必须在 0—99999 之间"),
    ([("receipt", "CAB-1", 1)], lambda tx: stock.issue_lines_tx(
        tx, "tech", [{"part_code": "CAB-1", "qty": 1}, {"part_code": "CAB-1", "qty": 1}], "engineer", NOW),
     "CAB-1：库存不足：可用 0 根"),
]


@pytest.mark.parametrize("setup, op, message", REFUSALS)
def test_refusals_leave_the_stock_as_it_was(db, setup, op, message):
    run(db, setup)
    before = stock.all_balances(db)
    with pytest.raises(DomainError) as exc:
        apply(db, op)
    assert str(exc.value) == message
    assert stock.all_balances(db) == before  # nothing half-written (the first line of a refused pair too)


CONSUMPTION = [  # (kit holds, lines used, shortfalls (code, qty), kit after, open discrepancies)
    (3, [{"part_code": "PWR-24V", "qty": 2}], [], 1, 0),
    (3, [{"part_code": "pwr-24v", "quantity": "3"}], [], 0, 0),
    (1, [{"part_code": "PWR-24V", "qty": 3}], [("PWR-24V", 2)], 0, 1),
    (0, [{"part_code": "PWR-24V", "qty": 1}], [("PWR-24V", 1)], 0, 1),
    (2, [{"part": "自购保险丝", "quantity": 2}, {"part_code": "PWR-24V", "qty": 0}], [], 2, 0),  # free text: skipped
    (2, [{"part_code": "ZZZ-9", "qty": 1}], [("ZZZ-9", 1)], 2, 1),  # not in the catalogue: a discrepancy
]


@pytest.mark.parametrize("held, lines, short, after, n_open", CONSUMPTION)
def test_consumption_takes_what_the_kit_holds_and_records_the_rest(db, held, lines, short, after, n_open):
    apply(db, stock.receipt_tx, "PWR-24V", 5, "engineer", NOW)
    if held:
        apply(db, stock.issue_tx, "PWR-24V", held, "tech", "engineer", NOW, case_id=7)
    shortfalls = apply(db, stock.consume_tx, 7, "tech", lines, "engineer", NOW)
    assert [(s["part_code"], s["qty"]) for s in shortfalls] == short
    assert stock.balance(db, "kit:tech", "PWR-24V") == after
    assert stock.balance(db, "store", "PWR-24V") == 5 - held
    assert len(stock.discrepancies(db, open_only=True)) == n_open
    used = min(held, sum(int(line.get("qty", line.get("quantity")) or 0) for line in lines
                         if str(line.get("part_code", "")).upper() == "PWR-24V"))
    assert stock.consumed(db, 7) == ([{"part_code": "PWR-24V", "qty": used}] if used else [])
    assert stock.issued(db, 7) == ([{"part_code": "PWR-24V", "qty": held}] if held else [])


def test_unused_parts_go_back_to_the_store_and_a_stranger_is_a_discrepancy(db):
    apply(db, stock.receipt_tx, "PWR-24V", 4, "engineer", NOW)
    apply(db, stock.issue_tx, "PWR-24V", 2, "tech", "engineer", NOW, case_id=7)
    odd = apply(db, stock.return_tx, 7, "tech", [{"part_code": "PWR-24V", "qty": 1}, {"part_code": "CAB-1", "qty": 1}],
                "engineer", NOW)
    assert [(o["part_code"], o["qty"]) for o in odd] == [("CAB-1", 1)]
    assert stock.all_balances(db) == {"store": {"PWR-24V": 3, "CAB-1": 1}, "kit:tech": {"PWR-24V": 1}}
    d = stock.discrepancies(db, open_only=True)[0]
    with pytest.raises(DomainError, match="请填写处理说明"):
        apply(db, stock.resolve_discrepancy_tx, d["id"], "", ENGINEER, NOW)
    apply(db, stock.resolve_discrepancy_tx, d["id"], "技术员自带的备用电缆", ENGINEER, NOW)
    assert stock.discrepancies(db, open_only=True) == []


def test_catalogue_codes_costs_and_the_sale_price(db):
    with pytest.raises(DomainError) as exc:
        apply(db, parts.insert_tx, {"code": " Pwr-24V ", "name": "x", "source": "own"})
    assert (str(exc.value), exc.value.field) == ("物料编码已存在：PWR-24V 电源模块", "code")
    with pytest.raises(DomainError) as exc:
        apply(db, parts.insert_tx, {"code": "A B", "name": "x", "source": "own"})
    assert exc.value.field == "code"
    with pytest.raises(DomainError) as exc:
        apply(db, parts.insert_tx, {"code": "X1", "name": "x", "source": "elsewhere"})
    assert exc.value.field == "source"
    assert parts.get_by_code(db, " pwr-24v")["name"] == "电源模块"
    apply(db, stock.receipt_tx, "PWR-24V", 2, "engineer", NOW, unit_cost="820")
    part = parts.get_by_code(db, "PWR-24V")
    assert (part["cost"], part["cost_basis"]) == (820.0, "receipt")
    apply(db, parts.set_sale_price_tx, part["id"], "1,200", "finance", NOW)
    assert parts.get_by_code(db, "PWR-24V")["sale_price"] == 1200.0
    with pytest.raises(DomainError, match="编码不能再修改"):
        apply(db, parts.update_tx, part["id"], {"code": "PWR-NEW"})
    apply(db, parts.retire_tx, part["id"])
    assert [c for c, _ in parts.choices(db)] == ["CAB-1"]
    assert [c for c, _ in parts.choices(db, keep="PWR-24V")] == ["CAB-1", "PWR-24V"]


def test_low_stock_is_below_the_minimum(db):
    assert [r["part"]["code"] for r in stock.low_stock(db)] == ["PWR-24V"]
    apply(db, stock.receipt_tx, "PWR-24V", 3, "engineer", NOW)
    assert stock.low_stock(db) == []


def _issue_last(root: str, barrier, results) -> None:
    store = Store(root)
    barrier.wait()
    try:
        with store.transaction("engineer") as tx:
            stock.issue_tx(tx, "PWR-24V", 1, "tech", "engineer", datetime(2026, 11, 30, 10, 0))
        results.put("ok")
    except DomainError as exc:
        results.put(str(exc))


def test_two_processes_issuing_the_last_unit_one_succeeds(db):
    apply(db, stock.receipt_tx, "PWR-24V", 1, "engineer", NOW)
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_issue_last, args=(str(db.root), barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    assert outcomes == ["ok", "库存不足：可用 0 件"]
    assert stock.all_balances(Store(db.root)) == {"kit:tech": {"PWR-24V": 1}}
