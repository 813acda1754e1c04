"""考核 (9.1, 9.5): the figures against a small hand-made quarter (tests/fixtures/assessments.py)
and month, sending (notices to the right people, the archived PDF read back, who sees the fines)
and immutability once sent."""
from __future__ import annotations

import pytest

from records.core.files import read_blob
from records.fines.visibility import HIDDEN_TEXT
from records.reports import assessments as a
from records.reports.figures import manager_figures, month_span, quarter_span, technician_figures
from tests.fixtures.assessments import NOW, dl, quarter, with_ids
from tests.fixtures.pdfs import flat, font_names, pdf_text

Q3 = quarter_span("2026Q3")
SEPT = month_span("2026-09")


@pytest.fixture(scope="module")
def tech_q3():
    cases = with_ids(quarter())
    return {u: technician_figures(cases, u, Q3, NOW) for u in ("tech", "tech2")}


@pytest.mark.parametrize("person, path, expected", [
    ("tech", "service_count", 2),                       # C1, C2 (C4 cancelled, C5 sent in Q2)
    ("tech2", "service_count", 1),                      # C2: every technician sent counts the case
    ("tech", "rates.arrival.due", 3),                   # C1, C2 and C5 (due in Q3), not C4
    ("tech", "rates.arrival.on_time", 1),               # C1
    ("tech", "rates.arrival.rate", 33.3),
    ("tech2", "rates.arrival.due", 1),
    ("tech2", "rates.arrival.on_time", 0),
    ("tech", "rates.report.due", 2),                    # C1 late, C2 met at its due time; C5 due in Q4
    ("tech", "rates.report.on_time", 1),
    ("tech", "rates.report.rate", 50.0),
    ("tech2", "rates.report.rate", 100.0),
    ("tech", "ratings.attitude.counts.satisfied", 1),
    ("tech", "ratings.attitude.counts.unsatisfied", 1),
    ("tech", "ratings.attitude.satisfied_share", 50.0),
    ("tech", "ratings.skill.satisfied_share", 100.0),
    ("tech", "ratings.timeliness.satisfied_share", 0.0),
    ("tech", "ratings.overall.total", 2),
    ("tech2", "ratings.overall.counts.basically", 1),
    ("tech", "returns_unapproved.#", 1),                # C2 (C4 cancelled)
    ("tech2", "returns_unapproved.#", 1),
    ("tech", "fines.#", 1),                             # the 200 元 confirmed in Q3: not waived, proposed, Q4, others'
    ("tech", "fine_total", 200),
    ("tech2", "fine_total", 0),
    ("tech", "reworks.#", 1),                           # C3: C1's serial 75 days after the repair
    ("tech2", "reworks.#", 0),                          # C7 comes more than 90 days after C6
])
def test_technician_quarter_figures(tech_q3, person, path, expected):
    value = tech_q3[person]
    for part in path.split("."):
        value = len(value) if part == "#" else value[part]
    assert value == expected


def test_the_rework_names_both_cases_and_the_late_items_link_theirs(tech_q3):
    rework = tech_q3["tech"]["reworks"][0]
    assert (rework["number"], rework["earlier_number"]) == ("C3", "C1")
    assert [x["number"] for x in tech_q3["tech"]["rates"]["arrival"]["late"]] == ["C2", "C5"]


def month() -> tuple[list[dict], list[dict]]:
    """September 2026 of the 技质部 member ``engineer`` (``manager`` has one of his own)."""
    cases = [
        {"number": "M1", "type": "consultation", "state": "closed", "outcome": "answered", "reply_assignee": "engineer",
         "deadlines": {"consult_reply": dl("2026-09-03T12:00", "2026-09-03T11:00")}},
        {"number": "M2", "state": "awaiting_dispatch", "tq_owner": "engineer",
         "deadlines": {"decision": dl("2026-09-10T10:00", "2026-09-10T15:00", "engineer")}},
        {"number": "M3", "state": "awaiting_confirmation", "tq_owner": "engineer",  # responsible: the owner
         "deadlines": {"confirm": dl("2026-09-25T17:30")}},
        {"number": "M4", "state": "awaiting_decision", "tq_owner": "engineer",
         "deadlines": {"decision": dl("2026-10-20T10:00")}},  # due in October
        {"number": "M5", "state": "closed", "outcome": "merged", "tq_owner": "engineer",
         "deadlines": {"decision": dl("2026-09-11T10:00")}},  # merged: never counts
        {"number": "M6", "state": "awaiting_dispatch", "tq_owner": "manager",
         "deadlines": {"decision": dl("2026-09-14T10:00", "2026-09-15T10:00", "manager")}},
    ]
    followups = [
        {"kind": "follow_up", "assignee": "engineer", "due": "2026-09-30", "period": "2026Q3",
         "call": {"called_at": "2026-09-28T10:00:00+08:00"}},
        {"kind": "annual_visit", "assignee": "engineer", "due": "2026-09-30", "period": "2026", "call": None},
        {"kind": "follow_up", "assignee": "manager", "due": "2026-09-30", "period": "2026Q3", "call": None},
    ]
    return with_ids(cases), with_ids(followups)


@pytest.mark.parametrize("person, key, due, on_time", [
    ("engineer", "consult_reply", 1, 1),
    ("engineer", "decision", 1, 0),
    ("engineer", "confirm", 1, 0),
    ("engineer", "follow_up", 1, 1),
    ("engineer", "annual_visit", 1, 0),
    ("manager", "decision", 1, 0),
    ("manager", "follow_up", 1, 0),
])
def test_manager_month_figures(person, key, due, on_time):
    cases, followups = month()
    row = manager_figures(cases, followups, person, SEPT, NOW)["rows"][key]
    assert (row["due"], row["on_time"]) == (due, on_time)


def test_manager_month_total_and_late_items_with_links():
    cases, followups = month()
    f = manager_figures(cases, followups, "engineer", SEPT, NOW)
    assert (f["due"], f["on_time"], f["rate"]) == (5, 2, 40.0)
    assert [(x["ref"], x["link"]) for x in f["late"]] == [("M2", "/cases/2"), ("M3", "/cases/3"), ("2026", "/followups/2")]


# --- sending (the real store, the real PDF) ------------------------------------------------------


@pytest.fixture
def stored_quarter(db):
    with db.transaction("test") as tx:
        for doc in quarter():
            tx.insert("cases", doc)
    return db


def test_send_tells_the_people_archives_the_pdf_and_is_final(stored_quarter, users):
    store = stored_quarter
    draft = a.save(store, a.TECHNICIAN, Q3, "tech", {"grade": "良好", "opinion": "草稿"}, users["engineer"], NOW)
    assert draft["status"] == a.DRAFT
    data = {"grade": "良好", "opinion": "到达及时性有待提高。", "recipients": ["sales"]}
    doc = a.send(store, a.TECHNICIAN, Q3, "tech", data, users["engineer"], NOW)
    assert doc["id"] == draft["id"] and doc["status"] == a.SENT
    assert sorted(doc["sent_to"]) == ["manager", "sales", "tech"]  # never the sender
    told = {n["recipient"]: n for n in store.scan("notifications") if n["kind"] == "assessment"}
    assert sorted(told) == ["manager", "sales", "tech"]
    assert told["tech"]["link"] == f"/assessments/{doc['id']}" and "200" not in told["sales"]["body"]

    full_pdf = a.pdf_for(store, doc, users["tech"])
    assert font_names(full_pdf) == {"FormCJK", "FormCJK-Bold"}  # pdf_templates/fonts.css, @imported
    full = flat(pdf_text(full_pdf))
    assert "售后服务技术人员季度考核表" in full and "2026年第3季度" in full and "到达及时性有待提高。" in full
    assert "合计200" in full and HIDDEN_TEXT not in full
    public = flat(pdf_text(a.pdf_for(store, doc, users["sales"])))
    assert HIDDEN_TEXT in public and "合计200" not in public and "良好" in public
    assert read_blob(store.root / "files", doc["pdf"]["sha256"]) == a.pdf_for(store, doc, users["manager"])

    for step in (a.save, a.send):
        with pytest.raises(a.AssessmentError, match="已发送"):
            step(store, a.TECHNICIAN, Q3, "tech", {"grade": "优秀", "opinion": "改"}, users["engineer"], NOW)
    assert a.find(store, a.TECHNICIAN, "2026Q3", "tech") == doc


@pytest.mark.parametrize("who, person, kind, may", [
    ("engineer", "tech", a.TECHNICIAN, True),
    ("manager", "tech", a.TECHNICIAN, True),
    ("gm", "tech", a.TECHNICIAN, False),
    ("sales", "tech", a.TECHNICIAN, False),
    ("manager", "engineer", a.MANAGER, True),
    ("engineer", "engineer", a.MANAGER, False),
    ("manager", "manager", a.MANAGER, False),
    ("gm", "manager", a.MANAGER, True),     # the GM evaluates the manager
    ("gm", "engineer", a.MANAGER, False),
])
def test_who_may_fill_an_assessment(users, who, person, kind, may):
    assert a.may_edit(users[who], kind, users[person]) is may


def test_a_send_needs_the_grade_and_the_opinion(stored_quarter, users):
    with pytest.raises(a.AssessmentError) as err:
        a.send(stored_quarter, a.TECHNICIAN, Q3, "tech", {"grade": "良好", "opinion": " "}, users["engineer"], NOW)
    assert err.value.field == "opinion"
    assert a.find(stored_quarter, a.TECHNICIAN, "2026Q3", "tech") is None
