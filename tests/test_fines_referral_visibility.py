"""Who sees fines, the referral 报总经理 and the person's statement (issue 13).

GLOSSARY 处罚: the person concerned, 技质部经理, the GM and 财务部 read a fine's person, amount
and ruling; everyone else reads 「有处罚建议（不公开）」 (records/fines/visibility.py) on the
case page (fines table and the fine steps in the timeline) and is told nothing of it. A
tq_manager may refer a proposal to the GM (6.2.8 特殊情况，报总经理指示执行): it then waits for
the GM, who finds it in 我的待办 and rules; the person may add a statement before the ruling.
"""
from __future__ import annotations

import copy

import pytest

from records.fines import rulings
from records.fines.proposals import FineError
from records.fines.visibility import HIDDEN_TEXT
from records.notifications import inbox
from tests.fixtures.calendar import at

NOW = at("2026-12-03T10:00")


def _fine(status="proposed", **more) -> dict:
    return {"key": "handover", "clause": "6.1.4", "basis": "x", "person": "receiver", "amount": 50, "range": None,
            "status": status, "final_amount": None, "decided_by": None, "decided_at": None, "reason": "",
            "gm_by": None, "gm_at": None, "gm_reason": "", **more}


@pytest.mark.parametrize("fn, actor, status, reason, expected", [
    (rulings.refer, "manager", "proposed", "特殊情况", "referred"),
    (rulings.refer, "engineer", "proposed", "特殊情况", "只有技质部经理"),
    (rulings.refer, "gm", "proposed", "特殊情况", "只有技质部经理"),
    (rulings.refer, "manager", "proposed", " ", "请写明报总经理的理由"),
    (rulings.refer, "manager", "referred", "再报", "已报总经理"),
    (rulings.refer, "manager", "confirmed", "特殊情况", "已处理"),
    (rulings.confirm, "manager", "referred", "确认", "已报总经理，等待总经理裁定"),   # a referred one waits
    (rulings.waive, "manager", "referred", "免除", "已报总经理，等待总经理裁定"),
    (rulings.confirm, "manager", "proposed", "确认", "confirmed"),
    (rulings.confirm, "engineer", "proposed", "确认", "只有技质部经理"),
    (rulings.gm_rule, "gm", "referred", "同意免除", "gm_ruled"),                 # on a referral
    (rulings.gm_rule, "gm", "proposed", "主动裁定", "gm_ruled"),                 # of his own accord
    (rulings.gm_rule, "gm", "confirmed", "改判", "gm_ruled"),
    (rulings.gm_rule, "manager", "referred", "x", "只有总经理"),
    (rulings.add_statement, "receiver", "proposed", "顾客周末来电", "proposed"),   # the person, before the ruling
    (rulings.add_statement, "receiver", "referred", "顾客周末来电", "referred"),
    (rulings.add_statement, "manager", "proposed", "代为说明", "只有被处罚人本人"),
    (rulings.add_statement, "receiver", "confirmed", "晚了", "已处理"),
    (rulings.add_statement, "receiver", "proposed", "", "请填写申辩或说明"),
])
def test_rulings_per_fine(users, fn, actor, status, reason, expected):
    fine = _fine(status, final_amount=50 if status == "confirmed" else None)
    before = copy.deepcopy(fine)
    amount = "0" if fn is rulings.gm_rule else ""  # a fixed amount is confirmed as proposed
    if expected in rulings.STATUSES:
        fn(fine, users[actor], NOW, amount, reason)
        assert fine["status"] == expected
        if fn is rulings.refer:
            assert (fine["referred_by"], fine["referral_reason"]) == (actor, reason)
        if fn is rulings.add_statement:
            assert fine["statements"] == [{"by": actor, "at": "2026-12-03T10:00:00+08:00", "text": reason}]
    else:
        with pytest.raises(FineError, match=expected):
            fn(fine, users[actor], NOW, amount, reason)
        assert fine == before  # nothing half-written


# --- Through the app: the case page, the timeline, the notices, 我的待办 ---------------------------

READERS = ("receiver", "manager", "gm", "finance")  # the person concerned and the readers of every fine
OTHERS = ("sales", "tech")  # they read the case (CASE_READERS) but not its fines
STATEMENT = "顾客周六来电，周一才能登记"
REFERRAL = "外地部队节日值班来电，情况特殊"
GM_WORDS = "同意免除，下不为例"


def page(client, auth, who: str, case_id: int) -> str:
    auth.logout()
    auth.login(who)
    resp = client.get(f"/cases/{case_id}")
    assert resp.status_code == 200, who
    return resp.get_data(as_text=True)


def post(client, case_id: int, action: str, rev: int, **fields):
    data = {f"{action}-rev": rev, **{f"{action}-{k}": v for k, v in fields.items()}}
    return client.post(f"/cases/{case_id}/{action.replace('_', '-')}", data=data)


def test_who_sees_fines_the_statement_and_the_referral(client, auth, store, make_case):
    case = make_case(minutes_ago=60 * 24 * 7)  # recorded a week after the call: a 6.1.4 proposal for the receiver
    cid = case["id"]
    for who in OTHERS:
        html = page(client, auth, who, cid)
        assert 'id="fines"' not in html and HIDDEN_TEXT in html, who
        assert 'id="action-state_fine"' not in html and 'id="action-refer_fine"' not in html
    for who in ("finance", "gm", "manager", "receiver"):  # the receiver last: the statement follows
        html = page(client, auth, who, cid)
        assert 'id="fines"' in html and "50 元" in html and HIDDEN_TEXT not in html, who
    assert 'id="action-state_fine"' in html  # the person concerned, before the ruling

    # the person concerned adds a statement (申辩/说明); the 技质部经理 hears of it
    rev = store.get("cases", cid)["_rev"]
    assert post(client, cid, "state_fine", rev, key="handover", text="").status_code == 400
    assert post(client, cid, "state_fine", rev, key="handover", text=STATEMENT).status_code == 302
    # the tq_manager refers it to the GM (6.2.8 特殊情况)
    html = page(client, auth, "manager", cid)
    assert STATEMENT in html and 'id="action-refer_fine"' in html
    rev = store.get("cases", cid)["_rev"]
    assert post(client, cid, "refer_fine", rev, key="handover", reason=REFERRAL).status_code == 302
    [fine] = store.get("cases", cid)["fines"]
    assert (fine["status"], fine["referred_by"], fine["referral_reason"]) == ("referred", "manager", REFERRAL)
    # a referred proposal waits: the manager can no longer confirm or waive it
    rev = store.get("cases", cid)["_rev"]
    resp = post(client, cid, "rule_fine", rev, key="handover", decision="waived", reason="免除")
    assert resp.status_code == 409 and store.get("cases", cid)["fines"][0]["status"] == "referred"
    html = resp.get_data(as_text=True)
    assert 'id="action-rule_fine"' not in html and "已报总经理" in html

    # the GM is told and finds it in 我的待办
    notes = [n for n in store.scan(inbox.TABLE) if n["ref"].get("id") == cid]
    assert {(n["recipient"], n["kind"]) for n in notes if n["kind"].startswith("fine_")} == {
        ("receiver", "fine_proposed"), ("manager", "fine_proposed"), ("manager", "fine_statement"),
        ("gm", "fine_referred"), ("receiver", "fine_referred")}
    auth.logout()
    auth.login("gm")
    todo = client.get("/cases/my").get_data(as_text=True)
    assert "待总经理裁定的处罚" in todo and case["number"] in todo and REFERRAL in todo
    # the GM rules; the person and the manager who referred it hear of it; nothing waits for him now
    rev = store.get("cases", cid)["_rev"]
    assert post(client, cid, "gm_rule_fine", rev, key="handover", amount="0", reason=GM_WORDS).status_code == 302
    [fine] = store.get("cases", cid)["fines"]
    assert (fine["status"], fine["final_amount"], fine["gm_reason"]) == ("gm_ruled", 0, GM_WORDS)
    assert "待总经理裁定的处罚" not in client.get("/cases/my").get_data(as_text=True)
    ruled = {n["recipient"] for n in store.scan(inbox.TABLE) if n["kind"] == "fine_ruled" and n["ref"].get("id") == cid}
    assert ruled == {"receiver", "manager"}

    # the timeline: the fine steps' words for the fine's readers only
    for who in ("finance", "receiver"):
        html = page(client, auth, who, cid)
        assert STATEMENT in html and REFERRAL in html and GM_WORDS in html, who
    assert 'id="action-state_fine"' not in html  # ruled: no statement now
    for who in OTHERS:
        html = page(client, auth, who, cid)
        assert STATEMENT not in html and REFERRAL not in html and GM_WORDS not in html, who
        assert html.count(HIDDEN_TEXT) >= 4, who  # the fines table and the three fine steps

    # no notice names a fine's person or amount to anyone else
    for n in store.scan(inbox.TABLE):
        if "建议金额" in n["body"] or "结果：" in n["body"] or REFERRAL in n["body"] or STATEMENT in n["body"]:
            assert n["recipient"] in READERS, n
