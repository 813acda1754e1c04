"""质量统计 (9.3): the statistics of a period (quarter by default) with filters, the Pareto and
trend charts (server-side SVG, records/reports/charts.py) with their numbers in tables, and every
count a link to the case list that shows exactly its cases (the list's filters). The figures are
records/reports/statistics.py's; each table exports to Excel / CSV."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape

from forms.base import options
from forms.statistics import StatisticsForm
from records.cases.queries import format_ids
from records.catalog import categories
from records.catalog.customers import TABLE as CUSTOMERS
from records.reports import preventive_flow, statistics, statistics_rows
from records.reports.charts import pareto_svg, trend_svg

from .common import now, roles_required, store, user_doc
from .exports import export, export_format

# 「提出预防措施」 from a row names at most this many of its cases (the rest are found by model and cause).
RAISE_CASES = 20

bp = Blueprint("statistics", __name__, url_prefix="/statistics")


def _form() -> StatisticsForm:
    s = store()
    f = StatisticsForm(request.args)
    f.set_periods(now().date())
    f.model.choices = options([("", "全部型号"), *((m, m) for m in statistics_rows.models(s))])
    f.customer_id.choices = options([("", "全部顾客单位")] + sorted(((c["id"], c["name"]) for c in s.scan(CUSTOMERS)),
                                                               key=lambda x: x[1]))
    f.fault.choices = options([("", "全部故障类别"), *categories.choices(s, "fault", keep=request.args.get("fault"))])
    f.cause.choices = options([("", "全部原因类别"), *categories.choices(s, "cause", keep=request.args.get("cause"))])
    f.validate()
    return f


def _filters(f: StatisticsForm) -> statistics.Filters:
    def ok(field):
        return field.data if not field.errors else None
    return statistics.Filters(model=ok(f.model) or "", customer_id=ok(f.customer_id), fault=ok(f.fault) or "",
                              cause=ok(f.cause) or "")


class Links:
    """The case-list URL behind each count: the statistics' own filters as the list's filters."""

    def __init__(self, stats: dict):
        self.stats = stats
        self.base = {"type": statistics.FAULT_TYPE, "counted": "y", "date_from": stats["start"].isoformat(),
                     "date_to": stats["end"].isoformat(), **stats["filters"].args()}
        self.list_url = url_for("cases.index")  # once: a ten-year page has a thousand links
        self.base_query = urlencode(self.base)

    def faults(self, **extra) -> str:
        if not extra:
            return f"{self.list_url}?{self.base_query}"
        if any(k in self.base for k in extra):
            return f"{self.list_url}?{urlencode({**self.base, **extra})}"
        return f"{self.list_url}?{self.base_query}&{urlencode(extra)}"

    def ids(self, ids) -> str:
        return f"{self.list_url}?{urlencode({'ids': format_ids(ids)})}"

    def model(self, cell: dict) -> str:
        return self.faults(model=cell["key"]) if cell["key"] else self.ids(cell["ids"])

    def category(self, kind: str, cell: dict) -> str:
        return self.faults(**{kind: cell["key"]}) if cell["key"] else self.faults(unclassified="y")

    def trend(self, series: dict, cell: dict) -> str:
        if not series["model"]:
            return self.ids(cell["ids"])
        return self.faults(model=series["model"], date_from=cell["start"].isoformat(), date_to=cell["end"].isoformat())


def _tables(stats: dict) -> dict[str, tuple[str, list[str], list[list]]]:
    """Each table of the page as (title, header, rows): what the exports write."""
    quarters = stats["trend"]["quarters"]
    return {
        "fault": ("故障类别", ["故障类别", "数量", "占比%", "累计%"],
                  [[r["label"], r["count"], r["share"], r["cumulative"]] for r in stats["pareto"]]),
        "cause": ("原因类别", ["原因类别", "数量"], [[r["label"], r["count"]] for r in stats["by_cause"]]),
        "model": ("型号与故障率", ["型号", "质量问题", "在用台数", "故障率%"],
                  [[r["label"], r["count"], r["units"], r["rate"]] for r in stats["failure_rates"]]
                  + [[statistics.quiet_label(stats), 0, stats["quiet_models"]["units"], 0.0]] * bool(
                      stats["quiet_models"]["models"])),
        "trend": ("季度趋势", ["型号", *quarters],
                  [[s["label"], *(c["count"] for c in s["cells"])] for s in stats["trend"]["series"]]),
        "on_time": ("按时率", ["条款", "期限", "应完成", "按时", "逾期", "按时率%"],
                    [[r["clause"], r["label"], r["due"], r["on_time"], r["late"], r["rate"]] for r in stats["on_time"]]),
        "gaps": ("未分类", ["案例编号", "型号", "收到时间", "状态"],
                 [[r["number"], r["model"], r["received_at"], "暂定分类" if r["provisional"] else "未分类"]
                  for r in stats["gap_rows"]]),
    }


@bp.get("/")
@roles_required(*statistics.READERS)
def index():
    f = _form()
    period = f.period(now().date())
    stats = statistics.for_store(store(), period, now(), _filters(f))
    fmt = export_format()
    tables = _tables(stats)
    if fmt and request.args.get("table") in tables:
        title, header, rows = tables[request.args["table"]]
        return export(f"质量统计-{title}-{stats['period']}", header, rows, fmt)
    charts = {"pareto": Markup(pareto_svg(f"{stats['period']} 故障类别排列图", statistics.pareto_rows(stats))),
              "trend": Markup(trend_svg("各型号质量问题季度趋势", stats["trend"]["quarters"],
                                        statistics.trend_series(stats)))}
    return render_template("statistics/index.html", f=f, stats=stats, links=Links(stats), charts=charts,
                           tables=tables, rework_days=statistics_rows.rework_days(store()), table_export=_export_url,
                           count=count, pct=pct, quiet_label=statistics.quiet_label,
                           may_raise=preventive_flow.may_raise(user_doc()), raise_cases=RAISE_CASES)


def count(n: int, url: str) -> Markup:
    """A count, linked to the case list behind it (0 is not linked). A function, not a macro: a
    ten-year page prints a few thousand."""
    if not n:
        return Markup('<span data-count="0">0</span>')
    return Markup(f'<a href="{escape(url)}" data-count="{int(n)}">{int(n)}</a>')


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}%"


def _export_url(table: str, fmt: str) -> str:
    args = {k: v for k, v in request.args.lists() if k not in ("export", "table")}
    return url_for("statistics.index", **args, table=table, export=fmt)
