"""Supplier claims (3.1): the state machine with its roles, the reply reminders (a daily task,
idempotent) and the amounts recovered by period (9.4)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from records import policy
from records.core import parameters
from records.jobs.daily import TASKS, run_daily
from records.materials import claim_flow, claim_reminders, claims, suppliers
from records.notifications.inbox import TABLE as NOTICES
from records.notifications.inbox import inbox
from tests.fixtures.calendar import at

F = claim_flow


def make_supplier(store, name="华东电源器件", months=24):
    with store.transaction("t") as tx:
        return suppliers.insert_tx(tx, {"name": name, "contacts": [{"name": "陈经理", "phone": "0510-1"}],
                                        "warranties": [{"part_code": "PWR-24V", "part_name": "24V 电源", "months": months}]})


def claim_data(supplier, **over):
    data = {"supplier_id": supplier["id"], "case_id": 7, "case_number": "FW2026-0007", "inspection_id": 3,
            "part_code": "PWR-24V", "part_text": "24V 开关电源", "cause_category": "bought_in",
            "failure": "电源无输出，检验确认内部电容击穿", "warranty_basis": "delivery",
            "warranty_start": "2025-06-01", "failed_on": "2026-11-20",
            "lines": [{"kind": "parts", "text": "更换电源 1 台", "amount": "860"},
                      {"kind": "labour", "text": "2 人 × 2 天", "amount": "1200.5"},
                      {"kind": "travel", "text": "往返差旅", "amount": "639.50"}]}
    data.update(over)
    return data


def test_a_claim_is_checked_before_it_is_drafted(db, users):
    s = make_supplier(db)
    eng = users["engineer"]
    for over, field in [({"cause_category": "design"}, "cause_category"),  # not a supplier cause
                        ({"failed_on": "2027-06-01"}, "failed_on"),       # out of the supplier's 24 months
                        ({"part_code": "X-9", "part_text": ""}, "part_code"),  # no warranty for that part
                        ({"lines": []}, "lines"), ({"case_id": None}, "case_number"),
                        ({"lines": [{"kind": "", "text": "x", "amount": "5"}]}, "lines")]:
        with pytest.raises(claims.ClaimError) as exc:
            claims.create(db, claim_data(s, **over), eng, at("2026-11-27T10:00"))
        assert exc.value.field == field, over
    with pytest.raises(claims.ClaimError):
        claims.create(db, claim_data(s), users["finance"], at("2026-11-27T10:00"))  # 技质部 drafts
    c = claims.create(db, claim_data(s), eng, at("2026-11-27T10:00"))
    assert (c["number"], c["state"], c["amount"]) == ("SC2026-001", F.DRAFT, "2700.00")
    assert c["warranty"]["until"] == "2027-05-31" and c["warranty"]["within"]


# (state, user, action, allowed)
TRANSITION_TABLE = [
    (F.DRAFT, "engineer", "edit", True), (F.DRAFT, "manager", "send", True), (F.DRAFT, "engineer", "send", True),
    (F.DRAFT, "finance", "send", False), (F.DRAFT, "tech", "send", False), (F.DRAFT, "engineer", "reply", False),
    (F.SENT, "engineer", "reply", True), (F.SENT, "finance", "reply", False), (F.SENT, "engineer", "edit", False),
    (F.SENT, "finance", "recover", False), (F.SENT, "manager", "close", False),
    (F.REPLIED, "finance", "recover", True), (F.REPLIED, "engineer", "recover", False),
    (F.REPLIED, "manager", "close", False),
    (F.PARTLY, "finance", "recover", True), (F.PARTLY, "manager", "close", True), (F.PARTLY, "engineer", "close", False),
    (F.RECOVERED, "manager", "close", True), (F.RECOVERED, "finance", "recover", False),
    (F.REFUSED, "manager", "close", True), (F.REFUSED, "finance", "recover", False), (F.REFUSED, "finance", "close", False),
    (F.CLOSED, "manager", "close", False), (F.CLOSED, "engineer", "edit", False),
]


@pytest.mark.parametrize("state, who, action, ok", TRANSITION_TABLE)
def test_who_may_do_what(users, state, who, action, ok):
    assert (action in F.allowed({"state": state}, users[who])) is ok
    if not ok:
        with pytest.raises(F.FlowRefused):
            F.check({"state": state}, users[who], action)


def test_a_claim_from_draft_to_closed(db, users):
    s = make_supplier(db)
    eng, fin, mgr = users["engineer"], users["finance"], users["manager"]
    c = claims.create(db, claim_data(s), eng, at("2026-11-27T10:00"))
    c = claims.send(db, c["id"], eng, at("2026-11-27T11:00"))
    assert c["state"] == F.SENT and c["reply_due"] == "2026-12-12"  # 15 calendar days (company parameter)
    assert len(c["notice_pdf"]["sha256"]) == 64
    audit = [e for e in db.history(claims.TABLE, c["id"]) if e.get("action") == "send"]
    assert audit and c["notice_pdf"]["sha256"] in audit[0]["note"]
    with pytest.raises(claims.ClaimError):
        claims.update(db, c["id"], claim_data(s, failure="改"), eng)  # the sent claim is frozen
    with pytest.raises(claims.ClaimError) as exc:
        claims.reply(db, c["id"], {"outcome": "accepted", "on": "2026-11-01", "text": "同意"}, eng, at("2026-12-01T09:00"))
    assert exc.value.field == "on"  # before it was sent
    c = claims.reply(db, c["id"], {"outcome": "accepted", "on": "2026-12-01", "text": "同意赔偿"}, eng,
                     at("2026-12-01T09:00"))
    assert c["state"] == F.REPLIED
    told = [n for n in inbox(db, "finance")[0] if n["kind"] == "supplier_claim"]  # 财务部 acts next
    assert len(told) == 1 and "请到账后登记" in told[0]["subject"]
    c = claims.recover(db, c["id"], {"amount": "1000", "date": "2026-12-20"}, fin, at("2026-12-21T09:00"))
    assert c["state"] == F.PARTLY and claims.recovered_total(c) == Decimal("1000.00")
    c = claims.recover(db, c["id"], {"amount": "1700", "date": "2027-01-05"}, fin, at("2027-01-06T09:00"))
    assert c["state"] == F.RECOVERED
    assert any("已全部追回" in n["subject"] for n in inbox(db, "manager")[0])  # 技质部经理 closes it
    c = claims.close(db, c["id"], {"note": "已全部追回"}, mgr, at("2027-01-07T09:00"))
    assert c["state"] == F.CLOSED and c["closed"]["by"] == "manager"
    # 9.4: each amount in the period it was recovered
    assert claims.recoveries(db, date(2026, 10, 1), date(2026, 12, 31)) == [
        {"claim_id": c["id"], "case_id": 7, "supplier_id": s["id"], "amount": Decimal("1000.00"), "date": date(2026, 12, 20)}]
    q1 = claims.recoveries(db, date(2027, 1, 1), date(2027, 3, 31))
    assert [(r["amount"], r["date"]) for r in q1] == [(Decimal("1700.00"), date(2027, 1, 5))]


def test_a_refusal_and_the_reply_days_parameter(db, users):
    s = make_supplier(db)
    eng = users["engineer"]
    with db.transaction("admin") as tx:
        parameters.set_tx(tx, "claim_reply_days", 10, "test")
    assert policy.parameter(db, "claim_reply_days") == 10
    c = claims.create(db, claim_data(s), eng, at("2026-11-27T10:00"))
    c = claims.send(db, c["id"], eng, at("2026-11-27T11:00"))
    assert c["reply_due"] == "2026-12-07"
    c = claims.reply(db, c["id"], {"outcome": "refused", "on": "2026-12-02", "text": "认为系使用不当"}, eng,
                     at("2026-12-02T09:00"))
    assert c["state"] == F.REFUSED
    with pytest.raises(claims.ClaimError):
        claims.recover(db, c["id"], {"amount": "5", "date": "2026-12-02"}, users["finance"], at("2026-12-02T10:00"))


def notices(db, claim_id):
    return sorted(n["key"] for n in db.scan(NOTICES) if (n.get("ref") or {}).get("id") == claim_id
                  and n["kind"] == "supplier_claim")


def test_reminders_three_days_before_and_on_the_day_once(db, users, cal):
    assert TASKS["supplier_claim_reminders"] is claim_reminders.remind
    s = make_supplier(db)
    eng = users["engineer"]
    c = claims.create(db, claim_data(s), eng, at("2026-11-27T10:00"))
    c = claims.send(db, c["id"], eng, at("2026-11-27T11:00"))  # due 2026-12-12
    due = date(2026, 12, 12)
    for day, expected in [(due - timedelta(days=4), []),
                          (due - timedelta(days=3), [f"claim-reply:{c['id']}:before:engineer"]),
                          (due - timedelta(days=1), [f"claim-reply:{c['id']}:before:engineer"]),
                          (due, [f"claim-reply:{c['id']}:before:engineer", f"claim-reply:{c['id']}:due:engineer"])]:
        for _ in range(2):  # run twice: nothing new the second time
            run_daily(db, at(f"{day.isoformat()}T07:00"), cal, False)
        assert notices(db, c["id"]) == sorted(expected), day
    # 我的待办: soon 3 days before, overdue after the day; nothing once replied
    assert [r["status"] for r in claim_reminders.todo(db, eng, due - timedelta(days=3))] == ["soon"]
    assert [r["status"] for r in claim_reminders.todo(db, eng, due + timedelta(days=1))] == ["overdue"]
    assert claim_reminders.todo(db, users["finance"], due) == []
    claims.reply(db, c["id"], {"outcome": "accepted", "on": "2026-12-13", "text": "同意"}, eng, at("2026-12-13T09:00"))
    assert claim_reminders.todo(db, eng, due + timedelta(days=1)) == []
    assert [r["action"] for r in claim_reminders.todo(db, users["finance"], due)] == ["recover"]
    assert claim_reminders.reminders_due(claims.get(db, c["id"]), due) == []  # replied: no reminder
