"""The 6.2.7 hand-in (GLOSSARY, binding), the returned materials received, the parts consumed at
the confirmation (6.2.8) and an inspection's cause on a confirmed case (3.1).

The report counts as handed in — 6.2.7 met, 6.2.8's clock started — only when the written report,
the expense claim, the returned materials (received by 技质部) and, for a paid service whose fee
was collected, the money and receipts (the report's ``receipt_no`` and ``amount_collected``,
recorded at the report itself: ``steps.report.report``) are all in (``missing``). Until then the
technician's 6.2.7 deadline runs and 技质部's 6.2.8 deadline does not exist: a case with nothing
to bring back is handed in at the report itself. The hand-in time is the later of the report and
the materials' handing over; ``hand_in`` records it once (``case["handin"]``).

技质部 receives the materials beside the flow (``receive_tx``, the 退回物料 page): each line goes
back to the store or to inspection (records.materials.returns). An inspection finished after the
confirmation sets the case's cause (``inspection_cause_tx``, audited) and tells 技质部.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog import categories
from records.core.errors import StaleRecord
from records.core.transaction import Transaction
from records.materials import returns as returned
from records.materials import stock
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import TABLE as USERS
from records.users.roles import TQ_MANAGER, is_tq

from .. import input as checked
from ..deadlines import meet, set_deadline
from ..flow import collects_fee, log, technicians
from ..vocab import TABLE, CaseError, NotPermitted

PIECES = {"report": "书面汇报及技术服务单", "expenses": "费用报销单", "materials": "返回物料（技质部接收）",
          "money": "收款收据及款项（有偿服务）"}
RECEIVE_LABEL = "接收返回物料（6.2.7）"
CAUSE_LABEL = "检验确定故障原因（3.1）"


# --- The rule -----------------------------------------------------------------------------------


def missing(case: dict) -> list[str]:
    """What the 6.2.7 hand-in still waits for (keys of ``PIECES``, in that order); [] = handed in."""
    report = case.get("report") or {}
    out = []
    if not report:
        out.append("report")
    if "expenses" not in report:
        out.append("expenses")
    if returned.pending(case.get("returned_materials") or []):
        out.append("materials")
    if collects_fee(case) and not (report.get("receipt_no") and report.get("amount_collected") is not None):
        out.append("money")
    return out


def handed_in(case: dict) -> bool:
    """Whether the report counts as handed in (6.2.7 met, 6.2.8 started)."""
    return bool((case.get("handin") or {}).get("at")) or not missing(case)


def missing_text(case: dict) -> str:
    """What is still missing, in words ("" when handed in)."""
    return "、".join(PIECES[k] for k in missing(case))


def hand_in(case: dict, cal: WorkCalendar, at: datetime, by: str) -> bool:
    """Hand the report in at ``at`` once everything is in: 6.2.7 met, the 6.2.8 deadline set from
    ``at`` (its owner answers). False (nothing changed) while a piece is missing or once done."""
    if (case.get("handin") or {}).get("at") or missing(case):
        return False
    meet(case, "report", at)
    set_deadline(case, "confirm", dl.confirm_deadline(cal, at), case.get("tq_owner"))
    case["handin"] = {"at": iso_local(at), "by": by}
    return True


# --- Receiving the returned materials (技质部) ---------------------------------------------------


def receive_tx(tx: Transaction, cal: WorkCalendar, case_id: int, user: dict, data: dict, now: datetime) -> dict:
    """技质部 receives a case's returned materials (3.1, 6.2.7): every line not yet received, at
    ``received_at`` (when they were handed over; default now, not before the return nor in the
    future). Unused parts back to the store, faulty ones to inspection; the hand-in follows when
    nothing else is missing. Returns the stored case."""
    if not is_tq(user):
        raise NotPermitted("只有技质部可以接收返回物料")
    case = tx.require(TABLE, case_id)
    if data.get("expect_rev") not in (None, "") and int(data["expect_rev"]) != case["_rev"]:
        raise StaleRecord(TABLE, case_id, int(data["expect_rev"]), case["_rev"])
    lines = case.get("returned_materials") or []
    if case.get("state") != "awaiting_confirmation" or not returned.pending(lines):
        raise CaseError("该案例没有待接收的返回物料")
    back = parse_local((case.get("onsite") or {}).get("returned_at"))
    at = checked.when(data, "received_at", "接收时间", now, not_before=back, before_label="返回公司的时间",
                      default_now=True)
    by = user["username"]
    count = len(returned.pending(lines))
    case["returned_materials"] = returned.receive_tx(tx, case_id=case_id, case_number=case.get("number") or "",
                                                     lines=lines, notes=data.get("notes"), by=by, at=at, now=now,
                                                     usernames=list(technicians(case)))
    reported = parse_local(case["report"]["reported_at"])
    text = f"接收返回物料 {count} 项（{at:%Y-%m-%d %H:%M} 交回）：" + "；".join(
        f"{m['part']} × {m['quantity']} {returned.OUTCOMES[m['outcome']]}" for m in case["returned_materials"])
    if hand_in(case, cal, max(at, reported), by):
        text += "；书面汇报已交齐（6.2.7），6.2.8 确认时限起算"
    log(case, by, now, RECEIVE_LABEL, text)
    case["timeline"][-1].update(action="receive_materials", label=RECEIVE_LABEL)
    return tx.update(TABLE, case_id, case, expect_rev=case["_rev"], action="receive_materials", note=RECEIVE_LABEL)


def waiting_receipt(source) -> list[dict]:
    """The cases whose returned materials wait for 技质部's receipt, the oldest report first."""
    out = [c for c in source.scan(TABLE) if c.get("state") == "awaiting_confirmation"
           and returned.pending(c.get("returned_materials") or [])]
    return sorted(out, key=lambda c: (c.get("report") or {}).get("reported_at") or "")


# --- The parts consumed at the confirmation (6.2.8) -------------------------------------------------


def used_parts(case: dict) -> list[dict]:
    """The parts used on the case that name a catalogue code: [{"part_code", "qty"}] (a free-text
    part has no stock to post from)."""
    parts = ((case.get("report") or {}).get("service_form") or {}).get("parts") or []
    return [{"part_code": p["part_code"], "qty": p["quantity"]} for p in parts if p.get("part_code")]


def post_consumption(tx: Transaction, case: dict, by: str) -> list[dict]:
    """At the confirmation the parts used post from the technicians' kits (``stock.consume_tx``),
    each line from the kit of the technician sent who holds it (``stock.holder``); returns the
    shortfalls (each a stock discrepancy for 技质部, never a refusal of the confirmation)."""
    sent = technicians(case)
    if not sent:
        return []
    short = []
    for line in used_parts(case):
        owner = stock.holder(tx, sent, line["part_code"], line["qty"])
        short += stock.consume_tx(tx, case["id"], owner, [line], by)
    return short


# --- An inspection finished after the confirmation (3.1) ---------------------------------------


def inspection_cause_tx(tx: Transaction, inspection: dict, by: str, now: datetime) -> dict | None:
    """3.1: the case's cause from a finished inspection, when the case was already confirmed (6.2.8):
    ``case["cause"]`` (and the cause category of its classification, if it has one), audited, in
    the timeline, and 技质部 (the case's owner and the managers) told. None when the case is not
    confirmed yet (the confirmation reads the inspection itself)."""
    case = tx.require(TABLE, inspection["case_id"])
    if not case.get("audit"):
        return None
    name = categories.name_of(tx, "cause", inspection["cause_category"])
    case["cause"] = {"category": inspection["cause_category"], "text": inspection["cause_text"],
                     "inspection_id": inspection["id"], "at": iso_local(now), "by": by}
    if isinstance(case.get("classification"), dict):
        case["classification"]["cause_category"] = inspection["cause_category"]
    log(case, by, now, CAUSE_LABEL, f"返回物料 {inspection['part_text']} 检验完成：原因类别「{name}」，"
                                    f"{inspection['cause_text']}")
    case["timeline"][-1].update(action="inspection_cause", label=CAUSE_LABEL)
    stored = tx.update(TABLE, case["id"], case, expect_rev=case["_rev"], action="inspection_cause", note=CAUSE_LABEL)
    users = {u["username"]: u for u in tx.scan(USERS) if u.get("active", True)}
    told = [n for n in users if n != by and (n == case.get("tq_owner") or TQ_MANAGER in (users[n].get("roles") or ()))]
    number = case.get("number") or f"#{case['id']}"
    queue(tx, [Notice(n, "inspection", f"【检验结果】{number} 故障原因已更新", "\n".join((
        f"{number} {case.get('customer_name', '')}（已确认）", f"返回物料：{inspection['part_text']}",
        f"原因类别：{name}", f"故障原因：{inspection['cause_text']}")), key=f"inspection:{inspection['id']}:{n}",
        link=f"/cases/{case['id']}", ref={"table": TABLE, "id": case["id"]}) for n in told], now)
    return stored
