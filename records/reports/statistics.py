"""9.3 质量问题统计分析 (pure): the statistics of a period, from case and product documents the
caller passes (full documents or their ``statistics_rows.slim`` rows; no store, no Flask).

A fault is a live 质量问题 (``service_request``; cancelled and merged cases never count) and
counts in the period of its received time; an on-time rate counts in the period of the
deadline's due time (GLOSSARY, Periods in statistics). Filters: model, customer, fault category,
cause category. A fault without a final classification (``case["classification"]["final"]``) is
未分类 and listed as a gap: 「每个售后服务项目均要进行质量问题统计分析」 (9.3).

Every count comes with the ids of its cases, so that the page links each count to the case list
that shows exactly those cases (the list's filters, views/statistics.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from records import policy
from records.calendar.periods import Period, add_months, quarter_label
from records.calendar.workdays import WorkCalendar, now_local, to_local
from records.cases.vocab import DEADLINE_LABELS, is_campaign
from records.core.store import Store
from records.technical_notices.selection import covered_serials

from . import statistics_rows
from .charts import pareto_svg, trend_svg
from .figures import Span, deadline_count, rate, reworks
from .sections import Section
from .statistics_rows import ALL_TIME, Indexed, local_day, received_day

FAULT_TYPE = "service_request"
UNCLASSIFIED = "未分类"
NO_MODEL = "（无产品记录）"
TREND_QUARTERS = 8  # the trend: the last 8 quarters ending at the period
# Who reads the statistics page (9.3): 技质部, the VP and the GM (9.2), 销售部 (3.2, the customers' side).
READERS = ("tq_engineer", "tq_manager", "vp", "gm", "sales")
TREND_MODELS = 6  # lines drawn: the models with the most faults in those quarters (company practice)


@dataclass(frozen=True)
class Filters:
    model: str = ""
    customer_id: int | None = None
    fault: str = ""  # a fault category code
    cause: str = ""  # a cause category code

    def args(self) -> dict:
        """The case list's query arguments of these filters."""
        out = {"model": self.model, "customer_id": self.customer_id, "fault": self.fault, "cause": self.cause}
        return {k: v for k, v in out.items() if v not in (None, "")}


def final_classification(case: dict) -> dict | None:
    """The case's final classification (9.3), or None: none yet, provisional, or unreadable."""
    got = case.get("classification")
    return got if isinstance(got, dict) and got.get("final") else None


def span_of(period: Period | Span) -> Span:
    return period if isinstance(period, Span) else Span(period.label, period.start, period.end)


def quarter_spans(end: date, count: int = TREND_QUARTERS) -> list[Span]:
    """The ``count`` quarters ending with the one that holds ``end``, oldest first."""
    first = date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
    out = []
    for n in range(count - 1, -1, -1):
        start = add_months(first, -3 * n)
        out.append(Span(quarter_label(start), start, add_months(start, 3) - timedelta(days=1)))
    return out


def bounds(span: Span) -> tuple[str, str]:
    return span.start.isoformat(), span.end.isoformat()


def _cell(key, label: str, ids: list[int], **extra) -> dict:
    return {"key": key, "label": label, "count": len(ids), "ids": sorted(ids), **extra}


class Data:
    """The cases and products of one computation, with the lookups every table shares. ``cases``:
    documents or rows, or the store's ``statistics_rows.Indexed`` (already sorted for bisection)."""

    def __init__(self, cases: Iterable[dict] | Indexed, products: Iterable[dict], filters: Filters):
        self.filters = filters
        self.filtered = bool(filters.args())
        self.index = cases if isinstance(cases, Indexed) else Indexed(cases)
        self.live = self.index.live
        self.products = list(products)
        self.models = {p["id"]: p.get("model") or "" for p in self.products}
        self.serials = {p["id"]: p.get("serial_no") or "" for p in self.products}

    def model(self, case: dict) -> str:
        return self.models.get(case.get("product_id"), "")

    def matches(self, case: dict) -> bool:
        f = self.filters
        if not self.filtered:
            return True
        if f.model and self.model(case) != f.model:
            return False
        if f.customer_id is not None and case.get("customer_id") != f.customer_id:
            return False
        if f.fault or f.cause:
            got = final_classification(case) or {}
            if (f.fault and got.get("fault_category") != f.fault) or (f.cause and got.get("cause_category") != f.cause):
                return False
        return True

    def faults(self, span: Span) -> list[dict]:
        """The faults received in ``span`` that match the filters."""
        return [c for c in self.index.received_in(*bounds(span))
                if c.get("type") == FAULT_TYPE and not (c.get("campaign") or is_campaign(c)) and self.matches(c)]

    def rework_candidates(self, span: Span, rework_days: int) -> list[dict]:
        """The live cases figures.reworks needs for ``span``: the faults received in it and the
        repairs completed from ``rework_days`` days before it to its end (an older repair is no
        返修's, a later one none of this period's)."""
        lo, hi = bounds(span)
        first = (span.start - timedelta(days=rework_days + 1)).isoformat()
        chosen = {c["id"]: c for c in self.index.received_in(lo, hi) if c.get("type") == FAULT_TYPE}
        chosen.update((c["id"], c) for c in self.index.completed_in(first, hi))
        return list(chosen.values())

    def rework_rows(self, span: Span, rework_days: int) -> list[dict]:
        """figures.reworks of ``span``: over its candidates; for a long period over every case
        once (a 返修 does not depend on the period), kept with the index until a shard changes."""
        memo = self.index.memo.get(("reworks", rework_days))
        if memo is None:
            candidates = self.rework_candidates(span, rework_days)
            if len(candidates) < len(self.live) // 4:
                return reworks(candidates, span, rework_days)
            memo = self.index.memo[("reworks", rework_days)] = reworks(self.live, ALL_TIME, rework_days)
        lo, hi = bounds(span)
        return [r for r in memo if lo <= local_day(r["received_at"]) <= hi]


def _rows(groups: dict, label) -> list[dict]:
    rows = [_cell(k, label(k), ids) for k, ids in groups.items()]
    return sorted(rows, key=lambda r: (r["key"] in ("", None), -r["count"], r["label"]))


def pareto(rows: list[dict]) -> list[dict]:
    """The fault categories by count, largest first, 未分类 last; each with its cumulative %."""
    ordered = sorted(rows, key=lambda r: (r["key"] == "", -r["count"], r["label"]))
    total = sum(r["count"] for r in ordered)
    running, out = 0, []
    for r in ordered:
        running += r["count"]
        out.append({**r, "share": rate(r["count"], total), "cumulative": rate(running, total)})
    return out


def trend(data: Data, end: date) -> dict:
    """Faults per quarter per model over the ``TREND_QUARTERS`` quarters ending at ``end``: the
    ``TREND_MODELS`` models with the most faults, and the rest summed as 其他型号."""
    spans = quarter_spans(end)
    window = Span("", spans[0].start, spans[-1].end)
    per_model: dict[str, dict[str, list[int]]] = {}
    for c in data.faults(window):
        day = received_day(c)  # "YYYY-MM-DD" → its quarter's label, as quarter_label
        label = f"{day[:4]}Q{(int(day[5:7]) - 1) // 3 + 1}"
        per_model.setdefault(data.model(c), {}).setdefault(label, []).append(c["id"])
    ranked = sorted(per_model, key=lambda m: (-sum(len(v) for v in per_model[m].values()), m))
    series = []
    for model in ranked[:TREND_MODELS]:
        cells = [_cell(s.label, s.label, per_model[model].get(s.label, []), start=s.start, end=s.end) for s in spans]
        series.append({"model": model, "label": model or NO_MODEL, "cells": cells})
    rest = ranked[TREND_MODELS:]
    if rest:
        cells = [_cell(s.label, s.label, [i for m in rest for i in per_model[m].get(s.label, [])], start=s.start,
                       end=s.end) for s in spans]
        series.append({"model": None, "label": f"其他型号（{len(rest)} 个）", "cells": cells})
    return {"quarters": [s.label for s in spans], "series": series, "start": window.start, "end": window.end}


def failure_rates(data: Data, span: Span, by_model: list[dict]) -> tuple[list[dict], dict]:
    """9.3 failure rate per model: faults in the period / units in service (products of the model
    delivered by the period's end, of the filtered customer), in percent. The models with faults,
    and the others summed up ({"models", "units"}: no fault in the period, rate 0)."""
    units: dict[str, int] = {}
    last = span.end.isoformat()
    f = data.filters
    for p in data.products:
        if (p.get("delivery_date") or "9999") > last or (f.customer_id is not None and p.get("customer_id") != f.customer_id):
            continue
        if f.model and p.get("model") != f.model:
            continue
        units[p.get("model") or ""] = units.get(p.get("model") or "", 0) + 1
    out = []
    for row in by_model:
        n = units.get(row["key"], 0)
        out.append({**row, "units": n, "rate": round(100 * row["count"] / n, 2) if n else None})
    with_faults = {r["key"] for r in by_model}
    quiet = [m for m in units if m not in with_faults]
    return out, {"models": len(quiet), "units": sum(units[m] for m in quiet)}


def on_time(data: Data, span: Span, now: datetime) -> list[dict]:
    """9.3: the on-time rate of every deadline clause (6.1.3 … 6.2.8) due in ``span``, over the live
    cases matching the filters (figures.deadline_count: met at its due time is on time)."""
    rows: dict[str, dict] = {}
    matched: dict[int, bool] = {}
    for c, key in data.index.due_in(*bounds(span)):
        if c["id"] not in matched:
            matched[c["id"]] = data.matches(c)
        if not matched[c["id"]]:
            continue
        entry = c["deadlines"][key]
        met = entry.get("met")  # statistics_rows: a met deadline's verdict, kept
        counted = met if met is not None and entry.get("done_at") else deadline_count(c, key, span, now)
        if counted is None:
            continue
        row = rows.setdefault(key, {"key": key, "clause": entry.get("clause", ""),
                                    "label": DEADLINE_LABELS.get(key, key), "due_ids": [], "late_ids": []})
        row["due_ids"].append(c["id"])
        if not counted:
            row["late_ids"].append(c["id"])
    order = list(DEADLINE_LABELS)
    out = []
    for key in sorted(rows, key=lambda k: (order.index(k) if k in order else len(order), k)):
        r = rows[key]
        due, late = len(r["due_ids"]), len(r["late_ids"])
        out.append({**r, "due_ids": sorted(r["due_ids"]), "late_ids": sorted(r["late_ids"]), "due": due,
                    "late": late, "on_time": due - late, "rate": rate(due - late, due)})
    return out


def compute(cases: Iterable[dict], products: Iterable[dict], period: Period | Span, now: datetime,
            filters: Filters = Filters(), names: dict[str, dict[str, str]] | None = None,
            rework_days: int = policy.REWORK_DAYS, covered: dict[str, list[str]] | None = None) -> dict:
    """The 9.3 statistics of ``period`` (see the module's docstring). ``names``: {"fault" | "cause":
    {code: name}} (categories.name_of); a code without a name shows as itself. ``covered``: {serial:
    [technical notice numbers]} (technical_notices.selection.covered_serials): the faults on those
    products are marked (issue 18). A 技术通报 campaign's own cases are never faults."""
    span = span_of(period)
    names = names or {}
    data = Data(cases, products, filters)
    faults = data.faults(span)
    fault_ids = {c["id"] for c in faults}
    final = {c["id"]: final_classification(c) for c in faults}  # once per fault: ten years are 20,000
    models: dict = {}
    kinds: dict = {"fault_category": {}, "cause_category": {}}
    for c in faults:  # one pass: model, fault and cause category of each fault
        models.setdefault(data.model(c), []).append(c["id"])
        got = final[c["id"]] or {}
        for field, groups in kinds.items():
            groups.setdefault(got.get(field) or "", []).append(c["id"])

    def label(kind: str):
        return lambda code: (names.get(kind) or {}).get(code, code) if code else UNCLASSIFIED

    by_model = _rows(models, lambda m: m or NO_MODEL)
    by_fault = _rows(kinds["fault_category"], label("fault"))
    by_cause = _rows(kinds["cause_category"], label("cause"))
    repeats = [c for c in faults if (final[c["id"]] or {}).get("repeat_fault")]
    rework_rows = [r for r in data.rework_rows(span, rework_days) if r["case_id"] in fault_ids]
    gaps = [c for c in faults if final[c["id"]] is None]
    covered = covered or {}
    noticed = [(c, data.serials.get(c.get("product_id"), "")) for c in faults]
    noticed = [(c, serial) for c, serial in noticed if serial and serial in covered]
    return {
        "period": span.label, "start": span.start, "end": span.end, "filters": filters,
        "computed_at": to_local(now).isoformat(timespec="seconds"),
        "faults": _cell("all", "质量问题", list(fault_ids)),
        "by_model": by_model, "by_fault": by_fault, "by_cause": by_cause, "pareto": pareto(by_fault),
        **dict(zip(("failure_rates", "quiet_models"), failure_rates(data, span, by_model))),
        "trend": trend(data, span.end),
        "repeats": _cell("repeat", "重复故障", [c["id"] for c in repeats]),
        "repeat_rows": [{"case_id": c["id"], "number": c.get("number", ""), "model": data.model(c) or NO_MODEL,
                         "repeat_of": list(final[c["id"]].get("repeat_of") or [])} for c in repeats],
        "reworks": _cell("rework", "返修", [r["case_id"] for r in rework_rows]), "rework_rows": rework_rows,
        "on_time": on_time(data, span, now),
        "noticed": _cell("noticed", "技术通报覆盖的产品", [c["id"] for c, _ in noticed]),
        "noticed_rows": [{"case_id": c["id"], "number": c.get("number", ""), "serial": serial,
                          "notices": covered[serial]} for c, serial in sorted(noticed, key=lambda x: x[0]["id"])],
        "gaps": _cell("gaps", UNCLASSIFIED, [c["id"] for c in gaps]),
        "gap_rows": [{"case_id": c["id"], "number": c.get("number", ""), "received_at": c.get("received_at"),
                      "model": data.model(c) or NO_MODEL, "state": c.get("state"),
                      "provisional": bool(c.get("classification"))} for c in sorted(gaps, key=lambda c: c["id"])],
    }


def quiet_label(stats: dict) -> str:
    return f"其余 {stats['quiet_models']['models']} 个型号（本期无质量问题）"


def pareto_rows(stats: dict) -> Sequence[tuple[str, int, float]]:
    """The Pareto chart's bars: (label, count, cumulative %)."""
    return [(r["label"], r["count"], r["cumulative"] or 0.0) for r in stats["pareto"]]


def trend_series(stats: dict) -> list[tuple[str, list[int]]]:
    return [(s["label"], [c["count"] for c in s["cells"]]) for s in stats["trend"]["series"]]


def for_store(store: Store, period: Period | Span, now: datetime, filters: Filters = Filters()) -> dict:
    """``compute`` over the store's statistics rows (statistics_rows: per shard, reused)."""
    return compute(statistics_rows.cases(store), statistics_rows.products(store), period, now, filters,
                   statistics_rows.names(store), statistics_rows.rework_days(store),
                   covered=covered_serials(store))


def report_sections(store: Store, period: Period, cal: WorkCalendar, now: datetime | None = None) -> list[Section]:
    """The 9.3 sections of the quarterly report (9.2): counts by model, fault and cause with the
    Pareto chart, the trend, failure rate per model, 重复故障 and 返修, on-time rate per clause, gaps."""
    stats = for_store(store, period, now or now_local())
    total = stats["faults"]["count"]
    pareto_chart = pareto_svg(f"{stats['period']} 故障类别排列图", pareto_rows(stats))
    trend_chart = trend_svg("各型号质量问题季度趋势", stats["trend"]["quarters"], trend_series(stats))
    return [
        Section("stats_by_fault", "故障类别统计（排列图）", ("故障类别", "数量", "占比%", "累计%"),
                tuple((r["label"], r["count"], r["share"], r["cumulative"]) for r in stats["pareto"]),
                chart_svg=pareto_chart, clause="9.3", totals=("合计", total, 100.0 if total else None, None),
                note="按收到时间计入期间；作废、合并的案例不计；未最终分类的列为未分类（9.3）"),
        Section("stats_by_model", "各型号质量问题与故障率", ("型号", "质量问题", "在用台数", "故障率%"),
                tuple((r["label"], r["count"], r["units"], r["rate"]) for r in stats["failure_rates"])
                + ((quiet_label(stats), 0, stats["quiet_models"]["units"], 0.0),) * bool(stats["quiet_models"]["models"]),
                clause="9.3", totals=("合计", total, sum(r["units"] for r in stats["failure_rates"])
                                      + stats["quiet_models"]["units"], None),
                note="故障率 = 本期质量问题数 ÷ 期末前已交付的该型号产品台数"),
        Section("stats_by_cause", "原因类别统计", ("原因类别", "数量"),
                tuple((r["label"], r["count"]) for r in stats["by_cause"]), clause="9.3", totals=("合计", total)),
        Section("stats_trend", "各型号季度趋势", ("型号", *stats["trend"]["quarters"]),
                tuple((s["label"], *(c["count"] for c in s["cells"])) for s in stats["trend"]["series"]),
                chart_svg=trend_chart, clause="9.3"),
        Section("stats_repeat_rework", "重复故障与返修", ("项目", "数量"),
                (("重复故障", stats["repeats"]["count"]), ("返修", stats["reworks"]["count"])), clause="9.3",
                note=f"返修：同一产品编号在现场维修完成后 {statistics_rows.rework_days(store)} 天内再次报修（公司参数）"),
        Section("stats_on_time", "各期限条款按时率", ("条款", "期限", "应完成", "按时", "逾期", "按时率%"),
                tuple((r["clause"], r["label"], r["due"], r["on_time"], r["late"], r["rate"]) for r in stats["on_time"]),
                clause="9.3", note="按期限到期时间计入期间"),
        Section("stats_gaps", "未分类（缺口）", ("案例编号", "型号", "收到时间"),
                tuple((r["number"], r["model"], r["received_at"]) for r in stats["gap_rows"]), clause="9.3",
                totals=("合计", stats["gaps"]["count"], None),
                note="每个售后服务项目均要进行质量问题统计分析（9.3）：未最终分类的质量问题"),
    ]
