"""The quarterly report to the GM (9.2): 技质部 analyses the quarter's after-sales service and
reports to the 总经理.

Table ``quarterly_reports``, one document per version of a quarter's report::

    {"quarter": "2026Q3", "version": 1, "status": "draft" | "issued" | "superseded",
     "origin": "scheduled" | "button" | "correction", "reason": "",   # a correction's reason
     "corrects": None | id,                                        # the version it corrects
     "sections": [...],             # the Sections (records/reports/sections.py) as computed
     "generated_at", "created_at", "created_by", "summary", "summary_by", "summary_at",
     "issued_at", "issued_by", "pdf": {"sha256", "size"}, "xlsx": {"sha256", "size"},
     "superseded_at", "superseded_by"}

Lifecycle: on the first working day of a quarter (the company calendar) the daily run
(``draft_task``, records/jobs/daily.py) creates the draft of the quarter before and tells the
技质部经理; the button does the same for any past quarter (``create_draft``). While a draft,
the manager writes the summary and may refresh the figures (``refresh``). Issuing (``issue``)
freezes it: the PDF and the workbook are rendered then and archived as blobs named by their
SHA-256 (``archive``: the one place, where the signing will be added), the SHA-256 go into the
audit trail with the issue, and the GM is told. A correction (``correct``) is a new version with
a reason; when it is issued the version it corrects is marked 已更正 and stays readable.

The contents are the Section providers of ``PROVIDERS``, in the report's order.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from records.calendar.periods import Period, parse_quarter, period_of
from records.calendar.workdays import WorkCalendar, iso_local, to_local
from records.cases.vocab import TABLE as CASES
from records.core import signing
from records.core.errors import DomainError
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction, copy_doc
from records.notifications.admin_alerts import warn_unsigned
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import users_with_role
from records.users.roles import TQ_ROLES

from . import quarterly_documents as docs
from .quarterly_sections import case_counts, cases_provider, fines_provider, followups_provider
from .sections import Provider, Section

TABLE = "quarterly_reports"
DRAFT, ISSUED, SUPERSEDED = "draft", "issued", "superseded"
STATUSES = docs.STATUSES
ACTOR = "cron"  # records.jobs.runs.ACTOR (the scheduled run's name; jobs sits above this layer)
MANAGER = "tq_manager"
READERS = (*TQ_ROLES, "vp", "gm")  # 技质部经理, 技质部, 分管副总, 总经理
HOME_READERS = ("gm", "vp")  # the block on the home page
MAX_SUMMARY = 10000
MAX_REASON = 500

# The report's contents, in order. Each provider is (store, period, cal) -> list[Section]. Issue 17's
# other parts add theirs here (after the cases): records.reports.statistics.report_sections (9.3
# statistics, Pareto, on-time rates), records.reports.preventive.report_sections (preventive
# actions), records.reports.failure_costs.report_sections (9.4).
PROVIDERS: list[Provider] = [
    cases_provider,
    fines_provider,
    followups_provider,
]


class QuarterlyError(DomainError):
    pass


# --- who may ---------------------------------------------------------------------------------


def may_read(user: dict | None) -> bool:
    return bool(user) and bool(set(user.get("roles") or ()) & set(READERS))


def may_manage(user: dict | None) -> bool:
    """技质部经理 creates, writes, issues and corrects the report (9.2)."""
    return bool(user) and MANAGER in (user.get("roles") or ())


# --- reading ---------------------------------------------------------------------------------


def versions(source: Store | Transaction, quarter: str) -> list[dict]:
    """Every version of ``quarter``'s report (private copies), oldest first."""
    return sorted((copy_doc(d) for d in source.scan(TABLE) if d["quarter"] == quarter), key=lambda d: d["version"])


def all_reports(store: Store) -> list[dict]:
    """Every version of every report, newest quarter and version first."""
    return sorted((copy_doc(d) for d in store.scan(TABLE)), key=lambda d: (d["quarter"], d["version"]), reverse=True)


def drafts(store: Store) -> list[dict]:
    """The versions waiting for 技质部经理's summary and issue (9.2), oldest quarter first."""
    return sorted((copy_doc(d) for d in store.scan(TABLE) if d["status"] == DRAFT), key=lambda d: d["quarter"])


def latest_issued(store: Store) -> dict | None:
    """The issued version of the latest quarter that has one (the GM's home page)."""
    issued = [d for d in store.scan(TABLE) if d["status"] == ISSUED]
    return copy_doc(max(issued, key=lambda d: (d["quarter"], d["version"]))) if issued else None


def sections(doc: dict) -> list[Section]:
    return docs.sections_of(doc)


def quarter_period(label: str) -> Period | None:
    span = parse_quarter(label)
    if span is None or "Q" not in (label or "").upper():
        return None
    return Period(label.strip().upper(), *span)


def compute(store: Store, period: Period, cal: WorkCalendar, providers: list[Provider] | None = None) -> list[dict]:
    """The sections of ``period`` as the records stand now, stored shape, in ``PROVIDERS``' order."""
    out: list[Section] = []
    for provider in PROVIDERS if providers is None else providers:
        out += provider(store, period, cal)
    return [docs.section_to_dict(s) for s in out]


# --- creating, writing, refreshing -----------------------------------------------------------


def _notify_managers(tx: Transaction, doc: dict, now: datetime, skip: str) -> None:
    subject = f"季度报告草稿：{docs.period_text(doc['quarter'])}"
    body = (f"{docs.period_text(doc['quarter'])}售后服务质量季度报告（第 {doc['version']} 版）草稿已生成，"
            "请填写总结并发布报总经理（9.2）。")
    queue(tx, [Notice(u["username"], "quarterly_report", subject, body,
                      f"quarterly:{doc['quarter']}:v{doc['version']}:draft:{u['username']}",
                      f"/quarterly/{doc['id']}", {"table": TABLE, "id": doc["id"]})
               for u in users_with_role(tx.store, MANAGER) if u["username"] != skip], now)


def _past(period: Period, now: datetime) -> None:
    if period.end >= to_local(now).date():
        raise QuarterlyError("只能为已结束的季度生成报告", "quarter")


def create_draft(store: Store, quarter: str, cal: WorkCalendar, now: datetime, by: str,
                 origin: str = "button") -> tuple[dict, bool]:
    """9.2: the draft of ``quarter``'s report (version 1) and whether it was made now: an existing
    draft is returned as it is; an issued report is refused (correct it instead). 技质部经理 is told."""
    period = quarter_period(quarter)
    if period is None:
        raise QuarterlyError("季度格式如 2026Q3", "quarter")
    _past(period, now)
    computed = compute(store, period, cal)
    with store.transaction(by) as tx:
        existing = versions(tx, period.label)
        if existing:
            if existing[-1]["status"] == DRAFT:
                return existing[-1], False
            raise QuarterlyError("该季度报告已发布；如需修改请在报告页「更正」", "quarter")
        doc = tx.insert(TABLE, {"quarter": period.label, "version": 1, "status": DRAFT, "origin": origin,
                                "reason": "", "corrects": None, "sections": computed, "summary": "",
                                "generated_at": iso_local(now), "created_at": iso_local(now), "created_by": by})
        _notify_managers(tx, doc, now, skip=by)
        return doc, True


def _draft(tx: Transaction, report_id: int, expect_rev: int | None) -> dict:
    doc = tx.get(TABLE, report_id)
    if doc is None:
        raise QuarterlyError("报告不存在")
    if doc["status"] != DRAFT:
        raise QuarterlyError("报告已发布，不能再修改；如需修改请「更正」")
    if expect_rev is not None and int(expect_rev) != doc["_rev"]:
        raise QuarterlyError("报告已被他人修改，请刷新页面后重试")
    return doc


def _check_manager(user: dict) -> None:
    if not may_manage(user):
        raise QuarterlyError("只有技质部经理可以编写、发布和更正季度报告")


def save_summary(store: Store, report_id: int, summary: str, user: dict, now: datetime,
                 expect_rev: int | None = None) -> dict:
    """技质部经理's summary of the quarter, kept on the draft."""
    _check_manager(user)
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise QuarterlyError(f"总结不能超过 {MAX_SUMMARY} 个字", "summary")
    with store.transaction(user["username"]) as tx:
        doc = _draft(tx, report_id, expect_rev)
        return tx.update(TABLE, doc["id"], {"summary": summary, "summary_by": user["username"],
                                            "summary_at": iso_local(now)}, action="summary")


def refresh(store: Store, report_id: int, cal: WorkCalendar, user: dict, now: datetime,
            expect_rev: int | None = None) -> dict:
    """A draft's sections computed again from the records as they stand now."""
    _check_manager(user)
    doc = store.get(TABLE, report_id) or {}
    period = quarter_period(doc.get("quarter") or "")
    if period is None:
        raise QuarterlyError("报告不存在")
    computed = compute(store, period, cal)
    with store.transaction(user["username"]) as tx:
        doc = _draft(tx, report_id, expect_rev)
        return tx.update(TABLE, doc["id"], {"sections": computed, "generated_at": iso_local(now)}, action="refresh")


# --- issuing and archiving -------------------------------------------------------------------


def archive(store: Store, doc: dict) -> dict:
    """The one place an issued version is archived: its PDF and workbook rendered now and kept as
    blobs named by their SHA-256 (never rewritten); returns {"pdf": {sha256, size}, "xlsx": ...}.
    The PDF carries the company's PAdES signature when the key is configured (issue 18; the
    result at signing is kept with it; unsigned, never refused, without a key)."""
    label = f"{docs.period_text(doc['quarter'])}季度报告 第 {doc['version']} 版"
    signed = signing.sign_for_archive(store.root, docs.report_pdf(store, doc), "application/pdf",
                                      reason=f"{label}（9.2）", title=label)
    pdf = signed.content
    xlsx = docs.report_workbook(store, doc)
    folder = store.root / "files"
    return {"pdf": {"sha256": put_blob(folder, pdf), "size": len(pdf), "signature": signed.record},
            "xlsx": {"sha256": put_blob(folder, xlsx), "size": len(xlsx)}}


def _notify_gm(tx: Transaction, doc: dict, now: datetime) -> None:
    subject = f"售后服务质量季度报告：{docs.period_text(doc['quarter'])}"
    fixed = f"（第 {doc['version']} 版，更正：{doc['reason']}）" if doc["version"] > 1 else ""
    body = f"技质部已发布{docs.period_text(doc['quarter'])}售后服务质量季度报告{fixed}，请在系统中查阅（9.2）。"
    queue(tx, [Notice(u["username"], "quarterly_report", subject, body,
                      f"quarterly:{doc['id']}:issued:{u['username']}", f"/quarterly/{doc['id']}",
                      {"table": TABLE, "id": doc["id"]})
               for u in users_with_role(tx.store, "gm")], now)


def issue(store: Store, report_id: int, user: dict, now: datetime, expect_rev: int | None = None) -> dict:
    """Issue a draft to the GM (9.2): it needs the summary; the PDF and the workbook are archived
    (``archive``), their SHA-256 audited with the issue; the version it corrects becomes 已更正."""
    _check_manager(user)
    by = user["username"]
    with store.transaction(by) as tx:  # checked before the slow part, and again below
        doc = _draft(tx, report_id, expect_rev)
        if not (doc.get("summary") or "").strip():
            raise QuarterlyError("请先填写并保存技质部经理总结", "summary")
    final = {**doc, "status": ISSUED, "issued_at": iso_local(now), "issued_by": by}
    files = archive(store, final)
    with store.transaction(by) as tx:
        current = _draft(tx, report_id, doc["_rev"])
        issued = tx.update(TABLE, current["id"], {"status": ISSUED, "issued_at": final["issued_at"],
                                                  "issued_by": by, **files}, action="issue")
        for old in versions(tx, doc["quarter"]):
            if old["status"] == ISSUED and old["id"] != issued["id"]:
                tx.update(TABLE, old["id"], {"status": SUPERSEDED, "superseded_at": iso_local(now),
                                             "superseded_by": issued["id"]}, action="supersede")
        _notify_gm(tx, issued, now)
        warn_unsigned(tx, files["pdf"]["signature"], f"{docs.period_text(doc['quarter'])}季度报告", now)
        return issued


def correct(store: Store, report_id: int, reason: str, cal: WorkCalendar, user: dict, now: datetime) -> dict:
    """A correction of the issued version (9.2): a new draft version with the reason, the figures
    computed afresh and the summary carried over; the issued one stays in force until it is issued."""
    _check_manager(user)
    reason = (reason or "").strip()
    if not reason:
        raise QuarterlyError("请填写更正原因", "reason")
    if len(reason) > MAX_REASON:
        raise QuarterlyError(f"更正原因不能超过 {MAX_REASON} 个字", "reason")
    doc = store.get(TABLE, report_id) or {}
    period = quarter_period(doc.get("quarter") or "")
    if period is None:
        raise QuarterlyError("报告不存在")
    computed = compute(store, period, cal)
    with store.transaction(user["username"]) as tx:
        latest = versions(tx, period.label)[-1]
        if latest["status"] == DRAFT:
            raise QuarterlyError("该季度已有未发布的更正版本，请先完成它", "reason")
        if latest["id"] != report_id or latest["status"] != ISSUED:
            raise QuarterlyError("只能更正最新发布的版本", "reason")
        return tx.insert(TABLE, {"quarter": period.label, "version": latest["version"] + 1, "status": DRAFT,
                                 "origin": "correction", "reason": reason, "corrects": latest["id"],
                                 "sections": computed, "summary": latest.get("summary") or "",
                                 "generated_at": iso_local(now), "created_at": iso_local(now),
                                 "created_by": user["username"]})


def archived(store: Store, doc: dict, kind: str) -> bytes:
    """The archived PDF (``kind`` "pdf") or workbook ("xlsx") of an issued or corrected version,
    checked against its SHA-256."""
    if doc.get("status") == DRAFT or not doc.get(kind):
        raise QuarterlyError("报告尚未发布，没有归档文件")
    return read_blob(store.root / "files", doc[kind]["sha256"])


def check_signature(store: Store, doc: dict) -> signing.SignatureCheck:
    """The archived PDF's company signature checked again, now (issue 18)."""
    return signing.check_pdf(archived(store, doc, "pdf"), signing.kept_fingerprints(store.root))


# --- the daily run ---------------------------------------------------------------------------


def first_workday(cal: WorkCalendar, d: date) -> date:
    return d if cal.is_workday(d) else cal.next_workday(d)


def draft_task(store: Store, now: datetime, cal: WorkCalendar, dry_run: bool) -> dict:
    """Daily (9.2): on the first working day of a quarter (or a later day of its first month, if the
    run did not happen then) the draft of the quarter before is made and 技质部经理 told, once."""
    today = to_local(now).date()
    start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    first = first_workday(cal, start)
    previous = period_of(3, start - timedelta(days=1))
    if not (first <= today and today.month == first.month):
        return {"quarter": "", "created": 0}
    if versions(store, previous.label):
        return {"quarter": previous.label, "created": 0}
    if dry_run:
        return {"quarter": previous.label, "created": 1, "dry_run": True}
    _, made = create_draft(store, previous.label, cal, now, ACTOR, origin="scheduled")
    return {"quarter": previous.label, "created": int(made)}


# --- the GM's home page ----------------------------------------------------------------------


def key_figures(doc: dict) -> list[tuple[str, str]]:
    """A few figures of an issued report, read from its frozen sections by key."""
    out = []
    for s in doc.get("sections") or []:
        totals = s.get("totals") or []
        if s["key"] == "cases_by_type" and totals:
            out += [("受理案例", str(totals[1])), ("已结案", str(totals[2])), ("处理中", str(totals[3]))]
        elif s["key"] == "fines" and totals:
            out.append(("确认处罚（元）", docs.cell_text(docs.section_from_dict(s).totals[2])))
        elif s["key"] == "followups" and totals:
            out.append(("回访完成率", str(totals[-1])))
    return out


def quarter_so_far(store: Store, now: datetime) -> dict:
    """The running quarter up to ``now``: cases received, still open, overdue, and the on-time
    rate of the deadlines due so far (the count of the report's cases section)."""
    period = period_of(3, to_local(now).date())
    counts = case_counts(store.scan(CASES), period, now)
    total = counts["total"]
    return {"quarter": period.label, "received": total["received"], "open": total["open"],
            "overdue": total["overdue"], "due": counts["deadlines_due"], "on_time": counts["deadlines_on_time"],
            "on_time_rate": counts["on_time_rate"]}


def home_block(store: Store, now: datetime) -> dict:
    """What the GM's (and the 分管副总's) home page shows (9.2): the latest issued report with a
    few of its figures, and the quarter so far."""
    latest = latest_issued(store)
    return {"latest": latest, "figures": key_figures(latest) if latest else [],
            "latest_quarter": docs.period_text(latest["quarter"]) if latest else "",
            "so_far": quarter_so_far(store, now)}
