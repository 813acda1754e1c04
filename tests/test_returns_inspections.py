"""Inspection of a faulty returned part (3.1): 待检验 → 已检验 with the result, the failure cause and
its category from the one cause list (records.catalog.categories); an inspection finished after
the confirmation (6.2.8) sets the case's cause, audited, and tells 技质部. Domain only."""
from __future__ import annotations

import pytest

from records.cases.steps import handin
from records.catalog import categories
from records.core.errors import DomainError, StaleRecord
from records.materials import inspections, returns
from tests.fixtures.calendar import at

GOOD = {"result": "confirmed_fault", "cause_text": "外购电源模块电容击穿", "cause_category": "bought_in",
        "serial": "PM-2291"}


def finish(store, doc, by="engineer", now="2026-12-04T09:00", **over):
    """The inspection page's transaction: the record, then the case's cause if it was confirmed."""
    with store.transaction(by) as tx:
        done = inspections.record_tx(tx, doc["id"], {**GOOD, **over}, by, at(now), expect_rev=doc["_rev"])
        return done, handin.inspection_cause_tx(tx, done, by, at(now))


@pytest.fixture
def received(onsite_free_until, db):
    """The free on-site case with its faulty part received at the report: (case, its inspection)."""
    c = onsite_free_until("awaiting_confirmation")
    return c, inspections.get(db, c["returned_materials"][0]["inspection_id"])


def test_a_received_faulty_part_waits_for_inspection(received, db):
    c, doc = received
    assert (doc["state"], doc["case_id"], doc["part_text"], doc["quantity"], doc["part_code"]) == (
        "pending", c["id"], "电源模块", 1, None)
    assert inspections.pending(db) == [doc] and inspections.for_case(db, c["id"]) == [doc]
    assert returns.OUTCOMES[c["returned_materials"][0]["outcome"]] == "转检验"


@pytest.mark.parametrize("over, field", [
    ({"result": ""}, "result"),
    ({"result": "great"}, "result"),
    ({"cause_text": " "}, "cause_text"),
    ({"cause_category": ""}, "cause_category"),
    ({"cause_category": "weather"}, "cause_category"),  # not on the one list
    ({"serial": "x" * 61}, "serial"),
])
def test_bad_input_is_refused_beside_its_field(received, db, over, field):
    _, doc = received
    with pytest.raises(DomainError) as bad:
        finish(db, doc, **over)
    assert bad.value.field == field
    assert inspections.get(db, doc["id"])["state"] == "pending"  # nothing half-written


def test_a_retired_cause_cannot_be_chosen_and_stale_or_repeated_records_are_refused(received, db):
    _, doc = received
    with db.transaction("manager") as tx:
        categories.retire_tx(tx, "cause", "transport")
    with pytest.raises(DomainError) as bad:
        finish(db, doc, cause_category="transport")
    assert bad.value.field == "cause_category"
    with pytest.raises(StaleRecord):
        finish(db, {**doc, "_rev": doc["_rev"] + 5})
    done, case = finish(db, doc)
    assert (done["state"], done["result"], done["cause_category"], done["serial"], done["by"]) == (
        "done", "confirmed_fault", "bought_in", "PM-2291", "engineer")
    assert done["cause_category"] in categories.SUPPLIER_CAUSES  # what CLAIMS raises a claim from
    assert case is None  # not confirmed yet: the case is left as it is
    with pytest.raises(DomainError, match="已检验"):
        finish(db, done)


def test_an_inspection_after_the_confirmation_sets_the_case_cause_audited_and_told(received, db, act):
    c, doc = received
    c = act(c, "confirm", "engineer", "2026-12-04T10:00", quality="服务及时",
            lines=[{"approved": "", "reason": ""}, {"approved": "", "reason": ""}])
    with db.transaction("engineer") as tx:  # a classification (CLASSIFY's) follows the inspection
        tx.update("cases", c["id"], {"classification": {"cause_category": "unknown", "final": True}})
    _, case = finish(db, doc, by="manager", now="2026-12-07T09:00")
    assert case["cause"] == {"category": "bought_in", "text": "外购电源模块电容击穿", "inspection_id": doc["id"],
                             "at": at("2026-12-07T09:00").isoformat(), "by": "manager"}
    assert case["classification"]["cause_category"] == "bought_in"
    assert case["timeline"][-1]["action"] == "inspection_cause" and "外购件" in case["timeline"][-1]["text"]
    entry = db.history("cases", c["id"])[-1]
    assert (entry["action"], entry["actor"]) == ("inspection_cause", "manager")  # audited
    told = [n for n in db.scan("notifications") if n["kind"] == "inspection"]
    assert [n["recipient"] for n in told] == ["engineer"]  # the case's 技质部 owner; not who inspected
    assert "外购件" in told[0]["body"] and told[0]["link"] == f"/cases/{c['id']}"
