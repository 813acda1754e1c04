"""The "workflow" section of ``aftersales bench``: one case transition, timed.

``bench_transition`` times ``perform("decide")`` on whatever data a store holds;
``section_workflow(quick)`` runs it on the synthetic ten-year data set (issue 4).
"""
from __future__ import annotations

import time
from datetime import datetime

from records.calendar.workdays import WorkCalendar
from records.cases.vocab import CaseError
from records.cases.workflow import intake, perform
from records.catalog.products import TABLE as PRODUCTS
from records.core.store import Store
from records.demo import load_demo
from records.users import install

from .bench_data import percentiles, ten_year_data


def bench_transition(store: Store, n: int, cal: WorkCalendar | None = None) -> list[float]:
    """Seconds per workflow transition, ``n`` of them, on whatever data ``store`` holds.

    Adds ``n`` service requests (a 技质部 user's intake, so they wait for the decision) to the
    first product found, then times ``perform("decide")`` on each: a full transition with its
    transaction, guards, deadline and audit entry. Run it on a copy of the data set.
    """
    cal = cal or WorkCalendar.default()
    product = store.first(PRODUCTS, lambda p: True)
    if product is None:
        raise CaseError("基准测试需要至少一个产品")
    user = {"username": "bench", "roles": ["tq_engineer"]}
    now = datetime.now()
    times = []
    for i in range(n):
        case = intake(store, cal, {
            "type": "service_request", "customer_id": product["customer_id"],
            "product_serial": product["serial_no"], "caller_name": "基准", "caller_phone": "000",
            "channel": "phone", "description": f"基准测试 {i}",
        }, user, now=now)
        t0 = time.perf_counter()
        perform(store, cal, case["id"], "decide", user, {
            "solution": "phone_guidance", "analysis": "基准", "guidance": "基准",
        }, expect_rev=case["_rev"], now=now)
        times.append(time.perf_counter() - t0)
    return times


def section_workflow(quick: bool = False) -> dict:
    """Issue 4: a workflow transition (perform "decide") on the ten-year data set."""
    with ten_year_data(quick, "aftersales-bench-wf-") as data_dir:
        store = Store(data_dir)
        with store.transaction("bench") as tx:  # synthetic data: a demo folder (records/users/install.py)
            install.mark(tx, install.DEMO, "基准测试的合成数据")
        load_demo(store)  # real customers and products beside the synthetic ones
        times = bench_transition(store, 20 if quick else 200)
    result = percentiles(times)
    print(f"transition p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms (target p95 ≤ 50 ms), n={result['n']}")
    return result
