"""Per customer of an issued 技术通报: how it was delivered (邮寄、传真、面交、电话告知), when and by
whom; who at the customer acknowledged it and when; the progress the notice page shows; and the
daily task that turns a customer not acknowledged within the notice's days (company parameter
notice_ack_days, settable per notice) into a follow-up task (records.followups.tasks, kind
``technical_notice``, 8.1 跟踪服务).

Table ``technical_notice_deliveries``, one document per notice and customer::

    {"notice_id", "customer_id", "deliveries": [{"method", "at", "by", "note", "recorded_by", "recorded_at"}],
     "acknowledged_by": "" (the customer's person), "acknowledged_at": ISO | None, "ack_recorded_by",
     "followup_id": the follow-up task made when the time ran out, or None}

Plain Python: no Flask.
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.workdays import WorkCalendar, iso_local, now_local, to_local
from records.cases.from_notice import existing as notice_cases
from records.cases.vocab import is_live
from records.core.store import Store
from records.core.transaction import Transaction
from records.followups import tasks as followups

from .notices import ack_overdue, customers_of, may_write
from .vocab import DELIVERIES, ISSUED, LIVE, METHODS, TABLE, TechnicalNoticeError

DAILY_ACTOR = "cron"  # the scheduled run (records.jobs.runs.ACTOR, a layer above)


def _when(value, label: str, field: str, now: datetime) -> datetime:
    if isinstance(value, datetime):
        at = to_local(value)
    else:
        try:
            at = to_local(datetime.fromisoformat(str(value or "").strip()))
        except ValueError:
            raise TechnicalNoticeError(f"请输入{label}（YYYY-MM-DD HH:MM）", field) from None
    if at > now:
        raise TechnicalNoticeError(f"{label}不能晚于现在", field)
    return at


def record_of(source, notice_id: int, customer_id: int) -> dict | None:
    return next((d for d in source.scan(DELIVERIES)
                 if d["notice_id"] == notice_id and d["customer_id"] == customer_id), None)


def _live_notice(tx: Transaction, notice_id: int, customer_id: int, user: dict) -> dict:
    if not may_write(user):
        raise TechnicalNoticeError("只有技质部可以记录技术通报的送达和确认")
    notice = tx.require(TABLE, notice_id)
    if notice["state"] not in LIVE:
        raise TechnicalNoticeError("技术通报尚未发布")
    if customer_id not in customers_of(notice):
        raise TechnicalNoticeError("该顾客单位不在本通报的受影响范围内", "customer_id")
    return notice


def _save(tx: Transaction, notice_id: int, customer_id: int, changes: dict, note: str) -> dict:
    doc = record_of(tx, notice_id, customer_id)
    if doc is None:
        return tx.insert(DELIVERIES, {"notice_id": notice_id, "customer_id": customer_id, "deliveries": [],
                                      "acknowledged_by": "", "acknowledged_at": None, "ack_recorded_by": None,
                                      "followup_id": None, **changes})
    return tx.update(DELIVERIES, doc["id"], changes, note=note)


def record_delivery(store: Store, notice_id: int, customer_id: int, data: dict, user: dict,
                    now: datetime | None = None) -> dict:
    """How, when and by whom the notice reached the customer (one customer may get it several ways)."""
    now = now_local(now)
    method = data.get("method")
    if method not in METHODS:
        raise TechnicalNoticeError("请选择送达方式", "method")
    at = _when(data.get("at") or now, "送达时间", "at", now)
    by = str(data.get("by") or "").strip() or user["username"]
    note = str(data.get("note") or "").strip()[:500]
    with store.transaction(user["username"]) as tx:
        _live_notice(tx, notice_id, customer_id, user)
        doc = record_of(tx, notice_id, customer_id)
        entry = {"method": method, "at": iso_local(at), "by": by, "note": note,
                 "recorded_by": user["username"], "recorded_at": iso_local(now)}
        return _save(tx, notice_id, customer_id, {"deliveries": [*((doc or {}).get("deliveries") or []), entry]},
                     f"技术通报送达：{METHODS[method]}")


def record_acknowledgement(store: Store, notice_id: int, customer_id: int, data: dict, user: dict,
                           now: datetime | None = None) -> dict:
    """Who at the customer acknowledged the notice, and when (once; later ones are refused)."""
    now = now_local(now)
    who = str(data.get("acknowledged_by") or "").strip()
    if not who:
        raise TechnicalNoticeError("请输入顾客确认人", "acknowledged_by")
    if len(who) > 60:
        raise TechnicalNoticeError("顾客确认人不能超过 60 个字符", "acknowledged_by")
    at = _when(data.get("acknowledged_at") or now, "确认时间", "acknowledged_at", now)
    with store.transaction(user["username"]) as tx:
        _live_notice(tx, notice_id, customer_id, user)
        doc = record_of(tx, notice_id, customer_id)
        if doc and doc.get("acknowledged_at"):
            raise TechnicalNoticeError("该顾客单位已确认收到本通报")
        return _save(tx, notice_id, customer_id, {"acknowledged_by": who, "acknowledged_at": iso_local(at),
                                                  "ack_recorded_by": user["username"]}, f"顾客确认收到技术通报：{who}")


def progress(source, notice: dict, today: date) -> list[dict]:
    """Per affected customer: products, deliveries, acknowledgement, late or not, follow-up task,
    and the cases of the campaign (open / done)."""
    docs = {d["customer_id"]: d for d in source.scan(DELIVERIES) if d["notice_id"] == notice["id"]}
    cases = [c for c in notice_cases(source, notice["id"]).values() if is_live(c)]
    late = ack_overdue(notice, today)
    rows = []
    for cid, name in customers_of(notice).items():
        d = docs.get(cid) or {}
        mine = [c for c in cases if c["customer_id"] == cid]
        rows.append({"customer_id": cid, "customer_name": name,
                     "serials": [p["serial_no"] for p in notice.get("affected") or [] if p["customer_id"] == cid],
                     "deliveries": d.get("deliveries") or [], "acknowledged_by": d.get("acknowledged_by") or "",
                     "acknowledged_at": d.get("acknowledged_at"), "followup_id": d.get("followup_id"),
                     "late": late and not d.get("acknowledged_at"),
                     "cases_open": sorted(c["number"] for c in mine if c["state"] != "closed"),
                     "cases_done": sorted(c["number"] for c in mine if c["state"] == "closed"),
                     "case_ids": {c["number"]: c["id"] for c in mine}})
    return rows


def unacknowledged(source, today: date) -> list[tuple[dict, int]]:
    """(notice, customer id) of every customer past its notice's acknowledgement time."""
    acked = {(d["notice_id"], d["customer_id"]) for d in source.scan(DELIVERIES) if d.get("acknowledged_at")}
    return [(n, cid) for n in source.scan(TABLE) if ack_overdue(n, today)
            for cid in customers_of(n) if (n["id"], cid) not in acked]


def task_key(notice_id: int, customer_id: int) -> str:
    return f"{followups.TECHNICAL_NOTICE}:{notice_id}:{customer_id}"


def plan_followups(source, now: datetime) -> list[dict]:
    """The follow-up tasks to make: one per notice and customer past the time, not made yet."""
    today = to_local(now).date()
    keys = {t["key"] for t in source.scan(followups.TABLE)}
    engineers = followups.engineers(source)
    assigner = followups.Assigner(engineers, followups.open_load(source))
    plans = []
    for notice, cid in unacknowledged(source, today):
        key = task_key(notice["id"], cid)
        if key in keys:
            continue
        issuer = notice.get("issued_by")
        rule = followups.KINDS[followups.TECHNICAL_NOTICE]
        plans.append({"key": key, "kind": followups.TECHNICAL_NOTICE, "clause": rule.clause,
                      "customer_id": cid, "period": notice["number"], "period_start": today.isoformat(),
                      "due": today.isoformat(), "assignee": issuer if issuer in engineers else assigner.next(),
                      "status": followups.OPEN, "call": None, "attempts": [], "technical_notice_id": notice["id"]})
    return plans


def make_followups(store: Store, now: datetime, cal: WorkCalendar | None = None, dry_run: bool = False,
                   actor: str = DAILY_ACTOR) -> dict:
    """The daily task (records/jobs/daily.py): a follow-up task per customer who has not
    acknowledged a notice within its days, a call of 跟踪服务 (8.1). Idempotent (the task's key:
    notice and customer)."""
    now = to_local(now)
    plans = plan_followups(store, now)
    if dry_run or not plans:
        return {"created": len(plans), "dry_run": dry_run}
    with store.transaction(actor) as tx:
        made = followups.create_tasks(tx, plans, now)
        for task in made:
            notice_id, cid = task["technical_notice_id"], task["customer_id"]
            _save(tx, notice_id, cid, {"followup_id": task["id"]}, "确认期限已过，转为跟踪任务")
    return {"created": len(made), "dry_run": False}


def overdue_notices(source, today: date) -> list[tuple[dict, int]]:
    """(issued notice, customers not acknowledged) of the notices past their acknowledgement time
    (我的待办 of 技质部)."""
    counts: dict[int, list] = {}
    for notice, _cid in unacknowledged(source, today):
        counts.setdefault(notice["id"], [notice, 0])[1] += 1
    return [(n, k) for n, k in counts.values() if n["state"] == ISSUED]
