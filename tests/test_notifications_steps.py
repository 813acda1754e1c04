"""Who hears of each step of a case (issue 10): the ``notify`` column of the transitions table
(records/cases/flow.py), the notices of the steps and of the fines (records/cases/notices.py).

``PATHS`` walks every row of the table (and the call recorded, intake) through the real
workflow; each step names exactly who must be told: a username for the step notice,
"name/kind" for a fine notice. Nobody is told of their own action; the step's timeline entry
says who was told; fine names and amounts go only to those the GLOSSARY lets see them.
"""
from __future__ import annotations

import pytest

from records.cases import flow, notices, workflow
from records.cases.vocab import CaseError
from records.notifications import inbox
from records.users import accounts
from tests.fixtures.calendar import at
from tests.fixtures.service_forms import report_form
from tests.fixtures.users import set_supervisor

NEAR_FREE = dict(solution="onsite_free", analysis="电源模块损坏")
DISPATCH = dict(plan="更换电源模块", precautions="断电后再开箱", departed_at=at("2026-11-30T09:30"))
SENT = dict(method="email", recipient="陈工")  # how and to whom the 报价单 went (5.2.5)
ON_SITE = [
    ("arrive", "tech", "2026-11-30T14:00", dict(arrived_at=at("2026-11-30T13:30")), set()),
    ("complete", "tech", "2026-12-01T11:00", dict(work_done="更换电源模块", completed_at=at("2026-12-01T10:30")),
     {"engineer"}),
]
REPORT = dict(text="已修复", **report_form("2026-11-30T13:30", "2026-12-01T10:30"),
              expenses=[{"date": "2026-12-01", "category": "transport", "item": "差旅", "amount": "800"}],
              returned_materials=[])

# path: (intake: user, kind, serial; expected) and the steps (action, user, when, data, expected)
PATHS = {
    "consultation": (("receiver", "consultation", "", {"engineer", "manager"}), [
        ("handover", "receiver", "2026-11-27T16:10", {}, {"engineer", "manager"}),  # if the row exists
        ("assign_reply", "engineer", "2026-11-30T09:10", dict(assignee="sales"), {"sales"}),
        ("reply", "sales", "2026-11-30T10:00", dict(answer="按说明书 4.2 节操作"), {"receiver"}),
    ]),
    "onsite_free": (("engineer", "service_request", "IN-001", set()), [
        ("decide", "manager", "2026-11-27T17:00", NEAR_FREE, {"engineer"}),
        ("dispatch", "manager", "2026-11-30T09:00", dict(technicians=["tech", "tech2"], **DISPATCH),
         {"tech", "tech2"}),
        *ON_SITE,
        ("approve_return", "manager", "2026-12-01T11:10", {}, {"tech", "tech2"}),
        # 7.4: the technician asks their 主管领导 (tech's is manager: ``set_supervisor`` below), who answers
        ("request_approval", "tech", "2026-12-01T11:20", dict(purpose="招待顾客工作餐，约 300 元"), {"manager"}),
        ("decide_approval", "manager", "2026-12-01T11:30", dict(request="1", agreed="yes",
                                                                given_at=at("2026-12-01T11:25")), {"tech", "tech2"}),
        ("record_return", "tech", "2026-12-01T16:00", dict(returned_at=at("2026-12-01T15:00")), {"engineer"}),
        ("report", "tech", "2026-12-02T10:00", REPORT, {"engineer", "manager"}),
        ("confirm", "engineer", "2026-12-03T09:00", dict(quality="服务良好", lines=[{"approved": "700", "reason": "超标准"}]),
         {"tech", "tech2"}),
    ]),
    "paid_refused": (("engineer", "service_request", "OUT-001", set()), [
        ("decide", "manager", "2026-11-27T17:00", dict(solution="onsite_paid", analysis="主板损坏"), {"engineer"}),
        ("quote", "engineer", "2026-11-30T09:00", dict(service_fee="2000", parts=[{"part": "主板", "quantity": "1"}]),
         {"finance"}),
        ("price", "finance", "2026-11-30T10:00", dict(prices=["3500"]), {"engineer"}),
        ("send_quote", "manager", "2026-11-30T10:30", SENT, {"sales"}),
        ("customer_response", "sales", "2026-11-30T15:00",
         dict(accepted="no", responded_at=at("2026-11-30T14:00"), person="陈工"), {"vp"}),
        ("vp_decision", "vp", "2026-11-30T16:00", dict(approved="yes", reason="保障任务需要"), {"engineer"}),
    ]),
    "paid_accepted": (("engineer", "service_request", "OUT-001", set()), [
        ("decide", "engineer", "2026-11-27T17:00", dict(solution="onsite_paid", analysis="主板损坏"), set()),
        ("quote", "engineer", "2026-11-30T09:00", dict(service_fee="2000", parts=[]), set()),  # no parts to price
        ("send_quote", "engineer", "2026-11-30T10:30", SENT, {"sales"}),
        ("customer_response", "sales", "2026-11-30T15:00",
         dict(accepted="yes", responded_at=at("2026-11-30T14:00"), person="陈工"), {"engineer"}),
    ]),
    "phone_guidance": (("receiver", "service_request", "IN-001", {"engineer", "manager"}), [
        ("handover", "receiver", "2026-11-27T16:10", {}, {"engineer", "manager"}),
        ("decide", "engineer", "2026-11-27T17:00", dict(solution="phone_guidance", analysis="a", guidance="重新插拔电源"),
         set()),  # the decider becomes the owner: told of nothing of their own
        ("guidance_result", "manager", "2026-11-30T09:00", dict(solved=False), {"engineer"}),
    ]),
    "return_unapproved_and_fines": (("engineer", "service_request", "IN-001", set()), [
        ("decide", "engineer", "2026-11-27T17:00", NEAR_FREE, set()),
        ("dispatch", "engineer", "2026-11-30T09:00", dict(technicians=["tech"], **DISPATCH), {"tech"}),
        *ON_SITE,
        # 6.2.6: back without approval: the step to the owner, the proposal to the 技质部经理 and to
        # its person (a proposal the system made is not the technician's own act)
        ("record_return", "tech", "2026-12-01T16:00", dict(returned_at=at("2026-12-01T15:00"), confirm_unapproved=True),
         {"engineer", "manager/fine_proposed", "tech/fine_proposed"}),
        ("propose_fine", "manager", "2026-12-01T16:30",
         dict(kind="record_unclear", person="receiver", facts="来电记录缺地址", items="1"), {"receiver/fine_proposed"}),
        ("rule_fine", "manager", "2026-12-02T09:00",
         dict(key="return_unapproved", decision="confirmed", amount="100", reason="造成额外差旅"), {"tech/fine_ruled"}),
        # issue 13: the person's statement goes to the 技质部经理; a referral to the GM and the person;
        # the GM's ruling to the person and to the manager who referred it
        ("state_fine", "receiver", "2026-12-02T09:10", dict(key="record_unclear:1", text="顾客未提供地址"),
         {"manager/fine_statement"}),
        ("refer_fine", "manager", "2026-12-02T09:20", dict(key="record_unclear:1", reason="特殊情况"),
         {"gm/fine_referred", "receiver/fine_referred"}),
        ("gm_rule_fine", "gm", "2026-12-02T10:00", dict(key="record_unclear:1", amount="0", reason="初犯"),
         {"receiver/fine_ruled", "manager/fine_ruled"}),
    ]),
    # a unit the receiver could not find (待核实): 技质部 links it, and who did owns the case
    # 9.3 (issue 17): phone guidance solved, classified; 技质部 corrects it afterwards: told to no one
    "classified_afterwards": (("engineer", "service_request", "IN-001", set()), [
        ("decide", "engineer", "2026-11-27T17:00", dict(solution="phone_guidance", analysis="a", guidance="重启"), set()),
        ("guidance_result", "engineer", "2026-11-30T09:00", dict(solved=True, fault_category="power",
                                                                   cause_category="misuse"), set()),
        ("classify", "manager", "2026-12-03T10:00", dict(fault_category="signal", reason="复核"), set()),
    ]),
    "unknown_unit": (("receiver", "service_request", "JX-NEW-1", {"engineer", "manager"}, dict(unverified=True)), [
        ("resolve_unknown", "manager", "2026-11-27T16:20", dict(customer_id="@near", product_serial="IN-001"),
         set()),
        ("decide", "manager", "2026-11-27T17:00", dict(solution="phone_guidance", analysis="a", guidance="重启"), set()),
    ]),
    # keeping the record right (issue 10): told to no one; "@another" is a second case to merge into
    "record_keeping": (("engineer", "service_request", "IN-001", set()), [
        ("correct", "engineer", "2026-11-27T16:30", dict(description="更正：开机无显示", reason="记错了现象"), set()),
        ("cancel", "engineer", "2026-11-27T16:40", dict(reason="重复登记"), set()),
        ("restore", "manager", "2026-11-27T16:50", dict(reason="并非重复"), set()),
        ("merge", "manager", "2026-11-27T17:00", dict(target="@another", reason="同一故障"), set()),
    ]),
}
# GLOSSARY: who may see a fine's person and amount, besides the person concerned
FINE_READERS = {"manager", "gm", "finance"}


def test_every_row_says_who_hears_of_it_and_every_row_is_walked():
    assert flow.INTAKE_NOTIFY, "the call recorded is told to 技质部 (6.1.3)"
    for name, t in flow.TRANSITIONS.items():
        assert t.notify is not None, f"{name}: the notify column is empty (say NOBODY explicitly)"
        for rule in t.notify:
            assert rule.who and all(w.startswith("@") or w in flow.ROLE_LABELS for w in rule.who), (name, rule)
    walked = {step[0] for _, steps in PATHS.values() for step in steps}
    assert set(flow.TRANSITIONS) <= walked, sorted(set(flow.TRANSITIONS) - walked)


def made_since(db, last_id: int) -> list[dict]:
    return [n for n in db.scan(inbox.TABLE) if n["id"] > last_id]


def last_id(db) -> int:
    return max((n["id"] for n in db.scan(inbox.TABLE)), default=0)


def check(db, case: dict, action: str, by: str, expected: set[str], made: list[dict]) -> None:
    """The notices one step made: exactly ``expected``, about this case, never to ``by``."""
    got = {n["recipient"] if n["kind"] == notices.STEP else f"{n['recipient']}/{n['kind']}" for n in made}
    assert got == expected, (action, got)
    assert len(made) == len(got)  # one notice per person and subject
    entry = next(e for e in reversed(case["timeline"]) if e["action"] == action)
    # the timeline (every reader sees it) names those told of the step, never who a fine told
    assert set(entry.get("notified", [])) == {g for g in expected if "/" not in g}, (action, entry)
    for n in made:
        assert n["recipient"] != by or n["kind"] == notices.FINE, n  # a proposal the system made
        assert n["link"] == f"/cases/{case['id']}" and n["ref"]["id"] == case["id"]
        assert case["number"] in n["subject"] and case["customer_name"] in n["subject"]
        assert case["number"] in n["body"] and "下一个期限：" in n["body"]
        if n["kind"] == notices.STEP:
            label = flow.TRANSITIONS[action].label if action in flow.TRANSITIONS else "登记来电"
            assert label in n["subject"] and "下一步：" in n["body"]
            assert "建议金额" not in n["body"] and "结果：" not in n["body"]  # no fine's amount in a step notice
        else:
            fine = next(f for f in case["fines"] if f["key"] in n["key"])
            assert n["recipient"] in FINE_READERS | {fine["person"]}, n


@pytest.mark.parametrize("path", PATHS)
def test_each_step_tells_exactly_its_people(path, db, cal, users, world, new_case, act, archive_signed_form):
    (who, kind, serial, expected, *extra), steps = PATHS[path]
    set_supervisor(db, "tech", "manager")  # 7.4: who a technician asks
    before = last_id(db)
    c = new_case(user=who, kind=kind, serial=serial, **(extra[0] if extra else {}))
    check(db, c, "intake", who, expected, made_since(db, before))
    for action, by, when, data, expected in steps:
        if action not in flow.TRANSITIONS or c["state"] not in flow.TRANSITIONS[action].states:
            assert action == "handover"  # the hand-over step (removed by issue 10): only where it exists
            continue
        if action == "report":
            archive_signed_form(db, c)  # 6.2.7: the signed 技术服务单 first
        if data.get("customer_id") == "@near":
            data = {**data, "customer_id": world.near["id"]}
        if data.get("target") == "@another":
            data = {**data, "target": new_case(user="engineer", serial="IN-001")["number"]}
        before = last_id(db)
        c = act(db.get("cases", c["id"]), action, by, when, **data)
        check(db, c, action, by, expected, made_since(db, before))


def test_notices_name_the_step_what_comes_next_and_the_deadline(db, new_case, act):
    c = new_case(user="engineer", serial="IN-001")
    c = act(c, "decide", "engineer", "2026-11-27T17:00", **NEAR_FREE)
    before = last_id(db)
    c = act(c, "dispatch", "engineer", "2026-11-30T09:00", technicians=["tech"], **DISPATCH)
    [n] = made_since(db, before)
    assert n["subject"] == f"【派出前安排（6.2.5）】{c['number']} 某部队第一修理所"
    assert "engineer-姓名" in n["body"] and "注意事项（6.2.5）：断电后再开箱" in n["body"]
    assert "下一步：到达现场（tech-姓名）" in n["body"]
    # 5.1.1.3: 150 km → 24 clock hours from the receipt (Fri 16:00)
    assert "下一个期限：到达现场，2026-11-28 16:00 前（5.1.1.3：" in n["body"]


def test_the_confirmation_tells_the_technicians_their_expenses_as_approved(db, new_case, act, archive_signed_form):
    _, steps = PATHS["onsite_free"]
    set_supervisor(db, "tech", "manager")
    c = new_case(user="engineer", serial="IN-001")
    for action, by, when, data, _ in steps[:-1]:
        if action == "report":
            archive_signed_form(db, c)
        c = act(db.get("cases", c["id"]), action, by, when, **data)
    before = last_id(db)
    act(c, "confirm", "manager", "2026-12-03T09:00", quality="服务良好", lines=[{"approved": "700", "reason": "超标准"}])
    body = {n["recipient"]: n["body"] for n in made_since(db, before)}
    assert set(body) == {"tech", "tech2"}
    assert "差旅：报销 800.00 元，核准 700.00 元（超标准）" in body["tech"] and "核准合计 700.00 元" in body["tech"]


def test_the_owner_disabled_or_unknown_leaves_it_to_every_engineer(db, users, new_case, act):
    c = new_case(user="engineer", serial="IN-001")
    c = act(c, "decide", "engineer", "2026-11-27T17:00", **NEAR_FREE)
    c = act(c, "dispatch", "engineer", "2026-11-30T09:00", technicians=["tech"], **DISPATCH)
    c = act(c, "arrive", "tech", "2026-11-30T14:00", arrived_at=at("2026-11-30T13:30"))
    accounts.set_active(db, accounts.find_by_username(db, "engineer")["id"], False, "admin")
    assert flow.tq_owner(c) == "engineer"
    before = last_id(db)
    act(c, "complete", "tech", "2026-12-01T11:00", work_done="更换", completed_at=at("2026-12-01T10:30"))
    assert {n["recipient"] for n in made_since(db, before)} == {"manager"}  # the active 技质部 engineers


def test_a_refused_step_tells_nobody(db, new_case, act):
    c = new_case(user="engineer", serial="IN-001")
    before = last_id(db)
    with pytest.raises(CaseError):
        act(c, "decide", "manager", "2026-11-27T17:00", solution="onsite_free", analysis="")
    assert made_since(db, before) == []
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]


def test_a_case_from_a_receiver_is_told_to_every_active_engineer(db, cal, world):
    c = workflow.intake(db, cal, {"type": "consultation", "customer_id": world.near["id"], "caller_name": "刘参谋",
                                  "caller_phone": "0312-5550101", "description": "如何保养？"},
                        {"username": "tech", "roles": ["technician", "receiver"]}, now=at("2026-11-27T16:00"))
    got = {n["recipient"]: n for n in made_since(db, 0)}
    assert set(got) == {"engineer", "manager"} and c["timeline"][0]["notified"] == ["engineer", "manager"]
    assert got["engineer"]["subject"] == f"【登记来电】{c['number']} 某部队第一修理所"
