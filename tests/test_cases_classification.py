"""9.3 (issue 17): what a case carries for analysis, 技质部's classification of the fault:
provisional at the decision, final and required when the case closes on a fault (the
confirmation 6.2.8, phone guidance solved 6.2.3, the VP's refusal 6.2.4), retired codes kept
for the cases that name them, corrected after the close (audited), 重复故障 suggested and checked.

The steps are taken with records.cases.workflow.perform directly (not the ``act`` fixture,
which sends a classification to every closing step)."""
from __future__ import annotations

import re

import pytest

from records.calendar.corrections import current_calendar
from records.cases import classification, workflow
from records.cases.vocab import CaseError, NotPermitted
from records.catalog import categories
from records.core.errors import DomainError
from tests.fixtures.calendar import at
from tests.fixtures.cases import CLASSIFIED


@pytest.fixture
def step(world, cal, users):
    """``step(case, action, user, now, **data)``: workflow.perform, nothing added."""
    def perform(case, action, user, now, **data):
        return workflow.perform(world.store, cal, case["id"], action, users[user], data, expect_rev=case["_rev"],
                                now=at(now))
    return perform


@pytest.fixture
def guided(new_case, step):
    """``guided(**at_decision)``: a case decided for phone guidance, with ``at_decision`` on the form."""
    def make(**extra):
        c = new_case(user="engineer")
        return step(c, "decide", "engineer", "2026-11-27T17:00", solution="phone_guidance", analysis="a",
                    guidance="重新插拔电源", **extra)
    return make


# (at the decision, at the close "guidance solved", the error's field or the final classification)
CLOSE_CASES = [
    ({}, {}, "fault_category"),  # nothing anywhere: refused
    ({}, {"fault_category": "power"}, "cause_category"),  # half of it: refused
    ({"fault_category": "power"}, {"cause_category": "misuse"}, {"fault_category": "power", "cause_category": "misuse"}),
    ({"fault_category": "power", "cause_category": "process"}, {},
     {"fault_category": "power", "cause_category": "process"}),  # the provisional one becomes final
    ({"fault_category": "power", "cause_category": "process"}, {"cause_category": "design", "part": "电源模块"},
     {"fault_category": "power", "cause_category": "design", "part": "电源模块"}),  # changed at the close
    ({}, {"fault_category": "nope", "cause_category": "process"}, "fault_category"),  # not in the list
    ({}, {"fault_category": "power", "cause_category": "power"}, "cause_category"),  # a fault code is no cause
    ({}, {**CLASSIFIED, "part": "x" * 101}, "part"),
]


@pytest.mark.parametrize("decided, closing, expected", CLOSE_CASES)
def test_final_and_required_at_a_close_provisional_at_the_decision(db, guided, step, decided, closing, expected):
    c = guided(**decided)
    if decided:
        assert c["classification"]["final"] is False and c["classification"]["fault_category"] == "power"
    else:
        assert "classification" not in c  # optional at the decision
    if isinstance(expected, str):
        with pytest.raises(DomainError) as exc:
            step(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=True, **closing)
        assert exc.value.field == expected
        assert db.get("cases", c["id"])["state"] == "awaiting_guidance_result"  # nothing half-written
        return
    c = step(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=True, **closing)
    got = c["classification"]
    assert {k: got[k] for k in expected} == expected
    assert (got["final"], got["by"], got["repeat_fault"], got["repeat_of"]) == (True, "engineer", False, [])


def test_guidance_not_solved_needs_none_and_keeps_it_provisional(guided, step):
    c = guided()
    c = step(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=False, fault_category="software")
    assert c["classification"]["final"] is False and c["state"] == "awaiting_dispatch"


def test_the_confirmation_and_the_vp_refusal_require_it(step, onsite_free_until, paid_until):
    c = onsite_free_until("awaiting_confirmation")
    with pytest.raises(CaseError) as exc:
        step(c, "confirm", "manager", "2026-12-04T10:00", quality="好", lines=[{}, {}])
    assert exc.value.field == "fault_category"
    c = step(c, "confirm", "manager", "2026-12-04T10:00", quality="好", lines=[{}, {}], **CLASSIFIED)
    assert c["classification"]["final"] and c["outcome"] == "completed"

    c = paid_until("awaiting_customer")
    c = step(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="no",
             responded_at=at("2026-11-30T14:00"), person="陈工")
    with pytest.raises(CaseError):
        step(c, "vp_decision", "vp", "2026-11-30T16:00", approved="no", reason="不符合条件")
    c = step(c, "vp_decision", "vp", "2026-11-30T16:00", approved="no", reason="不符合条件", **CLASSIFIED)
    assert c["classification"]["final"] and c["outcome"] == "refused"


def test_a_retired_code_stays_valid_for_the_case_that_names_it(db, guided, step):
    c = guided(fault_category="power", cause_category="process")
    with db.transaction("manager") as tx:
        categories.retire_tx(tx, "fault", "power")
    c = step(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=True, fault_category="power")
    assert c["classification"]["fault_category"] == "power" and c["classification"]["final"]
    other = guided()
    with pytest.raises(DomainError) as exc:
        step(other, "guidance_result", "engineer", "2026-11-30T09:00", solved=True, fault_category="power",
             cause_category="process")
    assert exc.value.field == "fault_category"
    assert classification.text(db, c["classification"]).startswith("故障类别：电源（已停用），原因类别：制造工艺")


def test_classify_or_correct_a_closed_case_afterwards_audited(db, guided, step, new_case, users):
    c = guided(**CLASSIFIED)
    c = step(c, "guidance_result", "engineer", "2026-11-30T09:00", solved=True)
    with pytest.raises(NotPermitted):
        step(c, "classify", "tech", "2026-12-01T09:00", fault_category="signal", reason="复核")
    with pytest.raises(CaseError) as exc:  # a correction says why
        step(c, "classify", "manager", "2026-12-01T09:00", fault_category="signal")
    assert exc.value.field == "reason"
    c = step(c, "classify", "manager", "2026-12-01T09:00", fault_category="signal", part="接插件", reason="复核后更正")
    assert (c["classification"]["fault_category"], c["classification"]["by"]) == ("signal", "manager")
    entry = c["timeline"][-1]
    assert entry["action"] == "classify" and entry["before"]["fault_category"] == "power"
    assert "更正故障分类：故障类别：电源" in entry["text"] and "→ 故障类别：信号处理" in entry["text"]
    assert [e["action"] for e in db.history("cases", c["id"])][-1] == "classify"  # the audit trail
    open_case = new_case(user="engineer")  # an open case is not classified this way
    with pytest.raises(CaseError):
        step(open_case, "classify", "manager", "2026-12-01T09:00", **CLASSIFIED)
    cancelled = step(open_case, "cancel", "engineer", "2026-12-01T09:10", reason="重复登记")
    with pytest.raises(CaseError):  # cancelled: no fault to classify
        step(cancelled, "classify", "manager", "2026-12-01T09:20", **CLASSIFIED)


def test_repeat_fault_suggests_earlier_cases_of_the_model_and_checks_the_choice(db, guided, step, new_case):
    first = step(guided(), "guidance_result", "engineer", "2026-11-30T09:00", solved=True, **CLASSIFIED)
    later = new_case(user="engineer", serial="IN-FAR", now="2026-12-02T10:00")  # another JX-200
    later = step(later, "decide", "engineer", "2026-12-02T11:00", solution="phone_guidance", analysis="a",
                 guidance="g")
    rows = classification.suggestions(db, later)
    assert [(r["id"], r["fault_category"]) for r in rows] == [(first["id"], "power")]
    assert classification.suggestions(db, first) == []  # nothing earlier
    for bad, field in (({"fault_category": "signal", "repeat_of": [first["id"]]}, "repeat_of"),  # other category
                       ({"fault_category": "power", "repeat_of": []}, "repeat_of"),  # ticked, none picked
                       ({"fault_category": "power", "repeat_of": [later["id"]]}, "repeat_of")):  # not earlier
        with pytest.raises(CaseError) as exc:
            step(later, "guidance_result", "engineer", "2026-12-03T09:00", solved=True, cause_category="process",
                 repeat_fault=True, **bad)
        assert exc.value.field == field
    later = step(later, "guidance_result", "engineer", "2026-12-03T09:00", solved=True, fault_category="power",
                 cause_category="process", repeat_fault=True, repeat_of=[str(first["id"])])
    assert (later["classification"]["repeat_fault"], later["classification"]["repeat_of"]) == (True, [first["id"]])


def test_the_forms_offer_the_lists_and_link_the_earlier_cases(client, auth, store, make_case):
    cal = current_calendar(store)
    eng = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
    first = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=60)
    first = workflow.perform(store, cal, first["id"], "decide", eng, {"solution": "phone_guidance", "analysis": "a",
                                                                      "guidance": "g", **CLASSIFIED})
    workflow.perform(store, cal, first["id"], "guidance_result", eng, {"solved": True})
    second = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=30)
    auth.login("engineer")
    page = client.get(f"/cases/{second['id']}").get_data(as_text=True)
    assert 'name="decide-fault_category"' in page and ">连接器</option>" in page and ">设计</option>" in page
    assert re.search(rf'id="repeat-suggestions-decide".*href="/cases/{first["id"]}"', page, re.S)
    resp = client.post(f"/cases/{second['id']}/decide", data={
        "decide-rev": second["_rev"], "decide-solution": "phone_guidance", "decide-analysis": "a", "decide-guidance": "g",
        "decide-fault_category": "power", "decide-repeat_fault": "y", "decide-repeat_of": str(first["id"])})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    c = store.get("cases", second["id"])
    assert c["classification"]["repeat_of"] == [first["id"]] and not c["classification"]["final"]
    page = client.get(f"/cases/{first['id']}").get_data(as_text=True)  # closed: 技质部 may correct it
    assert 'id="classification"' in page
    assert 'id="action-classify"' in page
    assert re.search(r'<option selected value="power">', page)
