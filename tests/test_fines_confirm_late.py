"""6.2.8 as one proposal per case (issue 13): the working days late (GLOSSARY: a working day
counts once it has begun after the due time), the running count, no ruling before the
confirmation, and the migration of the per-day proposals of before (cases v2 → v3)."""
from __future__ import annotations

import copy

import orjson
import pytest

from records import policy
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar
from records.cases import migrations, vocab
from records.core import schema
from records.core.store import Store
from records.fines import proposals, rulings
from records.fines.proposals import FineError, late_days
from tests.fixtures.calendar import at

CAL = WorkCalendar.default()


@pytest.mark.parametrize("due, until, days", [
    ("2026-12-10T17:30", "2026-12-10T17:30", []),                  # at the due time: on time
    ("2026-12-10T17:30", "2026-12-10T18:00", []),                  # after 17:30, next day not begun: not late
    ("2026-12-10T17:30", "2026-12-11T08:00", []),                  # before the 6th working day begins
    ("2026-12-10T17:30", "2026-12-11T09:00", ["2026-12-11"]),      # on the 6th working day: 1 day
    ("2026-12-10T17:30", "2026-12-11T23:00", ["2026-12-11"]),
    ("2026-12-11T17:30", "2026-12-13T20:00", []),                  # due Friday: the weekend is no day
    ("2026-12-11T17:30", "2026-12-14T08:45", ["2026-12-14"]),      # Monday begun
    ("2026-12-11T17:30", "2026-12-15T13:00", ["2026-12-14", "2026-12-15"]),
    # National Day 2026: 1–7 October off, Saturday 10 October a make-up working day (调休上班)
    ("2026-09-30T17:30", "2026-10-07T16:00", []),
    ("2026-09-30T17:30", "2026-10-08T10:00", ["2026-10-08"]),
    ("2026-09-30T17:30", "2026-10-10T09:00", ["2026-10-08", "2026-10-09", "2026-10-10"]),
    ("2026-09-30T17:30", "2026-10-12T09:00", ["2026-10-08", "2026-10-09", "2026-10-10", "2026-10-12"]),
])
def test_late_working_days(due, until, days):
    assert [d.isoformat() for d in late_days(CAL, at(due), at(until))] == days


def _deadline(due: str) -> Deadline:
    return Deadline(policy.CONFIRM.clause, policy.CONFIRM.basis.format(n=5), at("2026-12-03T10:00"), at(due))


def test_one_running_proposal_then_final_and_only_then_ruled(users):
    case = {"fines": [], "deadlines": {"confirm": {"due": "2026-12-10T17:30:00+08:00"}}}
    d = _deadline("2026-12-10T17:30")
    assert proposals.confirm_late_proposal(case, CAL, d, at("2026-12-10T18:00"), "engineer", at("2026-12-10T18:00")) is None
    assert case["fines"] == []
    f = proposals.confirm_late_proposal(case, CAL, d, at("2026-12-11T09:00"), "engineer", at("2026-12-11T09:00"))
    assert (f["key"], f["amount"], f["days"], f["running"]) == ("confirm_late", 50, 1, True)
    assert proposals.confirm_late_proposal(case, CAL, d, at("2026-12-11T15:00"), "engineer", at("2026-12-11T15:00")) is None
    # the case page shows the count as of now, between two runs
    assert proposals.confirm_late_now(case, CAL, at("2026-12-15T09:00"))["amount"] == 150
    assert proposals.rulable(case) == [] and proposals.pending(case) == [f]
    for ruling, actor in ((rulings.confirm, "manager"), (rulings.refer, "manager"), (rulings.gm_rule, "gm")):
        with pytest.raises(FineError, match="延迟天数仍在累计"):
            ruling(copy.deepcopy(f), users[actor], at("2026-12-14T10:00"), "50", "理由")
    proposals.confirm_late_proposal(case, CAL, d, at("2026-12-14T10:00"), "engineer", at("2026-12-14T10:00"), final=True)
    [f] = case["fines"]
    assert (f["amount"], f["late_days"], f["running"]) == (100, ["2026-12-11", "2026-12-14"], False)
    assert "计数至确认完成为止" not in f["basis"] and "延迟 2 个工作日" in f["basis"]
    # final: a later run changes nothing, and the manager may now rule it
    assert proposals.confirm_late_proposal(case, CAL, d, at("2026-12-18T10:00"), "engineer", at("2026-12-18T10:00")) is None
    assert proposals.rulable(case) == [f]
    with pytest.raises(FineError, match="规定金额为 100 元"):
        rulings.confirm(f, users["manager"], at("2026-12-15T09:00"), "50", "核实")
    rulings.confirm(f, users["manager"], at("2026-12-15T09:00"), "", "核实")
    assert (f["status"], f["final_amount"]) == ("confirmed", 100)


# --- The migration: per-day proposals (v2) → one per case (v3) --------------------------------------


def _per_day(k: int, day: str, status: str = "proposed", **more) -> dict:
    return {"key": f"confirm_late:{k}", "clause": "6.2.8", "basis": "x", "person": "engineer", "amount": 50,
            "range": None, "day": day, "status": status, "proposed_at": f"{day}T09:00:00+08:00",
            "proposed_by": "overdue", "final_amount": 50 if status == "confirmed" else None,
            "decided_by": "manager" if status != "proposed" else None, "decided_at": None, "reason": "",
            "gm_by": None, "gm_at": None, "gm_reason": "", "notified": ["engineer", "manager"], **more}


def write_v2_cases(root) -> None:
    base = {"type": "service_request", "customer_id": 1, "customer_name": "甲", "received_by": "receiver",
            "received_at": "2026-11-27T09:00:00+08:00", "recorded_by": "receiver", "timeline": [], "_rev": 3,
            "_schema": 2, "_created": "2026-11-27T01:00:00.000+00:00", "_updated": "2026-12-15T01:00:00.000+00:00",
            "_by": "old", "_audit": []}
    handover = {"clause": "6.1.4", "key": "handover", "amount": 50, "person": "receiver", "status": "proposed"}
    docs = {
        # confirmed late on 16 Dec: day 1 ruled, days 2–4 not yet: 1 stays, 2–4 merge (150 元, final)
        "1": {**base, "id": 1, "number": "FW2026-0001", "state": "closed",
              "deadlines": {"confirm": {"due": "2026-12-10T17:30:00+08:00", "done_at": "2026-12-16T09:00:00+08:00"}},
              "fines": [{**_per_day(0, "x"), **handover}, _per_day(1, "2026-12-11", "confirmed"),
                        _per_day(2, "2026-12-14"), _per_day(3, "2026-12-15"), _per_day(4, "2026-12-16")]},
        # still waiting for the confirmation: two days so far merge into a running proposal
        "2": {**base, "id": 2, "number": "FW2026-0002", "state": "awaiting_confirmation",
              "deadlines": {"confirm": {"due": "2026-12-10T17:30:00+08:00", "done_at": None}},
              "fines": [_per_day(1, "2026-12-11"), _per_day(2, "2026-12-14")]},
        # every per-day proposal ruled: nothing merges
        "3": {**base, "id": 3, "number": "FW2026-0003", "state": "closed",
              "deadlines": {"confirm": {"due": "2026-12-10T17:30:00+08:00", "done_at": "2026-12-11T10:00:00+08:00"}},
              "fines": [_per_day(1, "2026-12-11", "waived")]},
    }
    folder = root / "tables" / vocab.TABLE
    folder.mkdir(parents=True)
    (folder / "000000.json").write_bytes(orjson.dumps({vocab.TABLE: docs}))


def test_per_day_proposals_merge_into_one_per_case(tmp_path, runner, users):
    root = tmp_path / "data"
    write_v2_cases(root)
    store = Store(root)
    closed, waiting, ruled = (store.get(vocab.TABLE, i) for i in (1, 2, 3))
    assert closed["_schema"] == schema.current(vocab.TABLE) == 4
    assert [(f["key"], f["status"], f["amount"]) for f in closed["fines"]] == [
        ("handover", "proposed", 50), ("confirm_late:1", "confirmed", 50), ("confirm_late", "proposed", 150)]
    merged = closed["fines"][2]
    assert (merged["late_days"], merged["days"], merged["running"]) == (["2026-12-14", "2026-12-15", "2026-12-16"], 3, False)
    assert merged["merged_from"] == ["confirm_late:2", "confirm_late:3", "confirm_late:4"]
    assert merged["notified"] == ["engineer", "manager"] and merged["person"] == "engineer"
    assert closed["timeline"][-1]["action"] == "fine_merge" and "合并为一条" in closed["timeline"][-1]["text"]
    [f] = waiting["fines"]
    assert (f["key"], f["amount"], f["running"]) == ("confirm_late", 100, True)
    # the overdue run goes on counting the merged proposal (Tue 15 Dec begun: a 3rd day)
    d = _deadline("2026-12-10T17:30")
    assert proposals.confirm_late_proposal(waiting, CAL, d, at("2026-12-15T09:00"), "engineer", at("2026-12-15T09:00"))
    assert waiting["fines"][0]["amount"] == 150
    assert [(f["key"], f["status"]) for f in ruled["fines"]] == [("confirm_late:1", "waived")]
    # the merged one is ruled as any other
    rulings.decide(merged, users["manager"], at("2026-12-17T09:00"), "waived", None, "顾客原因")
    assert merged["final_amount"] == 0

    # idempotent: applied again it changes nothing; written for good, audited, once
    again = migrations.one_confirm_late_proposal(copy.deepcopy(store.get(vocab.TABLE, 1)))
    assert again["fines"] == store.get(vocab.TABLE, 1)["fines"]
    result = runner.invoke(["migrate", "--data-dir", str(root)])
    assert result.exit_code == 0 and "cases 3" in result.output, result.output  # 3 cases migrated
    stored = orjson.loads((root / "tables" / vocab.TABLE / "000000.json").read_bytes())[vocab.TABLE]
    assert {d["_schema"] for d in stored.values()} == {schema.current(vocab.TABLE)}
    assert [f["key"] for f in stored["1"]["fines"]] == ["handover", "confirm_late:1", "confirm_late"]
    assert runner.invoke(["migrate", "--data-dir", str(root)]).output.strip().endswith("无需迁移")
    entries = Store(root).history(vocab.TABLE, 1)  # audited: the migration's own entry
    assert [(e["action"], e["actor"]) for e in entries][-1:] == [("migrate", "migrate")]
