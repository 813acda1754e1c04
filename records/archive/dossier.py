"""The case dossier (案卷, 10: 技质部负责对售后服务形成记录进行收集归档): one A4 PDF per case with its
whole story, generated on demand (the case page's 「下载案卷 PDF」) and for the yearly archive.

What it holds: the intake, the decisions (solution, quote, the customer's and the VP's answers,
dispatch, on site), every deadline with whether it was met, the signed 技术服务单 versions (each
with its SHA-256, when it was archived and by whom), the written report, the expenses as audited
(each line's date, category, claimed and approved amounts, the override and its reason, the
7.4 rule; every receipt with its SHA-256), the 7.1–7.3 checklist, the 7.4 approvals, the values
that differ from the signed form with their reason, the notes and attachments (each file with its
SHA-256), the fines and the timeline. Fines follow records/fines/visibility.py: a reader who may not see a fine reads
``HIDDEN_TEXT`` where it would be, in the fines table and in the timeline's entries about a fine (the
case page's rule, records.cases.timeline.for_reader).

``gather`` collects a case's records from the live store; the yearly archive builds the same
``CaseRecords`` from its snapshot. ``context`` turns them into plain rows (the PDF template only
prints), ``render`` makes the PDF (records/core/pdf.py, pdf_templates/dossier.html).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from records import policy
from records.calendar.workdays import WorkCalendar, now_local, parse_local, to_local
from records.cases import conduct as case_conduct
from records.cases import deadlines as case_deadlines
from records.cases import expenses as case_expenses
from records.cases import notes as case_notes
from records.cases import onsite_record, timeline, vocab
from records.cases.flow import quote_total
from records.catalog.customers import TABLE as CUSTOMERS
from records.core import signing
from records.core.errors import RecordNotFound
from records.core.pdf import render_template_pdf
from records.core.store import Store
from records.fines.proposals import fine_amount_text
from records.fines.rulings import STATUSES as FINE_STATUSES
from records.fines.visibility import HIDDEN_TEXT, visible_fines
from records.service_forms import archive as form_archive
from records.service_forms.fields import KINDS as FORM_KINDS
from records.users.accounts import display_names

TEMPLATE = "dossier.html"
DEADLINE_STATUS = {"met": "按时完成", "met_late": "逾期完成", "overdue": "已逾期", "soon": "即将到期",
                   "open": "进行中", "closed": "未发生（已结案）"}
# The reader of a dossier kept in the yearly archive: 技质部's own record, every fine shown.
ARCHIVE_READER = {"username": "archive", "display_name": "技质部归档", "roles": ["tq_manager"]}


@dataclass
class CaseRecords:
    """Everything a dossier is made of: the case and the records that hang on it."""

    case: dict
    notes: list[dict] = field(default_factory=list)       # records.cases.notes, oldest first
    versions: list[dict] = field(default_factory=list)    # records.service_forms.archive, oldest first
    names: dict[str, str] = field(default_factory=dict)   # username → display name
    customer: dict | None = None


def gather(store: Store, case_id: int) -> CaseRecords:
    """A case's records from the live store (RecordNotFound when there is no such case)."""
    case = store.get(vocab.TABLE, int(case_id))
    if case is None:
        raise RecordNotFound(f"案例 #{case_id} 不存在")
    customer = store.get(CUSTOMERS, case["customer_id"]) if case.get("customer_id") else None
    return CaseRecords(case, case_notes.notes_of(store, case["id"]), form_archive.archived_versions(store, case["id"]),
                       display_names(store), customer)


# --- words ---------------------------------------------------------------------------------
def when(value) -> str:
    """A stored time as people read it: 2026-11-30 15:00 (local); "" for none."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else parse_local(str(value))
    except ValueError:
        return str(value)
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def money(value) -> str:
    return f"{float(value or 0):.2f}"


def size_text(n) -> str:
    n = int(n or 0)
    return f"{n / 1048576:.1f} MB" if n >= 1048576 else (f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} 字节")


class _Words:
    def __init__(self, names: dict[str, str]):
        self.names = names

    def who(self, username) -> str:
        return self.names.get(username, username) if username else ""

    def by_at(self, by, at) -> str:
        return "，".join(x for x in (self.who(by), when(at)) if x)


def _rows(*pairs) -> list[tuple[str, str]]:
    """(label, value) rows, leaving out the empty ones."""
    return [(label, str(value)) for label, value in pairs if value not in (None, "", [], {})]


# --- sections -------------------------------------------------------------------------------
def _intake(case: dict, customer: dict | None, w: _Words) -> list[tuple[str, str]]:
    cust = customer or {}
    contacts = "；".join(f"{c.get('name', '')} {c.get('phone', '')}".strip() for c in cust.get("contacts") or [])
    unverified = case.get("unverified") or {}
    verified = case.get("verified") or {}
    rows = _rows(
        ("类型", vocab.TYPES.get(case.get("type"), case.get("type"))),
        ("顾客单位", case.get("customer_name", "") + (f"（{vocab.UNVERIFIED}）" if unverified.get("unit") else "")),
        ("单位地址", cust.get("address")),
        ("顾客联系人", contacts),
        ("产品", " ".join(x for x in (case.get("product_serial"), case.get("product_label")) if x)
         + (f"（{vocab.UNVERIFIED}）" if unverified.get("serial") else "")),
        ("质保", (case.get("warranty") or {}).get("label")),
        ("来电人", f"{case.get('caller_name', '')} {case.get('caller_phone', '')}（"
                  f"{vocab.CHANNELS.get(case.get('channel'), case.get('channel'))}）"),
        ("顾客反映", case.get("description")),
        ("收到", w.by_at(case.get("received_by"), case.get("received_at"))),
        ("登记", w.by_at(case.get("recorded_by"), case.get("recorded_at"))),
        ("技质部收到", when(case.get("tq_received_at"))),
        ("来源", f"{vocab.SOURCES.get(case['source']['type'], '')} #{case['source']['id']} {case['source'].get('label', '')}"
         if case.get("source") else ""),
        ("核实", f"{w.by_at(verified.get('by'), verified.get('at'))} {verified.get('note', '')}".strip() if verified else ""),
        ("接收人直接答复", (case.get("direct_answer") or {}).get("text")),
        ("安排答复人", w.who(case.get("reply_assignee"))),
        ("答复", f"{(case.get('reply') or {}).get('text', '')}（{w.by_at(case['reply'].get('by'), case['reply'].get('at'))}）"
         if case.get("reply") else ""),
    )
    return rows


def _decisions(case: dict, w: _Words) -> list[tuple[str, str]]:
    d = case.get("decision") or {}
    q = case.get("quote") or {}
    r = case.get("customer_response") or {}
    v = case.get("vp_approval") or {}
    x = case.get("dispatch") or {}
    o = case.get("onsite") or {}
    total = quote_total(case)
    parts = "；".join(f"{p.get('part')} × {p.get('quantity')}"
                     + (f"，单价 {money(p['unit_price'])}" if p.get("unit_price") is not None else "")
                     for p in q.get("parts") or [])
    rows = _rows(
        ("质保判定", d.get("warranty_label", "") + (f"；使用维护不当（5.1.1.2）：{d.get('misuse_reason', '')}"
                                                 if d.get("misuse") else "")),
        ("故障分析", d.get("analysis")),
        ("参加分析", d.get("participants")),
        ("解决方案", f"{vocab.SOLUTIONS.get(d['solution'], d['solution'])}（{w.by_at(d.get('decided_by'), d.get('decided_at'))}）"
         if d.get("solution") else ""),
        ("电话指导", (d.get("guidance") or "") + ({True: "（已解决）", False: "（未解决）"}.get(d.get("guidance_solved"), "")
                                                if d.get("guidance") else "")),
        ("费用报价", f"服务费 {money(q.get('service_fee'))} 元" + (f"；备件：{parts}" if parts else "")
         + (f"；合计 {money(total)} 元" if total is not None else "") if q else ""),
        ("通知顾客", w.by_at(q.get("sent_by"), q.get("sent_at"))),
        ("顾客意见（6.2.4）", f"{'确认承担费用' if r.get('accepted') else '拒绝承担费用'}，{r.get('person', '')}，"
         f"{when(r.get('responded_at'))}" + (f"；{r['note']}" if r.get("note") else "") if r else ""),
        ("分管副总（6.2.4）", f"{'批准' if v.get('approved') else '不批准'}，{w.by_at(v.get('by'), v.get('at'))}：{v.get('reason', '')}"
         if v else ""),
        ("技术服务单", f"{x.get('form_no', '')}（{w.by_at(x.get('issued_by'), x.get('issued_at'))} 开具）" if x.get("form_no") else ""),
        ("技术人员", "、".join(w.who(t) for t in x.get("technicians") or [])),
        ("服务方案", x.get("plan")),
        ("注意事项", x.get("precautions")),
        ("出发", when(x.get("departed_at"))),
        ("到达现场", when(o.get("arrived_at"))),
        ("维修完毕", f"{when(o.get('completed_at'))}：{o.get('work_done', '')}" if o.get("completed_at") else ""),
        ("现场评价", f"{vocab.EVALUATIONS.get(o['evaluation'].get('rating'), '')} {o['evaluation'].get('remarks', '')}".strip()
         if o.get("evaluation") else ""),
        ("同意返回", w.by_at(o.get("return_approved_by"), o.get("return_approved_at"))),
        ("返回公司", when(o.get("returned_at")) + ("（未经技质部同意返回，6.2.6）" if o.get("return_unapproved") else "")),
    )
    return rows


def _closure(case: dict, w: _Words) -> list[tuple[str, str]]:
    """作废 / 合并 (the outcome itself is in the dossier's head)."""
    x = case.get("cancellation")
    rows = _rows(
        ("作废/合并", (f"合并到 {x['into']['number']}" if x.get("outcome") == vocab.MERGED and x.get("into") else "作废")
         + f"（{w.by_at(x.get('by'), x.get('at'))}）：{x.get('reason', '')}" if x else ""),
        ("并入本案例", "、".join(m.get("number", "") for m in case.get("merged_from") or [])),
    )
    return rows


def _report(case: dict, w: _Words) -> list[tuple[str, str]]:
    r = case.get("report")
    if not r:
        return []
    f = r.get("service_form") or {}
    v = r.get("form_version") or {}
    ratings = "，".join(f"{label}：{vocab.RATINGS.get((f.get('ratings') or {}).get(key), '—')}"
                       for key, label in vocab.ASPECTS.items()) if f else ""
    rows = _rows(
        ("汇报", f"{r.get('text', '')}（{w.by_at(r.get('reported_by'), r.get('reported_at'))}）"),
        ("技术服务单", f"{v.get('form_no', '')} 第 {v.get('version')} 版（{FORM_KINDS.get(v.get('kind'), v.get('kind'))}），"
         f"SHA-256 {v.get('sha256', '')}" if v else ""),
        ("到达 / 完成", f"{when(f.get('arrived_at'))} / {when(f.get('completed_at'))}" if f else ""),
        ("故障现象", f.get("fault_found")),
        ("故障原因", f.get("cause")),
        ("处理情况", f.get("work_done")),
        ("更换零部件", "；".join(f"{p.get('part')} × {p.get('quantity')}" for p in f.get("parts") or [])),
        ("有偿 / 无偿", vocab.CHARGES.get(f.get("charge"), "") + (f"，{money(f.get('amount'))} 元" if f.get("charge") == "paid" else "")),
        ("顾客评价", ratings),
        ("意见与建议", f.get("remarks")),
        ("技术服务单结论", r.get("form_outcome")),
        ("收款", f"收据 {r['receipt_no']}，{money(r.get('amount_collected'))} 元" if r.get("receipt_no") else ""),
        ("返回物料", "；".join(f"{m.get('part')} × {m.get('quantity')}（{vocab.CONDITIONS.get(m.get('condition'), '')}）"
                            for m in r.get("returned_materials") or [])),
    )
    audit = case.get("audit") or {}
    if audit:
        rows += _rows(("确认及费用审核（6.2.8）", f"{audit.get('quality', '')}（{w.by_at(audit.get('confirmed_by'), audit.get('confirmed_at'))}）"))
    return rows


def _conduct(case: dict) -> dict | None:
    """The report's 7.1–7.3 checklist (records.cases.conduct.CHECKLIST, the case page's words)."""
    c = (case.get("report") or {}).get("conduct")
    if not c:
        return None
    contact = c.get("customer_contact") or {}
    added = (case.get("audit") or {}).get("contact_added")
    return {"rows": [(clause, text, "是" if c.get(key) else "否") for key, (clause, text) in case_conduct.CHECKLIST.items()],
            "result": c.get("inspection_result", ""),
            "contact": f"{contact.get('name', '')} {contact.get('phone', '')}".strip() if contact else "未记录",
            "added": f"顾客联系人 {added.get('name', '')} {added.get('phone', '')} 已加入顾客单位联系人（7.3）" if added else ""}


def _expense_note(e: dict, line: dict | None, approvals: list[dict], w: _Words) -> str:
    """What 7.4 says of a 交际应酬 line (the 7.4 text itself is the audited line's reason)."""
    if e.get("category") != case_expenses.ENTERTAINMENT or (line and line.get("rule")):
        return ""
    clause = policy.ENTERTAINMENT.clause
    approval = next((a for a in approvals if line and a.get("id") == line.get("approval")), None)
    if approval is None and not line:
        if case_expenses.unrecognised(e, approvals):
            return f"{clause}：未事先征得主管领导同意，确认时核准 {policy.ENTERTAINMENT.value} 元"
        approval = case_conduct.prior_approval(approvals, date.fromisoformat(e["date"]))
    return f"{clause}：主管领导已事先同意（{w.by_at(approval.get('decided_by') or approval.get('approver'), approval.get('given_at'))}）" \
        if approval else ""


def _expenses(case: dict, w: _Words) -> dict | None:
    """The expense lines as audited (6.2.7, 6.2.8, 7.4): each line in the case page's words
    (records.cases.expenses.label), claimed and approved, the override and its reason, and every
    receipt with its SHA-256."""
    claimed = (case.get("report") or {}).get("expenses") or []
    if not claimed:
        return None
    lines = (case.get("audit") or {}).get("lines") or []
    approvals = case_conduct.approvals(case)
    rows, receipts = [], []
    for i, e in enumerate(claimed):
        line = lines[i] if i < len(lines) else None
        reason = "；".join(x for x in ((line or {}).get("reason", ""), _expense_note(e, line, approvals, w)) if x)
        rows.append({"n": i + 1, "label": case_expenses.label(e), "claimed": money(e.get("amount")),
                     "approved": money(line.get("approved")) if line else "待审核",
                     "override": bool((line or {}).get("override")), "reason": reason})
        receipts += [{"n": i + 1, "filename": f.get("filename", ""), "size": size_text(f.get("size")),
                      "sha256": f.get("sha256", "")} for f in e.get("receipts") or []]
    return {"rows": rows, "receipts": receipts, "claimed_total": money(case_expenses.total(claimed)),
            "approved_total": money(case["audit"].get("approved_total")) if case.get("audit") else "待审核"}


def _approvals(case: dict, w: _Words) -> list[dict]:
    """The 主管领导's prior approvals of 交际应酬 (7.4), as the case page lists them."""
    return [{"requested": w.by_at(a.get("requested_by"), a.get("requested_at")), "purpose": a.get("purpose", ""),
             "approver": w.who(a.get("approver")), "state": case_conduct.APPROVAL_STATES.get(a.get("state"), a.get("state")),
             "given": when(a.get("given_at")), "recorded": when(a.get("recorded_at")), "note": a.get("note", "")}
            for a in case_conduct.approvals(case)]


def _differences(case: dict) -> list[dict]:
    """The values entered that differ from the signed 技术服务单, with their reason (6.2.9;
    records.cases.onsite_record.differences, as the case page shows them)."""
    return [{"step": d.get("step", ""), "label": d.get("label", ""), "signed": d.get("signed") or "（空）",
             "reported": d.get("reported") or "（空）", "reason": d.get("reason", "")}
            for d in onsite_record.differences(case)]


def _deadlines(case: dict, cal: WorkCalendar, now: datetime, w: _Words) -> list[dict]:
    return [{"clause": d.get("clause", ""), "label": d["label"], "basis": d.get("basis", ""), "start": when(d.get("start")),
             "due": when(d.get("due")), "done": when(d.get("done_at")), "responsible": w.who(d.get("responsible")) or "技质部",
             "status": DEADLINE_STATUS.get(d["status"], d["status"]), "late": d["status"] in ("met_late", "overdue")}
            for d in case_deadlines.deadline_rows(case, cal, now)]


def _forms(versions: list[dict], w: _Words) -> list[dict]:
    return [{"version": v.get("version"), "form_no": v.get("form_no", ""), "kind": FORM_KINDS.get(v.get("kind"), v.get("kind")),
             "filename": v.get("filename", ""), "size": size_text(v.get("size")), "sha256": v.get("sha256", ""),
             "archived_at": when(v.get("_created")), "by": w.who(v.get("uploaded_by")), "reason": v.get("reason", "")}
            for v in versions]


def _fines(case: dict, viewer: dict | None, w: _Words) -> tuple[list[dict], int]:
    shown, hidden = visible_fines(viewer, case.get("fines") or [])
    rows = []
    for f in shown:
        amount = fine_amount_text(f)
        result = ""
        if f.get("decided_by"):
            result = f"{FINE_STATUSES.get(f['status'], '')} {f.get('final_amount') if f['status'] == 'confirmed' else ''}，" \
                     f"{w.who(f['decided_by'])}：{f.get('reason', '')}"
        if f.get("gm_by"):
            result += f"；总经理 {w.who(f['gm_by'])} 裁定 {f.get('final_amount')} 元：{f.get('gm_reason', '')}"
        rows.append({"clause": f.get("clause", ""), "person": w.who(f.get("person")) or "技质部", "amount": amount,
                     "basis": f.get("basis", ""), "status": FINE_STATUSES.get(f.get("status"), f.get("status")),
                     "result": result})
    return rows, hidden


def _notes(notes: list[dict], w: _Words) -> list[dict]:
    out = []
    for n in notes:
        file = n.get("file") or {}
        out.append({"at": when(n.get("at")), "by": w.who(n.get("by")), "kind": timeline.KINDS.get(n.get("kind"), ""),
                    "text": n.get("text", ""), "filename": file.get("filename", ""),
                    "category": case_notes.CATEGORIES.get(file.get("category"), "") if file else "",
                    "size": size_text(file.get("size")) if file else "", "sha256": file.get("sha256", "")})
    return out


def _timeline(case: dict, notes: list[dict], viewer: dict | None, w: _Words) -> list[dict]:
    # The case page's one rule (records.cases.timeline.for_reader / may_read_entry): what an entry
    # says of a fine only for that fine's readers; everyone else reads HIDDEN_TEXT in its place.
    out = []
    for e in timeline.for_reader(timeline.entries(case, notes), case, viewer):
        readable = timeline.may_read_entry(e, case, viewer)
        text = e.get("text", "")
        if e.get("kind") == "correction" and e.get("changes"):  # as the case page: changes, reason, fine
            text = "；".join(f"{c.get('label', '')}：{c.get('before') or '（空）'} → {c.get('after') or '（空）'}"
                            for c in e["changes"]) + f"。理由：{e.get('reason', '')}"
            text += f"（{e['fines']}）" if e.get("fines") else ""
        elif readable and e.get("reason") and e["reason"] not in text:
            text += f"；理由：{e['reason']}"
        if e.get("attachment"):
            text += f"（附件「{e['attachment'].get('filename', '')}」）"
        out.append({"at": when(e.get("at")), "by": w.who(e.get("by")), "label": e.get("label", ""), "text": text,
                    "notified": "、".join(w.who(u) for u in e.get("notified") or [])})
    return out


def context(rec: CaseRecords, viewer: dict | None, cal: WorkCalendar, now: datetime | None = None) -> dict:
    """The dossier of ``rec`` as ``viewer`` may read it (fines: records/fines/visibility.py), in
    plain rows for the template; deadlines are judged at ``now``."""
    now = now_local(now)
    case = rec.case
    w = _Words(rec.names)
    fines, hidden = _fines(case, viewer, w)
    return {
        "number": case.get("number", f"#{case['id']}"),
        "type": vocab.TYPES.get(case.get("type"), ""),
        "state": vocab.STATES.get(case.get("state"), case.get("state") or ""),
        "outcome": vocab.OUTCOMES.get(case.get("outcome"), "") if case.get("outcome") else "",
        "generated_at": when(now),
        "reader": (viewer or {}).get("display_name") or w.who((viewer or {}).get("username")),
        "archive_copy": viewer is ARCHIVE_READER,
        "intake": _intake(case, rec.customer, w), "decisions": _decisions(case, w),
        "report": _report(case, w), "closure": _closure(case, w),
        "deadlines": _deadlines(case, cal, now, w),
        "forms": _forms(rec.versions, w),
        "conduct": _conduct(case), "expenses": _expenses(case, w), "approvals": _approvals(case, w),
        "differences": _differences(case),
        "fines": fines, "fines_hidden": hidden, "hidden_text": HIDDEN_TEXT,
        "notes": _notes(rec.notes, w),
        "timeline": _timeline(case, rec.notes, viewer, w),
    }


def render(rec: CaseRecords, viewer: dict | None, cal: WorkCalendar, now: datetime | None = None,
           sign_in: Path | None = None) -> bytes:
    """The dossier PDF of ``rec`` for ``viewer`` (A4; pdf_templates/dossier.html): 10, 技质部 keeps the records.

    ``sign_in``: the data folder; the PDF then carries the company's signature when the key is
    configured (issue 18; unsigned, never refused, without one)."""
    pdf = render_template_pdf(TEMPLATE, context(rec, viewer, cal, now))
    if sign_in is None:
        return pdf
    number = rec.case.get("number") or rec.case["id"]
    return signing.sign_for_archive(sign_in, pdf, "application/pdf", reason=f"案卷 {number}",
                                    title=f"案卷 {number}").content


def filename(case: dict) -> tuple[str, str]:
    """(the file name, its ASCII fallback) of a case's dossier PDF."""
    number = case.get("number") or f"case-{case['id']}"
    return f"案卷-{number}.pdf", f"dossier-{number}.pdf"
