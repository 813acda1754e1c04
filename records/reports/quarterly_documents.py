"""The documents of the quarterly report to the GM (9.2): its sections kept in the record, the A4
PDF (WeasyPrint, pdf_templates/quarterly.html with the 技术服务单's fonts: a cover with the
quarter, the company, the version and its status, page numbers, each section as its optional SVG
chart above its table and note) and the Excel workbook (records/core/xlsx.py: a cover sheet,
then one sheet per section).

Every section prints the same way (``Section``, records/reports/sections.py), whichever area
computed it: the page (views/templates/quarterly/show.html) does the same, so the PDF, the
workbook and the page hold the same numbers.
"""
from __future__ import annotations

import base64
import re
from decimal import Decimal

from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.core.transaction import Transaction
from records.core.xlsx import Sheet, workbook
from records.service_forms.fields import COMPANY

from .documents import name, period_text
from .sections import Cell, Section

STATUSES = {"draft": "草稿", "issued": "已发布", "superseded": "已更正"}
TITLE = "售后服务质量季度报告"
MAX_SHEET = 31
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")


# --- sections as stored (JSON: Decimal kept exact as text) ------------------------------------


def _cell_out(value: Cell):
    return {"decimal": str(value)} if isinstance(value, Decimal) else value


def _cell_in(value) -> Cell:
    return Decimal(value["decimal"]) if isinstance(value, dict) and "decimal" in value else value


def section_to_dict(s: Section) -> dict:
    return {"key": s.key, "title": s.title, "columns": list(s.columns),
            "rows": [[_cell_out(c) for c in row] for row in s.rows], "chart_svg": s.chart_svg,
            "note": s.note, "clause": s.clause, "totals": [_cell_out(c) for c in s.totals]}


def section_from_dict(d: dict) -> Section:
    return Section(d["key"], d["title"], tuple(d["columns"]), tuple(tuple(_cell_in(c) for c in r) for r in d["rows"]),
                   d.get("chart_svg") or "", d.get("note") or "", d.get("clause") or "",
                   tuple(_cell_in(c) for c in d.get("totals") or ()))


def sections_of(doc: dict) -> list[Section]:
    return [section_from_dict(d) for d in doc.get("sections") or []]


# --- what every rendering shows ---------------------------------------------------------------


def cell_text(value: Cell) -> str:
    """A cell as printed: numbers as they are (money with its decimals), None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def svg_data_uri(svg: str) -> str:
    """A server-side SVG chart as an <img> source: the same in the page (CSP img-src data:) and in
    WeasyPrint, and an SVG in an <img> never runs a script."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def is_number(value: Cell) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def when(iso: str | None) -> str:
    return (iso or "")[:16].replace("T", " ")


def cover(source: Store | Transaction, doc: dict) -> dict:
    """The cover's facts: the quarter in words, the version and its status, who made and issued it."""
    return {"company": COMPANY, "title": TITLE, "quarter": period_text(doc["quarter"]), "label": doc["quarter"],
            "version": doc["version"], "status": STATUSES.get(doc["status"], doc["status"]),
            "generated_at": when(doc.get("generated_at")), "issued_at": when(doc.get("issued_at")),
            "issued_by": name(source, doc.get("issued_by")) if doc.get("issued_by") else "",
            "reason": doc.get("reason") or "", "summary": doc.get("summary") or ""}


# --- the PDF ----------------------------------------------------------------------------------


def report_pdf(source: Store | Transaction, doc: dict) -> bytes:
    """The A4 PDF of a report version as it stands (a draft says 草稿 on every page)."""
    context = {"c": cover(source, doc), "sections": sections_of(doc), "draft": doc["status"] == "draft",
               "cell": cell_text, "is_number": is_number, "svg_uri": svg_data_uri}
    return render_template_pdf("quarterly.html", context)


# --- the workbook -----------------------------------------------------------------------------


def sheet_name(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts: no []:*?/\\, at most 31 characters, unique in the workbook."""
    base = _BAD_SHEET.sub("", title).strip().strip("'")[:MAX_SHEET] or "表"
    candidate, n = base, 2
    while candidate.lower() in used:
        suffix = f"（{n}）"
        candidate, n = base[:MAX_SHEET - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


def report_workbook(source: Store | Transaction, doc: dict) -> bytes:
    """The workbook of a report version: the cover (quarter, version, status, summary), then one
    sheet per section: its table with the totals as the last row, its note and clause below."""
    c = cover(source, doc)
    used: set[str] = set()
    front = [("报告", c["title"]), ("季度", c["quarter"]), ("单位", c["company"]), ("版本", f"第 {c['version']} 版"),
             ("状态", c["status"]), ("数据生成时间", c["generated_at"]), ("发布时间", c["issued_at"] or "—"),
             ("发布人", c["issued_by"] or "—")]
    if c["reason"]:
        front.append(("更正原因", c["reason"]))
    front.append(("技质部经理总结", c["summary"]))
    sheets = [Sheet(sheet_name("封面", used), ("项目", "内容"), front, widths=[16, 80])]
    for s in sections_of(doc):
        rows = [list(r) for r in s.rows] + ([list(s.totals)] if s.totals else [])
        notes = [line for line in (s.note, f"依据：售后服务管理规定 {s.clause}" if s.clause else "") if line]
        sheets.append(Sheet(sheet_name(s.title, used), s.columns, rows, widths=[24] + [14] * (len(s.columns) - 1),
                            notes=notes))
    return workbook(sheets)
