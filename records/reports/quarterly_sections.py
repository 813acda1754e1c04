"""The quarterly report's own sections (9.2): the cases of the quarter by type and by outcome, the
fines confirmed (totals per clause only), the follow-up calls made against those due (8.1, 8.2).

Each is a Section provider ``(store, period, cal) -> list[Section]`` (records/reports/sections.py);
the report lists them in its order (records/reports/quarterly.py ``PROVIDERS``). The counting is
in pure functions over the documents (``case_counts``, ``fine_totals``, ``followup_counts``), so
the GM's home page reads the quarter so far from the very same count.

Periods (GLOSSARY): a case counts in the quarter of its received time; a deadline in the quarter
of its due time; a fine in the quarter its amount became final (the penalty register's rule,
records/fines/ledger.py); a follow-up task in the quarter of its due date. Cancelled and merged
cases never count.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Iterable

from records.calendar.periods import Period
from records.calendar.workdays import WorkCalendar, now_local, parse_local
from records.cases.deadlines import is_overdue
from records.cases.vocab import OUTCOMES, SOLUTIONS, TYPES, VOID_OUTCOMES, is_campaign, is_live
from records.cases.vocab import TABLE as CASES
from records.core.store import Store
from records.fines.ledger import final_amount, ruled_on
from records.followups.tasks import DONE, KIND_NAMES, KINDS
from records.followups.tasks import TABLE as FOLLOWUPS

from .sections import Section

OPEN_LABEL = "处理中"
UNDECIDED = "尚未确定方案"


def within(iso: str | None, period: Period, until: date | None = None) -> bool:
    """Whether the local date of ``iso`` lies in ``period`` (and not after ``until``)."""
    if not iso:
        return False
    day = iso[:10]
    last = min(period.end, until) if until else period.end
    return period.start.isoformat() <= day <= last.isoformat()


def percent(part: int, whole: int) -> str:
    """"87.5%" ("—" when nothing was due)."""
    return f"{round(100 * part / whole, 1):g}%" if whole else "—"


# --- cases by type and outcome --------------------------------------------------------------


def kind_of(case: dict) -> str:
    """The row of a case in 「案例类型」: 咨询, 质量问题 by its solution (6.2.2, 6.2.3), or the on-site
    work of a 技术通报 (company-initiated, never a fault: 9.3's statistics leave it out too)."""
    if is_campaign(case):
        return CAMPAIGN_KIND
    kind = TYPES.get(case.get("type") or "", case.get("type") or "其他")
    if case.get("type") != "service_request":
        return kind
    solution = (case.get("decision") or {}).get("solution")
    return f"{kind}·{SOLUTIONS[solution].split('（')[0]}" if solution in SOLUTIONS else f"{kind}·{UNDECIDED}"


CAMPAIGN_KIND = "技术通报现场服务"
KIND_ORDER = [TYPES["consultation"], *[f"{TYPES['service_request']}·{s.split('（')[0]}" for s in SOLUTIONS.values()],
              f"{TYPES['service_request']}·{UNDECIDED}", CAMPAIGN_KIND]


def case_counts(cases: Iterable[dict], period: Period, now: datetime) -> dict:
    """9.2: the quarter's cases (received in ``period`` up to ``now``): per kind received / closed /
    open / overdue, per outcome, the cancelled and merged left out, and the deadlines due in the
    period up to ``now`` with those met on time (a simple count; STATS gives them per clause)."""
    until = now.date()
    kinds: dict[str, Counter] = {}
    outcomes: Counter = Counter()
    void: Counter = Counter()
    due = on_time = 0
    for case in cases:
        if not is_live(case):
            if within(case.get("received_at"), period, until):
                void[case["outcome"]] += 1
            continue
        for entry in (case.get("deadlines") or {}).values():
            if not within(entry.get("due"), period, until) or parse_local(entry["due"]) > now:
                continue
            done = entry.get("done_at")
            if not done and case.get("state") == "closed":
                continue  # never due: the case closed without this step
            due += 1
            on_time += bool(done) and parse_local(done) <= parse_local(entry["due"])
        if not within(case.get("received_at"), period, until):
            continue
        row = kinds.setdefault(kind_of(case), Counter())
        row["received"] += 1
        closed = case.get("state") == "closed"
        row["closed" if closed else "open"] += 1
        row["overdue"] += (not closed) and is_overdue(case, now)
        outcomes[case.get("outcome") if closed else ""] += 1
    total = sum((c for c in kinds.values()), Counter())
    return {"kinds": kinds, "total": total, "outcomes": outcomes, "void": void,
            "deadlines_due": due, "deadlines_on_time": on_time, "on_time_rate": percent(on_time, due)}


def case_sections(counts: dict) -> list[Section]:
    kinds, total = counts["kinds"], counts["total"]
    order = KIND_ORDER + sorted(k for k in kinds if k not in KIND_ORDER)
    rows = tuple((k, kinds[k]["received"], kinds[k]["closed"], kinds[k]["open"], kinds[k]["overdue"])
                 for k in order if k in kinds)
    void = counts["void"]
    by_type = Section(
        "cases_by_type", "案例类型", ("类型", "受理", "已结案", OPEN_LABEL, "其中逾期"), rows,
        note=(f"按收到时间计入本季度；结案情况截至报告生成时。作废 {void['cancelled']} 件、"
              f"合并 {void['merged']} 件不计。"),
        clause="9.2", totals=("合计", total["received"], total["closed"], total["open"], total["overdue"]))
    received = total["received"]
    outcome_rows = [(OUTCOMES[o], n, percent(n, received)) for o, n in
                    ((o, counts["outcomes"][o]) for o in OUTCOMES if o not in VOID_OUTCOMES) if n]
    if counts["outcomes"][""]:
        outcome_rows.append((OPEN_LABEL, counts["outcomes"][""], percent(counts["outcomes"][""], received)))
    by_outcome = Section("cases_by_outcome", "案例处理结果", ("处理结果", "案例数", "占比"), tuple(outcome_rows),
                         note="本季度收到的案例按其处理结果（截至报告生成时）。", clause="9.2",
                         totals=("合计", received, percent(received, received)))
    return [by_type, by_outcome]


def cases_provider(store: Store, period: Period, cal: WorkCalendar) -> list[Section]:
    """Provider: cases by type and outcome, as the records stand now."""
    return case_sections(case_counts(store.scan(CASES), period, now_local()))


# --- fines confirmed: totals per clause, no names ---------------------------------------------


def fine_totals(cases: Iterable[dict], period: Period) -> dict[str, dict]:
    """clause → {"confirmed": n, "amount": 元, "waived": n} of the fines whose amount became
    final in ``period`` (a waived one counts 0 元). No person, no case: the totals anyone among
    the report's readers may see (GLOSSARY 处罚)."""
    out: dict[str, dict] = {}
    for case in cases:
        for fine in case.get("fines") or []:
            amount = final_amount(fine)
            if amount is None or not within(ruled_on(fine), period):
                continue
            row = out.setdefault(fine.get("clause") or "—", {"confirmed": 0, "amount": 0, "waived": 0})
            if fine.get("status") == "waived":
                row["waived"] += 1
            else:
                row["confirmed"] += 1
                row["amount"] += amount
    return out


def fines_provider(store: Store, period: Period, cal: WorkCalendar) -> list[Section]:
    """Provider: the fines confirmed in the quarter (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), one total."""
    # One total over every clause: a row per clause could name a person (6.2.8's is the case's
    # 技质部 owner) to readers the fines rule does not allow (GLOSSARY 处罚: the engineers, the VP).
    totals = fine_totals(store.scan(CASES), period).values()
    return [Section("fines", "处罚（已确认）", ("", "确认笔数", "金额（元）", "免除笔数"), (),
                    note="金额确定（技质部经理确认或总经理裁定）在本季度的处罚，只列总计，不分条款、不列个人。",
                    clause="9.2",
                    totals=("合计", sum(t["confirmed"] for t in totals), sum(t["amount"] for t in totals),
                            sum(t["waived"] for t in totals)))]


# --- follow-up calls made against due (8.1, 8.2) ----------------------------------------------


def followup_counts(tasks: Iterable[dict], period: Period) -> dict[str, Counter]:
    """kind → due / done / on_time / open of the follow-up tasks due in ``period``."""
    out = {kind: Counter() for kind in KINDS}
    for task in tasks:
        if task.get("kind") not in out or not within(task.get("due"), period):
            continue
        row = out[task["kind"]]
        row["due"] += 1
        if task.get("status") == DONE:
            row["done"] += 1
            called = ((task.get("call") or {}).get("called_at") or "")[:10]
            row["on_time"] += bool(called) and called <= task["due"]
        else:
            row["open"] += 1
    return out


def followups_provider(store: Store, period: Period, cal: WorkCalendar) -> list[Section]:
    """Provider: the 8.1 quarterly calls and 8.2 yearly visits due in the quarter, made or not."""
    counts = followup_counts(store.scan(FOLLOWUPS), period)
    rows = tuple((KIND_NAMES[k], KINDS[k].clause, c["due"], c["done"], c["on_time"], c["open"],
                  percent(c["done"], c["due"])) for k, c in counts.items())
    total = sum(counts.values(), Counter())
    return [Section("followups", "跟踪回访", ("项目", "条款", "应回访", "已回访", "其中按期", "未回访", "完成率"), rows,
                    note="到期日在本季度的回访任务（8.1 每季度、8.2 每年）；按期：通话日期不晚于到期日。",
                    clause="8.1、8.2",
                    totals=("合计", "", total["due"], total["done"], total["on_time"], total["open"],
                            percent(total["done"], total["due"])))]
