"""7.4 on a case: a technician sent on it asks their 主管领导 beforehand to agree to a 交际应酬
expense; the 主管领导 (told in the inbox) agrees or not, with the time they gave it, which may
be recorded later. The report accepts a 交际应酬 line anyway; the confirmation counts it only
with an approval given before the expense's date (records.cases.expenses.audit_lines)."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.transaction import Transaction
from records.users.accounts import find_by_username, person_name
from records.users.departments import supervisor_of

from .. import input as checked
from ..conduct import APPROVED, REFUSED, REQUESTED, approvals
from ..flow import log
from ..vocab import CaseError, NotPermitted

MAX_PURPOSE = 1000


def request_approval(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """7.4: ask the technician's 主管领导 beforehand to agree to a 交际应酬 expense (事由, 预计金额)."""
    by = user["username"]
    me = find_by_username(tx, by) or user
    boss = supervisor_of(tx, me)
    if boss is None:
        raise CaseError("您没有设置主管领导（或其账号已停用），无法申请；请管理员在「用户管理」中设置（7.4）")
    purpose = checked.text(data, "purpose", "事由及预计金额", max_len=MAX_PURPOSE)
    rows = approvals(case)
    request = {"id": max((a["id"] for a in rows), default=0) + 1, "requested_by": by, "requested_at": iso_local(now),
               "approver": boss["username"], "purpose": purpose, "state": REQUESTED, "given_at": None,
               "decided_by": None, "recorded_at": None, "note": ""}
    case["approvals"] = [*rows, request]
    log(case, by, now, "request_approval",
        f"申请主管领导 {boss.get('display_name') or boss['username']} 事先同意交际应酬（7.4）：{purpose}")


def decide_approval(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """7.4: the 主管领导 agrees (or not) to a request, with the time the answer was given (recorded
    now or later; never in the future)."""
    by = user["username"]
    rows = approvals(case)
    try:
        wanted = int(data.get("request") or 0)
    except (TypeError, ValueError):
        wanted = 0
    request = next((a for a in rows if a["id"] == wanted), None)
    if request is None or request["state"] != REQUESTED:
        raise CaseError("请选择待审批的申请", "request")
    if request["approver"] != by:
        raise NotPermitted("只有申请人的主管领导可以审批（7.4）")
    agreed = checked.yes_no(data, "agreed", "请选择同意或不同意")
    received = parse_local(case.get("received_at"))
    given = checked.when(data, "given_at", "同意（答复）时间", now, not_before=received, before_label="收到服务请求时间")
    note = checked.text(data, "note", "审批意见", required=False, max_len=MAX_PURPOSE)
    request.update(state=APPROVED if agreed else REFUSED, given_at=iso_local(given), decided_by=by,
                   recorded_at=iso_local(now), note=note)
    case["approvals"] = rows
    who = person_name(tx, request["requested_by"])
    text = f"{'同意' if agreed else '不同意'} {who} 的交际应酬申请（7.4），答复时间 {given:%Y-%m-%d %H:%M}"
    log(case, by, now, "decide_approval", text + (f"：{note}" if note else ""))


HANDLERS = {"request_approval": request_approval, "decide_approval": decide_approval}
