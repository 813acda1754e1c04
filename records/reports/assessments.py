"""考核 (GLOSSARY ``assessment``): the technicians' quarterly assessment (9.1) and the after-sales
managers' monthly one (9.5), kept, sent and archived.

Table ``assessments``, one document per kind, period and person::

    {"kind": "technician" | "manager", "period": "2026Q4" | "2026-11", "person": "zhao.shifu",
     "grade": "良好", "opinion": "...",                      # 9.1: 技质部's 考核意见
     "evaluation": "...", "quality_notes": "...",            # 9.5: the evaluation, quality notes
     "recipients": ["sun.xiaoshou"],                         # 9.1 「报相关部门」: the people chosen
     "status": "draft" | "sent", "saved_by", "saved_at",
     "figures": {...}, "sent_by", "sent_at", "sent_to": [...],   # frozen when sent
     "pdf": {"sha256", "size"}, "pdf_public": {"sha256", "size"}}

The figures are computed from the records (records/reports/figures.py) until the assessment is
sent; sending freezes them with the opinion, archives the PDF (two versions: the full one, and
one for readers who may not see fines, records/fines/visibility.py) as blobs named by their
SHA-256, and tells the people. A sent assessment never changes.
"""
from __future__ import annotations

from datetime import datetime

from records import policy
from records.core.errors import DomainError
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction, copy_doc
from records.fines.visibility import may_see_fine
from records.followups.tasks import TABLE as FOLLOWUPS
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import find_by_username, users_with_role
from records.users.roles import TQ_ROLES

from . import documents
from .figures import Span, manager_figures, month_span, quarter_span, technician_figures

TABLE = "assessments"
CASES = "cases"  # records.cases.vocab.TABLE
TECHNICIAN, MANAGER = "technician", "manager"
KINDS = {TECHNICIAN: "售后服务技术人员季度考核（9.1）", MANAGER: "售后服务管理人员月度考核（9.5）"}
GRADES = ("优秀", "良好", "合格", "不合格")
DRAFT, SENT = "draft", "sent"
STATUSES = {DRAFT: "草稿", SENT: "已发送"}
# Who opens the lists: 9.1 技质部 and the GM; 9.5 技质部经理 and the GM. The people assessed read
# their own once sent (the menu entry shows to them too).
TECHNICIAN_READERS = (*TQ_ROLES, "gm")
MANAGER_READERS = ("tq_manager", "gm")
MENU_ROLES = (*TQ_ROLES, "gm", "technician")
MAX_TEXT = 2000


class AssessmentError(DomainError):
    pass


def span_of(kind: str, period: str) -> Span | None:
    """The period of an assessment: a quarter (9.1) or a month (9.5); None if malformed."""
    return quarter_span(period) if kind == TECHNICIAN else month_span(period) if kind == MANAGER else None


def subjects(store: Store, kind: str) -> list[dict]:
    """The people assessed: the on-site technicians (9.1) or the 技质部 members (9.5), by username."""
    roles = ("technician",) if kind == TECHNICIAN else TQ_ROLES
    found = {u["username"]: u for role in roles for u in users_with_role(store, role)}
    return [found[k] for k in sorted(found)]


def find(source: Store | Transaction, kind: str, period: str, person: str) -> dict | None:
    """The stored assessment of ``person`` for ``period`` (a private copy), or None."""
    for doc in source.scan(TABLE):
        if doc["kind"] == kind and doc["period"] == period and doc["person"] == person:
            return copy_doc(doc)
    return None


def stored(store: Store, kind: str, period: str) -> dict[str, dict]:
    """person → the stored assessment of ``kind`` for ``period``."""
    return {d["person"]: copy_doc(d) for d in store.scan(TABLE) if d["kind"] == kind and d["period"] == period}


def sent_to_me(store: Store, username: str) -> list[dict]:
    """The sent assessments ``username`` is the subject or a recipient of, newest period first."""
    docs = [copy_doc(d) for d in store.scan(TABLE)
            if d["status"] == SENT and (d["person"] == username or username in d.get("sent_to") or ())]
    return sorted(docs, key=lambda d: (d["period"], d["kind"]), reverse=True)


def compute(store: Store, kind: str, span: Span, person: str, now: datetime) -> dict:
    """The figures of ``person``'s assessment as the records stand at ``now`` (9.1 or 9.5)."""
    return compute_all(store, kind, span, [person], now)[person]


def compute_all(store: Store, kind: str, span: Span, people: list[str], now: datetime) -> dict[str, dict]:
    """person → the figures of each of ``people`` (the records read once, for the lists)."""
    cases = list(store.scan(CASES))
    if kind == TECHNICIAN:
        rework_days = policy.parameter(store, "rework_days")  # 公司参数 (GLOSSARY 返修)
        return {p: technician_figures(cases, p, span, now, rework_days) for p in people}
    followups = list(store.scan(FOLLOWUPS))
    return {p: manager_figures(cases, followups, p, span, now) for p in people}


# --- who may ---------------------------------------------------------------------------------


def may_edit(user: dict, kind: str, person: dict) -> bool:
    """9.1: 技质部 assesses the technicians. 9.5: 技质部经理 evaluates the members; the GM the
    manager (and nobody their own)."""
    roles = set(user.get("roles") or ())
    if kind == TECHNICIAN:
        return bool(roles & set(TQ_ROLES))
    if user.get("username") == person.get("username"):
        return False
    return "gm" in roles if "tq_manager" in (person.get("roles") or ()) else "tq_manager" in roles


def may_list(user: dict, kind: str) -> bool:
    roles = set(user.get("roles") or ())
    return bool(roles & set(TECHNICIAN_READERS if kind == TECHNICIAN else MANAGER_READERS))


def may_read(user: dict, kind: str, person: str, doc: dict | None) -> bool:
    """The readers of the lists, and, once sent, the person assessed and its recipients."""
    if may_list(user, kind):
        return True
    name = user.get("username")
    return bool(doc) and doc["status"] == SENT and (doc["person"] == name or name in doc.get("sent_to") or ())


# --- saving and sending ----------------------------------------------------------------------


def _text(data: dict, key: str, label: str, required: bool) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise AssessmentError(f"请填写{label}", key)
    if len(value) > MAX_TEXT:
        raise AssessmentError(f"{label}不能超过 {MAX_TEXT} 个字", key)
    return value


def _fields(tx: Transaction, kind: str, person: str, data: dict, final: bool) -> dict:
    grade = str(data.get("grade") or "")
    if grade and grade not in GRADES:
        raise AssessmentError("请选择考核等级（优秀、良好、合格、不合格）", "grade")
    if final and not grade:
        raise AssessmentError("请选择考核等级", "grade")
    if kind == TECHNICIAN:
        recipients = []
        for name in data.get("recipients") or []:
            user = find_by_username(tx, str(name))
            if user is None or not user.get("active", True):
                raise AssessmentError(f"{name} 不是在用的账号", "recipients")
            if user["username"] != person and user["username"] not in recipients:
                recipients.append(user["username"])
        return {"grade": grade, "opinion": _text(data, "opinion", "考核意见", final), "recipients": recipients}
    return {"grade": grade, "evaluation": _text(data, "evaluation", "考核评价", final),
            "quality_notes": _text(data, "quality_notes", "服务质量记录", False)}


def _subject(tx: Transaction, kind: str, person: str, user: dict) -> dict:
    subject = find_by_username(tx, person)
    roles = ("technician",) if kind == TECHNICIAN else TQ_ROLES
    if subject is None or not set(subject.get("roles") or ()) & set(roles):
        raise AssessmentError("被考核人不存在或不在考核范围内")
    if not may_edit(user, kind, subject):
        raise AssessmentError("您不能填写这份考核", "grade")
    return subject


def _write(tx: Transaction, kind: str, span: Span, person: str, changes: dict) -> dict:
    doc = find(tx, kind, span.label, person)
    if doc is not None and doc["status"] == SENT:
        raise AssessmentError("这份考核已发送，不能再修改")
    if doc is None:
        return tx.insert(TABLE, {"kind": kind, "period": span.label, "person": person, "status": DRAFT,
                                 "grade": "", "opinion": "", "evaluation": "", "quality_notes": "",
                                 "recipients": [], **changes})
    return tx.update(TABLE, doc["id"], changes, expect_rev=doc["_rev"])


def save(store: Store, kind: str, span: Span, person: str, data: dict, user: dict, now: datetime) -> dict:
    """Keep the opinion and grade (9.1) or the evaluation (9.5) as a draft; refused once sent."""
    with store.transaction(user["username"]) as tx:
        _subject(tx, kind, person, user)
        changes = _fields(tx, kind, person, data, final=False)
        return _write(tx, kind, span, person, {**changes, "saved_by": user["username"], "saved_at": now.isoformat()})


def recipients_of(store: Store, doc: dict, sender: str) -> list[str]:
    """Who is told (9.1 「报相关部门」): the person, the 技质部经理 and the people chosen; for 9.5
    the person. Never the sender."""
    names = [doc["person"]]
    if doc["kind"] == TECHNICIAN:
        names += [u["username"] for u in users_with_role(store, "tq_manager")] + list(doc.get("recipients") or [])
    out = []
    for n in names:
        if n != sender and n not in out:
            out.append(n)
    return out


def send(store: Store, kind: str, span: Span, person: str, data: dict, user: dict, now: datetime) -> dict:
    """9.1: 技质部 sends the assessment, with its 考核意见 and grade, to the technician, the
    技质部经理 and the departments' people chosen (「报相关部门」); 9.5: 技质部经理 (the GM for the
    manager) records the evaluation. The figures are frozen, the PDF archived, the people told."""
    by = user["username"]
    with store.transaction(by) as tx:  # checked before the slow part (figures, PDF), and again below
        subject = _subject(tx, kind, person, user)
        fields = _fields(tx, kind, person, data, final=True)
        existing = find(tx, kind, span.label, person)
        if existing is not None and existing["status"] == SENT:
            raise AssessmentError("这份考核已发送，不能再修改")
    doc = {"kind": kind, "period": span.label, "person": person, **fields,
           "figures": compute(store, kind, span, person, now), "sent_by": by, "sent_at": now.isoformat(), "status": SENT}
    doc["sent_to"] = recipients_of(store, doc, by)
    for key, full in (("pdf", True), ("pdf_public", False)):
        pdf = documents.assessment_pdf(store, doc, subject, full)
        doc[key] = {"sha256": put_blob(store.root / "files", pdf), "size": len(pdf)}
    with store.transaction(by) as tx:
        _subject(tx, kind, person, user)
        if _fields(tx, kind, person, data, final=True) != fields:
            raise AssessmentError("收件人已变动，请重新发送", "recipients")
        saved = _write(tx, kind, span, person, {k: v for k, v in doc.items() if k not in ("kind", "period", "person")})
        subject_line = f"{KINDS[kind]}：{documents.period_text(span.label)}"
        body = (f"{documents.name(tx, person)} 的{KINDS[kind]}已由 {documents.name(tx, by)} 发送，"
                f"等级：{fields['grade']}。请在系统中查看。")
        queue(tx, [Notice(n, "assessment", subject_line, body, f"assessment:{saved['id']}:{n}",
                          f"/assessments/{saved['id']}", {"table": TABLE, "id": saved["id"]})
                   for n in doc["sent_to"]], now)
        return saved


def pdf_for(store: Store, doc: dict, user: dict) -> bytes:
    """The archived PDF of a sent assessment as ``user`` may read it: with the fines for their
    readers (the person, 技质部经理, the GM, 财务部), else with 「有处罚建议（不公开）」."""
    if doc.get("status") != SENT:
        raise AssessmentError("考核尚未发送，没有归档的 PDF")
    key = "pdf" if may_see_fine(user, {"person": doc["person"]}) else "pdf_public"
    return read_blob(store.root / "files", doc[key]["sha256"])
