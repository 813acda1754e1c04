"""The 技术通报 (technical notice) record: 技质部 writes a draft, issues it (its products frozen, its
A4 PDF archived) and marks it done; state 草稿 → 已发布 → 已完成.

Table ``technical_notices``, one document per notice::

    {"number": "TB2026-0001", "title", "model", "kind" (KINDS), "text", "issuer": "技质部",
     "selection": {mode, serial_from, serial_to, delivered_from, delivered_to, serials} (selection.py),
     "ack_days": 30 (company parameter notice_ack_days, settable per notice), "onsite": bool,
     "onsite_due": "2027-01-31" | "" (the notice's own due date of the on-site work),
     "state", "created_by", "created_at", "issued_by", "issued_at", "ack_due": ISO date,
     "affected": [{product_id, serial_no, model, customer_id, customer_name}] (frozen at issue),
     "pdf": {sha256, size, archived_at} (document.py), "done_by", "done_at"}

Only 技质部 writes (``may_write``); 销售部 and the VP/GM read (``may_read``). Plain Python: no Flask.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from records import policy
from records.calendar.workdays import iso_local, now_local
from records.cases.numbers import next_number
from records.core.store import Store
from records.notifications.admin_alerts import warn_unsigned
from records.users.roles import TQ_ROLES, is_tq

from . import selection
from .document import archive
from .vocab import DONE, DRAFT, ISSUED, ISSUER, KINDS, MAX_TEXT, NUMBER_PREFIX, TABLE, TechnicalNoticeError

READERS = (*TQ_ROLES, "sales", "vp", "gm")


def may_read(user: dict) -> bool:
    return bool(set(user.get("roles") or []) & set(READERS))


def may_write(user: dict) -> bool:
    return is_tq(user)


def _require_writer(user: dict) -> None:
    if not may_write(user):
        raise TechnicalNoticeError("只有技质部可以编写和发布技术通报")


def _text(data: dict, key: str, label: str, max_len: int, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise TechnicalNoticeError(f"请输入{label}", key)
    if len(value) > max_len:
        raise TechnicalNoticeError(f"{label}不能超过 {max_len} 个字符", key)
    return value


def clean(source, data: dict, today: date) -> dict:
    """The notice's fields checked (the field in error named); ``source`` reads the parameter."""
    title = _text(data, "title", "标题", 100)
    model = _text(data, "model", "型号", 60)
    kind = data.get("kind")
    if kind not in KINDS:
        raise TechnicalNoticeError("请选择通报类别", "kind")
    text = _text(data, "text", "通报内容", MAX_TEXT)
    raw = data.get("ack_days")
    if raw in (None, ""):
        ack_days = policy.parameter(source, "notice_ack_days")
    else:
        try:
            ack_days = int(str(raw).strip())
        except ValueError:
            raise TechnicalNoticeError("确认期限须为整数（天）", "ack_days") from None
        if not 1 <= ack_days <= 365:
            raise TechnicalNoticeError("确认期限须在 1–365 天之间", "ack_days")
    onsite = bool(data.get("onsite"))
    due = data.get("onsite_due")
    if isinstance(due, date):
        due = due.isoformat()
    due = str(due or "").strip()
    if onsite:
        if not due:
            raise TechnicalNoticeError("需要现场工作的通报，请输入现场工作完成期限", "onsite_due")
        try:
            day = date.fromisoformat(due)
        except ValueError:
            raise TechnicalNoticeError("现场工作完成期限格式应为 YYYY-MM-DD", "onsite_due") from None
        if day < today:
            raise TechnicalNoticeError("现场工作完成期限不能早于今天", "onsite_due")
    sel = selection.clean(data)
    return {"title": title, "model": model, "kind": kind, "text": text, "ack_days": ack_days,
            "onsite": onsite, "onsite_due": due if onsite else "", "selection": sel}


def get(source, notice_id: int) -> dict | None:
    return source.get(TABLE, notice_id)


def all_notices(source) -> list[dict]:
    """Every notice, newest first."""
    return sorted(source.scan(TABLE), key=lambda n: n["id"], reverse=True)


def create(store: Store, data: dict, user: dict, now: datetime | None = None) -> dict:
    """A new draft, numbered TB<year>-0001 in its yearly series."""
    _require_writer(user)
    now = now_local(now)
    with store.transaction(user["username"]) as tx:
        fields = clean(tx, data, now.date())
        number = next_number(tx, NUMBER_PREFIX, now.year, lambda: (n.get("number") for n in tx.scan(TABLE)))
        return tx.insert(TABLE, {"number": number, **fields, "issuer": ISSUER, "state": DRAFT,
                                 "created_by": user["username"], "created_at": iso_local(now),
                                 "issued_by": None, "issued_at": None, "ack_due": None, "affected": [],
                                 "pdf": None, "done_by": None, "done_at": None})


def update_draft(store: Store, notice_id: int, data: dict, user: dict, now: datetime | None = None,
                 expect_rev: int | None = None) -> dict:
    """Change a draft; an issued notice never changes (its PDF is archived)."""
    _require_writer(user)
    now = now_local(now)
    with store.transaction(user["username"]) as tx:
        notice = tx.require(TABLE, notice_id)
        if notice["state"] != DRAFT:
            raise TechnicalNoticeError("已发布的技术通报不能修改")
        return tx.update(TABLE, notice_id, clean(tx, data, now.date()), expect_rev=expect_rev, note="修改技术通报草稿")


def affected_rows(source, notice: dict) -> tuple[list[dict], selection.Selection]:
    """The products a draft covers now, as frozen at issue, and the selection itself."""
    sel = selection.select(source, notice["model"], notice["selection"])
    rows = [{"product_id": p["id"], "serial_no": p["serial_no"], "model": p["model"], "name": p.get("name", ""),
             "customer_id": p["customer_id"], "customer_name": sel.customers.get(p["customer_id"], "")}
            for p in sel.products]
    return rows, sel


def issue(store: Store, notice_id: int, user: dict, now: datetime | None = None,
          expect_rev: int | None = None) -> dict:
    """技质部 issues the draft: its affected products are frozen, the acknowledgement due day set
    (issue day + ``ack_days``), the A4 PDF archived (document.archive: immutable, SHA-256 in the
    audit trail). A selection that covers no product is refused."""
    _require_writer(user)
    now = now_local(now)
    by = user["username"]
    notice = store.require(TABLE, notice_id)
    if notice["state"] != DRAFT:
        raise TechnicalNoticeError("该技术通报已发布")
    rows, _ = affected_rows(store, notice)
    if not rows:
        raise TechnicalNoticeError("按当前选择没有受影响的产品，不能发布", "mode")
    issued = {"state": ISSUED, "issued_by": by, "issued_at": iso_local(now), "affected": rows,
              "ack_due": (now.date() + timedelta(days=int(notice["ack_days"]))).isoformat()}
    pdf = archive(store, {**notice, **issued}, now)  # the bytes first; the record below names them
    with store.transaction(by) as tx:
        fresh = tx.require(TABLE, notice_id)
        if fresh["state"] != DRAFT or fresh["_rev"] != notice["_rev"] or (expect_rev is not None
                                                                         and int(expect_rev) != fresh["_rev"]):
            raise TechnicalNoticeError("该技术通报已被他人修改或发布，请刷新后重试")
        warn_unsigned(tx, pdf["signature"], f"技术通报 {notice['number']}", now)
        return tx.update(TABLE, notice_id, {**issued, "pdf": pdf},
                         note=f"发布技术通报 {notice['number']}，受影响产品 {len(rows)} 台；"
                              f"PDF 归档 SHA-256 {pdf['sha256']}")


def complete(store: Store, notice_id: int, user: dict, now: datetime | None = None) -> dict:
    """技质部 marks an issued notice 已完成 (every customer dealt with, as it judges)."""
    _require_writer(user)
    now = now_local(now)
    with store.transaction(user["username"]) as tx:
        notice = tx.require(TABLE, notice_id)
        if notice["state"] != ISSUED:
            raise TechnicalNoticeError("只有已发布的技术通报可以标记为已完成")
        return tx.update(TABLE, notice_id, {"state": DONE, "done_by": user["username"], "done_at": iso_local(now)},
                         note="技术通报已完成")


def ack_overdue(notice: dict, today: date) -> bool:
    """Whether the acknowledgement time of an issued notice is over."""
    return notice.get("state") == ISSUED and bool(notice.get("ack_due")) and today > date.fromisoformat(notice["ack_due"])


def customers_of(notice: dict) -> dict[int, str]:
    """{customer id: name} of the affected products frozen at issue, in serial order."""
    out: dict[int, str] = {}
    for p in notice.get("affected") or []:
        out.setdefault(p["customer_id"], p["customer_name"])
    return out
