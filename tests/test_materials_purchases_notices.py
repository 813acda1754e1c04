"""A purchase request reaches whoever acts next (3.1): 技质部经理 to approve, the requester when it
is decided; in the inbox (and by mail when set up), once."""
from __future__ import annotations

from datetime import date

from records.materials import purchases
from records.notifications.inbox import inbox
from tests.fixtures.calendar import at


def test_the_manager_hears_of_a_request_and_the_requester_of_the_decision(store, users):
    now = at("2026-12-01T09:00")
    with store.transaction("engineer") as tx:
        req = purchases.request_tx(tx, {"text": "24V 开关电源", "qty": "2", "reason": "备件不足",
                                        "need_by": date(2026, 12, 10)}, users["engineer"], now)
    told = [n for n in inbox(store, "manager")[0] if n["kind"] == "purchase"]
    assert len(told) == 1 and "24V 开关电源 × 2" in told[0]["subject"] and told[0]["link"].endswith(f"/{req['id']}")
    with store.transaction("manager") as tx:
        purchases.decide_tx(tx, req["id"], False, "本月预算已用完", users["manager"], now)
    back = [n for n in inbox(store, "engineer")[0] if n["kind"] == "purchase"]
    assert len(back) == 1 and "未批准：本月预算已用完" in back[0]["body"]
