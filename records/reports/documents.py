"""The documents of the assessments (9.1, 9.5): the archived A4 PDF (WeasyPrint,
pdf_templates/assessment.html with the 技术服务单's fonts) and the month's Excel export (9.5)."""
from __future__ import annotations

from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.core.transaction import Transaction
from records.core.xlsx import Sheet, workbook
from records.fines.visibility import HIDDEN_TEXT
from records.service_forms.fields import COMPANY
from records.users.accounts import display_name, display_names, find_by_username
from records.users.departments import department_of

TECHNICIAN_TITLE = "售后服务技术人员季度考核表"
MANAGER_TITLE = "售后服务管理人员月度考核表"


def period_text(label: str) -> str:
    """"2026Q4" → 2026 年第 4 季度; "2026-11" → 2026 年 11 月."""
    if "Q" in label:
        year, q = label.split("Q")
        return f"{year} 年第 {q} 季度"
    year, month = label.split("-")
    return f"{year} 年 {int(month)} 月"


def name(source: Store | Transaction, username: str | None) -> str:
    """A person's display name (the username when none is set)."""
    user = find_by_username(source, username) if username else None
    return display_name(user) if user else (username or "")


def percent(value) -> str:
    return "—" if value is None else f"{value:g}%"


def assessment_pdf(source: Store | Transaction, doc: dict, subject: dict, with_fines: bool) -> bytes:
    """The A4 PDF of a sent assessment (9.1 or 9.5): the frozen figures, the grade and the opinion
    or evaluation, who sent it and to whom. ``with_fines`` False: the fines read only
    「有处罚建议（不公开）」 (records/fines/visibility.py), for readers who may not see them."""
    dept = department_of(source, subject)
    figures = doc["figures"]
    fines_hidden = bool(figures.get("fines")) and not with_fines
    context = {
        "company": COMPANY, "doc": doc, "f": figures,
        "title": TECHNICIAN_TITLE if doc["kind"] == "technician" else MANAGER_TITLE,
        "clause": "9.1" if doc["kind"] == "technician" else "9.5",
        "period": period_text(doc["period"]), "person": name(source, doc["person"]),
        "department": (dept or {}).get("name", ""), "sender": name(source, doc["sent_by"]),
        "sent_at": doc["sent_at"][:16].replace("T", " "),
        "sent_to": "、".join(name(source, n) for n in doc.get("sent_to") or []) or "—",
        "with_fines": with_fines, "fines_hidden": fines_hidden, "hidden_text": HIDDEN_TEXT,
        "percent": percent,
    }
    return render_template_pdf("assessment.html", context)


def month_workbook(store: Store, period: str, rows: list[tuple[str, dict, dict | None]]) -> bytes:
    """9.5: the month's assessments as Excel: one line per 技质部 member (the figures, the grade
    and evaluation when recorded), then the late items with their links. ``rows`` are
    (username, figures, stored assessment or None)."""
    names = display_names(store)
    header = ["人员", "答复咨询（6.2.1）", "确定方案（6.2.2）", "确认审核（6.2.8）", "季度跟踪（8.1）",
              "年度巡访（8.2）", "按时率", "逾期项", "等级", "考核评价", "服务质量记录", "状态"]
    lines, late = [], []
    for username, figures, doc in rows:
        cells = [f"{r['on_time']}/{r['due']}" for r in figures["rows"].values()]
        doc = doc or {}
        lines.append([names.get(username, username), *cells, percent(figures["rate"]), len(figures["late"]),
                      doc.get("grade", ""), doc.get("evaluation", ""), doc.get("quality_notes", ""),
                      "已发送" if doc.get("status") == "sent" else ("草稿" if doc else "未评价")])
        late += [[names.get(username, username), f"{x['label']}（{x['clause']}）", x["ref"], x["due"][:16],
                  (x.get("done_at") or "未完成")[:16], x["link"]] for x in figures["late"]]
    return workbook([
        Sheet(f"{period} 月度考核", header, lines, widths=[12, 14, 14, 14, 14, 14, 10, 8, 8, 40, 40, 8],
              notes=["按时/到期：期限到期时间在本月的项目（9.5）；作废、合并的案例不计。"]),
        Sheet("逾期项", ["人员", "项目", "案例/周期", "到期", "完成", "链接"], late, widths=[12, 24, 16, 18, 18, 24]),
    ])
