"""The quarterly report to the GM (9.2): its own figures against a hand-made 2026Q3 (a case
received in one quarter with its deadline due in the next, a cancelled and a merged case that
never count, fines ruled in and out of the quarter, follow-up calls made late or not at all), the
daily draft on a quarter's first working day (a holiday-shifted one too), run twice; draft →
summary → issue (archived, SHA-256 audited, the GM told) → correction; the PDF read back with
pdftotext and the workbook with openpyxl; who may."""
from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from records.core.files import read_blob
from records.jobs import daily, runs
from records.jobs.overdue import run_overdue
from records.notifications.inbox import TABLE as NOTICES
from records.reports import quarterly as q
from records.reports import quarterly_sections as qs
from records.reports.sections import Section
from tests.fixtures.assessments import dl
from tests.fixtures.calendar import at
from tests.fixtures.pdfs import flat, pdf_text

NOW = at("2026-10-15T10:00")
Q3 = q.quarter_period("2026Q3")


def case(number, received, state="closed", outcome=None, type_="service_request", solution=None, deadlines=None,
         fines=()):
    return {"number": number, "type": type_, "received_at": received + ":00+08:00", "state": state, "outcome": outcome,
            "decision": {"solution": solution} if solution else None, "deadlines": deadlines or {},
            "fines": list(fines)}


def fine(clause, status, amount, ruled):
    return {"key": f"{clause}{status}{ruled}", "clause": clause, "person": "tech", "status": status,
            "final_amount": amount if status in ("confirmed", "gm_ruled") else None if status == "proposed" else 0,
            "decided_at": ruled + ":00+08:00" if status != "proposed" else None, "gm_at": None}


def quarter() -> list[dict]:
    return [
        case("A", "2026-07-02T09:00", outcome="answered", type_="consultation",
             deadlines={"consult_reply": dl("2026-07-02T17:00", "2026-07-02T15:00")}),
        case("B", "2026-08-03T09:00", outcome="guidance_solved", solution="phone_guidance",
             deadlines={"decision": dl("2026-08-04T10:00", "2026-08-05T10:00")},
             fines=[fine("6.2.8", "confirmed", 100, "2026-08-10T10:00"), fine("6.1.4", "waived", 0, "2026-09-01T10:00"),
                    fine("6.2.6", "proposed", 0, "2026-09-02T10:00"), fine("6.2.6", "confirmed", 300, "2026-10-02T10:00")]),
        case("C", "2026-09-20T09:00", state="awaiting_report", solution="onsite_free",
             deadlines={"report": dl("2026-09-25T17:30")}),
        case("D", "2026-09-29T09:00", outcome="completed", solution="onsite_paid",
             deadlines={"confirm": dl("2026-10-10T17:30", "2026-10-09T10:00")}),
        case("E", "2026-07-10T09:00", outcome="cancelled", deadlines={"decision": dl("2026-07-11T10:00")},
             fines=[fine("6.1.4", "confirmed", 50, "2026-07-15T10:00")]),  # the fine stays: it was ruled
        case("F", "2026-06-30T09:00", outcome="completed", solution="onsite_free",  # received in Q2
             deadlines={"report": dl("2026-07-03T17:30", "2026-07-03T10:00")}),
        case("G", "2026-08-01T09:00", outcome="merged"),
        case("H", "2026-09-30T16:00", state="awaiting_decision", deadlines={"decision": dl("2026-10-08T10:00")}),
    ]


def followups() -> list[dict]:
    def task(kind, due, called=None):
        return {"kind": kind, "due": due, "status": "done" if called else "open",
                "call": {"called_at": called + "T10:00:00+08:00"} if called else None}
    return [task("follow_up", "2026-09-30", "2026-09-28"), task("follow_up", "2026-09-30", "2026-10-05"),
            task("follow_up", "2026-09-30"), task("annual_visit", "2026-12-31", "2026-08-01")]


@pytest.fixture
def q3(store):
    with store.transaction("test") as tx:
        for doc in quarter():
            tx.insert("cases", doc)
        for doc in followups():
            tx.insert("followups", doc)
    return store


@pytest.fixture(scope="module")
def counts():
    return qs.case_counts(quarter(), Q3, NOW)


@pytest.mark.parametrize("path, expected", [
    ("kinds.咨询.received", 1),
    ("kinds.质量问题·电话指导.closed", 1),
    ("kinds.质量问题·现场服务·质保期内免费.open", 1),       # C; F was received in Q2
    ("kinds.质量问题·现场服务·质保期内免费.overdue", 1),    # its report was due 25 Sep
    ("kinds.质量问题·现场服务·有偿.closed", 1),
    ("kinds.质量问题·尚未确定方案.overdue", 1),              # H: its decision was due 8 Oct
    ("total.received", 5),                                   # E cancelled, G merged, F in Q2
    ("total.closed", 3),
    ("total.open", 2),
    ("void.cancelled", 1),
    ("void.merged", 1),
    ("outcomes.completed", 1),
    ("outcomes.", 2),                                        # still open
    ("deadlines_due", 4),                                    # A, B, C and F's (due in Q3); D's and H's in Q4
    ("deadlines_on_time", 2),                                # A, F
    ("on_time_rate", "50%"),
])
def test_the_cases_of_the_quarter(counts, path, expected):
    value = counts
    for part in path.split("."):
        value = value[part]
    assert value == expected


def test_fines_are_totals_per_clause_and_follow_ups_are_made_against_due():
    totals = qs.fine_totals(quarter(), Q3)
    assert totals == {"6.2.8": {"confirmed": 1, "amount": 100, "waived": 0},
                      "6.1.4": {"confirmed": 1, "amount": 50, "waived": 1}}  # not the proposed, not Q4's 300
    calls = qs.followup_counts(followups(), Q3)
    assert dict(calls["follow_up"]) == {"due": 3, "done": 2, "on_time": 1, "open": 1}
    assert dict(calls["annual_visit"]) == {}  # 8.2's yearly call is due at the year's end


@pytest.mark.parametrize("day, quarter_made", [
    ("2026-09-30T09:00", ""),          # the quarter is not over
    ("2026-10-01T09:00", ""),          # 国庆: the first working day of Q4 is 8 Oct
    ("2026-10-08T08:00", "2026Q3"),
    ("2026-10-20T08:00", "2026Q3"),    # the run missed the day: made later in the quarter's first month
    ("2026-11-02T08:00", ""),
    ("2027-01-01T09:00", ""),          # 元旦
    ("2027-01-04T08:00", "2026Q4"),    # the first working day of 2027Q1
])
def test_the_daily_run_drafts_the_last_quarter_on_the_first_working_day_once(store, cal, day, quarter_made):
    first = q.draft_task(store, at(day), cal, dry_run=False)
    again = q.draft_task(store, at(day), cal, dry_run=False)
    assert (first["quarter"] if first["created"] else "") == quarter_made and again["created"] == 0
    reports = list(store.scan(q.TABLE))
    assert [(r["quarter"], r["status"], r["origin"]) for r in reports] == \
        ([(quarter_made, "draft", "scheduled")] if quarter_made else [])
    notices = [n for n in store.scan(NOTICES) if n["kind"] == "quarterly_report"]
    assert [n["recipient"] for n in notices] == (["manager"] if quarter_made else [])


def test_draft_summary_issue_archive_and_correct(q3, cal, users):
    manager, tech = users["manager"], users["tech"]
    with pytest.raises(q.QuarterlyError, match="已结束"):
        q.create_draft(q3, "2026Q4", cal, NOW, "manager")
    doc, made = q.create_draft(q3, "2026Q3", cal, NOW, "manager")
    again, made_again = q.create_draft(q3, "2026Q3", cal, NOW, "manager")
    assert made and not made_again and again["id"] == doc["id"]
    with pytest.raises(q.QuarterlyError) as refused:
        q.issue(q3, doc["id"], manager, NOW)
    assert refused.value.field == "summary"
    with pytest.raises(q.QuarterlyError, match="技质部经理"):
        q.save_summary(q3, doc["id"], "我来写", tech, NOW)
    doc = q.save_summary(q3, doc["id"], "本季度受理 5 件，2 件逾期。", manager, NOW)
    issued = q.issue(q3, doc["id"], manager, at("2026-10-16T09:00"), expect_rev=doc["_rev"])
    assert issued["status"] == q.ISSUED and issued["issued_by"] == "manager"

    audit = [e for e in q3.history(q.TABLE, issued["id"]) if e.get("action") == "issue"]
    assert len(audit) == 1 and issued["pdf"]["sha256"] in json.dumps(audit[0], ensure_ascii=False)
    assert issued["xlsx"]["sha256"] in json.dumps(audit[0], ensure_ascii=False)
    pdf = q.archived(q3, issued, "pdf")
    assert pdf == read_blob(q3.root / "files", issued["pdf"]["sha256"])
    told = [n for n in q3.scan(NOTICES) if n["kind"] == "quarterly_report"]
    assert [n["recipient"] for n in told] == ["gm"] and told[0]["link"] == f"/quarterly/{issued['id']}"
    with pytest.raises(q.QuarterlyError, match="已发布"):
        q.save_summary(q3, issued["id"], "改", manager, NOW)
    with pytest.raises(q.QuarterlyError, match="已发布"):
        q.create_draft(q3, "2026Q3", cal, NOW, "manager")

    with pytest.raises(q.QuarterlyError, match="更正原因"):
        q.correct(q3, issued["id"], " ", cal, manager, NOW)
    v2 = q.correct(q3, issued["id"], "C 的汇报期限有误", cal, manager, at("2026-10-20T09:00"))
    assert (v2["version"], v2["status"], v2["corrects"], v2["summary"]) == (2, q.DRAFT, issued["id"], issued["summary"])
    assert q3.get(q.TABLE, issued["id"])["status"] == q.ISSUED  # in force until the correction is issued
    v2 = q.issue(q3, v2["id"], manager, at("2026-10-20T10:00"))
    old = q3.get(q.TABLE, issued["id"])
    assert (old["status"], old["superseded_by"]) == (q.SUPERSEDED, v2["id"])
    assert q.archived(q3, old, "pdf") == pdf  # the old stays readable, as archived
    assert q.latest_issued(q3)["id"] == v2["id"]
    assert len([n for n in q3.scan(NOTICES) if n["recipient"] == "gm"]) == 2


def _totals_lines(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines() if line.split()[:1] == ["合计"]]


def test_the_archived_pdf_and_workbook_hold_the_figures(q3, cal, users):
    doc, _ = q.create_draft(q3, "2026Q3", cal, NOW, "manager")
    q.save_summary(q3, doc["id"], "总体平稳，电源故障偏多。", users["manager"], NOW)
    issued = q.issue(q3, doc["id"], users["manager"], at("2026-10-16T09:00"))
    text = pdf_text(q.archived(q3, issued, "pdf"), "-layout")
    assert "2026 年第 3 季度" in text and "第 1 版" in text and "已发布" in text and "草稿" not in text
    pages = re.findall(r"第(\d+)页/共(\d+)页", flat(text))  # numbered, the last page says it is the last
    assert "总体平稳，电源故障偏多。" in text and pages and pages[-1][0] == pages[-1][1] == str(len(pages))
    totals = _totals_lines(text)
    assert ["合计", "5", "3", "2", "2"] in totals          # cases by type: received, closed, open, overdue
    assert ["合计", "2", "150", "1"] in totals             # fines: confirmed, 元, waived
    assert ["合计", "3", "2", "1", "1", "66.7%"] in totals  # follow-ups: due, done, on time, open, rate

    wb = load_workbook(io.BytesIO(q.archived(q3, issued, "xlsx")))
    # the report's own sheets first and last; 9.3 / 9.4's sections (their providers) in between
    assert wb.sheetnames[:3] == ["封面", "案例类型", "案例处理结果"]
    assert wb.sheetnames[-2:] == ["处罚（已确认）", "跟踪回访"] and "原因类别统计" in wb.sheetnames
    cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert (cover["季度"], cover["版本"], cover["状态"]) == ("2026 年第 3 季度", "第 1 版", "已发布")
    rows = list(wb["案例类型"].iter_rows(values_only=True))
    assert rows[0] == ("类型", "受理", "已结案", "处理中", "其中逾期") and ("合计", 5, 3, 2, 2) in rows
    fines_sheet = list(wb["处罚（已确认）"].iter_rows(values_only=True))  # one total: a clause's row could name a person
    assert ("合计", 2, 150, 1) in fines_sheet and not any(r[0] in ("6.2.8", "6.1.4") for r in fines_sheet)


def test_a_section_prints_its_chart_above_its_table_and_sheet_names_are_excel_safe(store, cal):
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80"><rect x="5" y="20" width="60" '
           'height="50" fill="#369"/><text x="5" y="14" font-size="12">帕累托甲</text></svg>')
    long = "故障类别/原因类别：帕累托图[按季度]与明细*统计?分析\\其他说明文字很长很长"
    chart = Section("pareto", long, ("类别", "数量"), (("电源", 7),), chart_svg=svg, totals=("合计", 7))
    sections = q.compute(store, q.quarter_period("2026Q3"), cal, providers=[lambda s, p, c: [chart, chart]])
    doc = {"quarter": "2026Q3", "version": 1, "status": "draft", "sections": sections, "generated_at": "",
           "summary": ""}
    text = pdf_text(q.docs.report_pdf(store, doc))
    assert "帕累托甲" in text and text.index("帕累托甲") < text.index("电源") and "草稿" in text
    names = load_workbook(io.BytesIO(q.docs.report_workbook(store, doc))).sheetnames
    assert len(names) == 3 and len(set(names)) == 3
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)


def test_the_overdue_run_makes_the_draft_through_the_daily_tasks(store):
    assert q.ACTOR == runs.ACTOR and daily.TASKS["quarterly_report_draft"] is q.draft_task
    dry = run_overdue(store, at("2026-10-08T08:00"), dry_run=True, send_mail=False)
    assert dry["daily"]["quarterly_report_draft"] == {"quarter": "2026Q3", "created": 1, "dry_run": True}
    assert not list(store.scan(q.TABLE))
    for _ in range(2):
        run_overdue(store, at("2026-10-08T08:00"), send_mail=False)
    assert [(d["quarter"], d["created_by"]) for d in store.scan(q.TABLE)] == [("2026Q3", "cron")]
    assert len([n for n in store.scan(NOTICES) if n["kind"] == "quarterly_report"]) == 1
