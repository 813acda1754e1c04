"""预防措施 (9.3, issue 17): raised from cases or a cause across a model, the state machine with
its roles, evidence, verification against recurrence read from the cases, the due date and the
daily overdue task (run twice), the quarterly report's section."""
from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from records.calendar.periods import Period
from records.core.errors import DomainError
from records.jobs import daily
from records.reports import preventive
from records.reports import preventive_flow as flow
from records.reports.preventive import PreventiveError
from records.users import accounts, departments
from tests.fixtures.calendar import at


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def dept(db):
    """生产部 with tech2 and sales as members (the owner will be tech2)."""
    d = departments.create_department(db, "生产部", "admin")
    for name in ("tech2", "sales"):
        accounts.update_user(db, accounts.find_by_username(db, name)["id"], "admin", department_id=d["id"])
    return d


@pytest.fixture
def solved(new_case, act):
    """``solved(when, serial="IN-001")``: a JX-200 case received at ``when``, closed by phone guidance,
    classified power / process (the ``act`` fixture's classification)."""
    def make(when: str, serial: str = "IN-001"):
        c = new_case(user="engineer", serial=serial, now=when)
        c = act(c, "decide", "engineer", when, solution="phone_guidance", analysis="a", guidance="g")
        return act(c, "guidance_result", "engineer", when, solved=True)
    return make


def raise_one(db, users, dept, case_ids=(), now="2026-12-01T10:00", **over):
    data = {"cases": list(case_ids), "root_cause": "焊接工艺不良", "action": "改进焊接工艺并增加检验",
            "department_id": dept["id"], "owner": "tech2", "due": "2026-12-15", **over}
    return preventive.raise_action(db, data, users[over.pop("by", "manager")], at(now))


def notices_to(db, prefix: str) -> list[str]:
    return sorted(n["recipient"] for n in db.scan("notifications") if n["key"].startswith(prefix))


def test_raised_from_a_case_takes_its_model_and_cause_and_tells_the_department(db, users, dept, solved):
    c = solved("2026-11-30T09:00")
    a = raise_one(db, users, dept, [c["id"]])
    assert (a["model"], a["cause_category"], a["state"], a["cases"]) == ("JX-200", "process", "raised", [c["id"]])
    assert notices_to(db, f"preventive:{a['id']}:raised:") == ["sales", "tech2"]  # the owner and the members
    assert preventive.label(a) == f"预防措施 YF-{a['id']:04d}"


@pytest.mark.parametrize("over, field", [
    ({"model": "NO-SUCH"}, "model"), ({}, "model"),  # no case, no model
    ({"model": "JX-200", "cause_category": "power"}, "cause_category"),  # a fault code is no cause
    ({"model": "JX-200", "cause_category": "process", "department_id": 0}, "department_id"),
    ({"model": "JX-200", "cause_category": "process", "owner": "nobody"}, "owner"),
    ({"model": "JX-200", "cause_category": "process", "due": "2026-11-30"}, "due"),
    ({"model": "JX-200", "cause_category": "process", "root_cause": " "}, "root_cause"),
])
def test_raising_checks_every_field(db, users, dept, over, field):
    with pytest.raises(DomainError) as exc:
        raise_one(db, users, dept, **over)
    assert exc.value.field == field
    assert list(db.scan(preventive.TABLE)) == []


def test_only_tq_raises(db, users, dept):
    with pytest.raises(PreventiveError):
        raise_one(db, users, dept, model="JX-200", cause_category="process", by="tech2")


# (state, step, user, may take it): the owner carries it out, 技质部 verifies and reopens
ROLE_TABLE = [
    ("raised", "start", "tech2", True), ("raised", "start", "manager", True), ("raised", "start", "engineer", False),
    ("raised", "start", "sales", False),
    ("in_progress", "submit", "tech2", True), ("in_progress", "submit", "manager", False),
    ("to_verify", "verify", "engineer", True), ("to_verify", "verify", "manager", True),
    ("to_verify", "verify", "tech2", False), ("to_verify", "verify", "vp", False),
    ("ineffective", "reopen", "engineer", True), ("ineffective", "reopen", "tech2", False),
]


@pytest.mark.parametrize("state, step, user, allowed", ROLE_TABLE)
def test_who_takes_each_step(users, state, step, user, allowed):
    action = {"state": state, "owner": "tech2"}
    assert flow.may(action, users[user], step) is allowed
    assert (step in flow.allowed(action, users[user])) is allowed
    assert all(step not in flow.allowed({**action, "state": s}, users[user]) for s in flow.STATES if s != state)


def test_the_state_machine_verification_reads_the_cases(db, users, dept, solved):
    a = raise_one(db, users, dept, model="JX-200", cause_category="process")
    with pytest.raises(PreventiveError):  # not the owner
        preventive.take(db, a["id"], "start", users["engineer"], now=at("2026-12-02T09:00"))
    a = preventive.take(db, a["id"], "start", users["tech2"], now=at("2026-12-02T09:00"))
    with pytest.raises(PreventiveError) as exc:  # the evidence first
        preventive.take(db, a["id"], "submit", users["tech2"], now=at("2026-12-10T09:00"))
    assert exc.value.field == "file"
    with pytest.raises(DomainError):  # not a PDF / image
        preventive.add_evidence(db, a["id"], users["tech2"], b"plain text", "x.txt", now=at("2026-12-09T09:00"))
    a = preventive.add_evidence(db, a["id"], users["tech2"], png(), "检验记录.png", now=at("2026-12-09T09:00"))
    meta, data = preventive.read_evidence(db, a, 0)
    assert data == png() and meta["filename"] == "检验记录.png"
    a = preventive.take(db, a["id"], "submit", users["tech2"], now=at("2026-12-10T09:00"))
    assert a["state"] == "to_verify" and notices_to(db, f"preventive:{a['id']}:submit:") == ["manager"]
    with pytest.raises(PreventiveError):  # no evidence added once handed in
        preventive.add_evidence(db, a["id"], users["tech2"], png(), "more.png", now=at("2026-12-11T09:00"))

    verify = dict(months=3, result="effective")
    with pytest.raises(PreventiveError, match="观察期至 2027-03-09 尚未结束"):
        preventive.take(db, a["id"], "verify", users["engineer"], verify, now=at("2027-01-05T09:00"))
    again = solved("2027-01-20T10:00", serial="IN-FAR")  # the same cause on the same model: recurred
    assert [r["id"] for r in preventive.recurrences(db, a, date(2026, 12, 10), date(2027, 3, 9))] == [again["id"]]
    with pytest.raises(PreventiveError, match=f"又发生 1 例（{again['number']}）"):
        preventive.take(db, a["id"], "verify", users["engineer"], verify, now=at("2027-03-15T09:00"))
    with pytest.raises(PreventiveError) as exc:  # 无效 says why
        preventive.take(db, a["id"], "verify", users["engineer"], dict(months=3, result="ineffective"),
                        now=at("2027-03-15T09:00"))
    assert exc.value.field == "note"
    a = preventive.take(db, a["id"], "verify", users["engineer"], dict(months=3, result="ineffective", note="又发生"),
                        now=at("2027-03-15T09:00"))
    assert (a["state"], a["verification"]["recurred"]) == ("ineffective", [again["id"]])
    a = preventive.take(db, a["id"], "reopen", users["engineer"], dict(due="2027-04-30", note="扩大到全部焊点"),
                        now=at("2027-03-16T09:00"))
    assert (a["state"], a["due"], a["submitted_at"]) == ("in_progress", "2027-04-30", None)
    a = preventive.add_evidence(db, a["id"], users["tech2"], png(), "复查.png", now=at("2027-03-20T09:00"))
    a = preventive.take(db, a["id"], "submit", users["tech2"], now=at("2027-03-20T10:00"))
    a = preventive.take(db, a["id"], "verify", users["manager"], dict(months=1, result="effective"),
                        now=at("2027-04-21T09:00"))
    assert a["state"] == "closed" and a["verification"]["until"] == "2027-04-19"
    assert [h["step"] for h in a["history"]] == ["raise", "start", "submit", "verify", "reopen", "submit", "verify"]
    assert [e["action"] for e in db.history(preventive.TABLE, a["id"])].count("update") >= 7  # every step audited

    q4, q1, q2 = (Period("2026Q4", date(2026, 10, 1), date(2026, 12, 31)),
                  Period("2027Q1", date(2027, 1, 1), date(2027, 3, 31)), Period("2027Q2", date(2027, 4, 1), date(2027, 6, 30)))
    opened, closed = preventive.report_sections(db, q4, None)
    assert (opened.key, closed.key, opened.clause) == ("preventive_open", "preventive_closed", "9.3")
    assert [r[-1] for r in opened.rows] == ["待验证"] and closed.rows == ()
    opened, closed = preventive.report_sections(db, q1, None)
    assert [r[-1] for r in opened.rows] == ["待验证"] and closed.rows == ()  # resubmitted on 20 March
    opened, closed = preventive.report_sections(db, q2, None)
    assert opened.rows == () and [r[0] for r in closed.rows] == [preventive.label(a)]


def test_the_daily_task_flags_an_overdue_action_once(db, users, dept, cal):
    a = raise_one(db, users, dept, model="JX-200", cause_category="process")
    assert preventive.run_overdue(db, at("2026-12-15T20:00"), cal, False)["flagged"] == 0  # due today: not late
    dry = preventive.run_overdue(db, at("2026-12-16T08:00"), cal, True)
    assert dry == {"overdue": [a["id"]], "flagged": 0} and notices_to(db, f"preventive:{a['id']}:overdue") == []
    assert daily.run_daily(db, at("2026-12-16T08:00"), cal, False)["preventive_overdue"]["flagged"] == 1
    assert notices_to(db, f"preventive:{a['id']}:overdue:2026-12-15:") == ["manager", "tech2"]
    assert daily.run_daily(db, at("2026-12-17T08:00"), cal, False)["preventive_overdue"] == {"overdue": [], "flagged": 0}
    assert len(notices_to(db, f"preventive:{a['id']}:overdue")) == 2  # the second run adds nothing
    assert preventive.todo(db, users["tech2"], at("2026-12-17T08:00"))[0]["id"] == a["id"]
    assert preventive.todo(db, users["sales"], at("2026-12-17T08:00")) == []
