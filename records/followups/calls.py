"""A follow-up call recorded on its task (8.1, 8.2), and the case a problem raised on it becomes.

A recorded call (the task's ``status`` becomes ``done``)::

    "call": {"called_at", "called_by", "contact_name", "contact_phone", "usage", "guidance",
             "needs", "problems", "case_id", "recorded_at", "joint_with"}

One call may complete both calls of a customer's period (8.1 and 8.2, ``tasks.partners``): with
``complete_partner`` the same call is recorded on the partner task too (``joint_with`` names the
other task), in one transaction; it then needs the fields of both clauses.

An attempt that did not complete the task (未接通, or 改期 to a new date) is appended to the
task's ``attempts``::

    {"at", "outcome": "no_answer" | "rescheduled", "new_date", "note", "by", "recorded_at"}

and ``next_call`` keeps the date agreed for the next try.
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.corrections import current_calendar
from records.calendar.workdays import to_local
from records.cases.vocab import CaseError
from records.cases.workflow import intake_tx
from records.core.store import Store
from records.core.transaction import Transaction

from .tasks import (
    ANNUAL_VISIT,
    CASE_TYPES,
    DONE,
    FOLLOW_UP,
    KIND_NAMES,
    MAX_TEXT,
    OPEN,
    TABLE,
    FollowUpConflict,
    FollowUpError,
    partners,
)

ATTEMPT_OUTCOMES = {"no_answer": "未接通", "rescheduled": "改期"}


def _text(data: dict, name: str, label: str, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = (data.get(name) or "").strip()
    if required and not value:
        raise FollowUpError(f"请填写{label}", name)
    if len(value) > limit:
        raise FollowUpError(f"{label}不能超过 {limit} 个字", name)
    return value


def _moment(data: dict, name: str, label: str, now: datetime) -> datetime:
    value = data.get(name)
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise FollowUpError(f"{label}格式不正确", name) from None
    if not isinstance(value, datetime):
        raise FollowUpError(f"请填写{label}", name)
    value = to_local(value)
    if value > to_local(now):
        raise FollowUpError(f"{label}不能晚于现在", name)
    return value


def clean_call(task: dict, data: dict, now: datetime, kinds: frozenset[str] | None = None) -> dict:
    """Check a call's fields against its task (8.1 needs guidance, 8.2 the customer's needs);
    ``kinds``: the kinds the call completes (both, when it completes the partner task too)."""
    kinds = kinds or frozenset({task["kind"]})
    called_at = _moment(data, "called_at", "通话时间", now)
    call = {
        "called_at": called_at.isoformat(timespec="minutes"),
        "contact_name": _text(data, "contact_name", "被访人", required=True, limit=40),
        "contact_phone": _text(data, "contact_phone", "电话", required=True, limit=40),
        "usage": _text(data, "usage", "产品使用情况", required=True),
        "guidance": _text(data, "guidance", "保养和维护指导", required=FOLLOW_UP in kinds),
        "needs": _text(data, "needs", "顾客的服务需求", required=ANNUAL_VISIT in kinds),
        "problems": _text(data, "problems", "顾客反映的问题"),
    }
    if data.get("create_case"):
        if not call["problems"]:
            raise FollowUpError("要建立服务案例，请填写顾客反映的问题", "problems")
        if data.get("case_type") not in CASE_TYPES:
            raise FollowUpError("请选择案例类型（咨询或质量问题）", "case_type")
        if data.get("case_type") == "service_request" and not (data.get("serial_no") or "").strip():
            raise FollowUpError("质量问题须选择产品", "serial_no")
    return call


def record_call(store: Store, task_id: int, data: dict, user: dict, now: datetime,
                expect_rev: int | None = None) -> dict:
    """Record the call on the task (it becomes done; 8.1 and 8.2 ask for a record); with ``create_case``
    the problem raised
    becomes a new case (``records.cases.workflow.intake_tx``) in the same transaction, linked both ways:
    the call keeps ``case_id`` / ``case_number``, the case keeps ``source`` = {"type":
    "followup", "id": task id} (and its description names the task). Both are written or
    neither: a refused or failed intake leaves the call unrecorded, and a failure in recording
    the call leaves no case behind.

    ``data``: called_at, contact_name, contact_phone, usage, guidance, needs, problems,
    create_case (bool), case_type ("consultation" / "service_request"), serial_no.
    ``user``: the stored user document of the 技质部 member recording it.
    """
    actor = user["username"]
    task = store.require(TABLE, task_id)
    if task["status"] != OPEN:
        raise FollowUpConflict("该回访已记录，不能重复记录")
    if expect_rev is not None and int(expect_rev) != task["_rev"]:
        raise FollowUpConflict("该回访任务已被他人修改，请刷新后重试")
    partner = None
    if data.get("complete_partner"):
        found = partners(store.scan(TABLE), task)
        if not found:
            raise FollowUpError("该顾客本期没有另一项未完成的回访", "complete_partner")
        partner = found[0]
    kinds = frozenset({task["kind"]} | ({partner["kind"]} if partner else set()))
    call = clean_call(task, data, now, kinds)
    call.update(called_by=actor, recorded_at=to_local(now).isoformat(timespec="seconds"), case_id=None,
                case_number=None, joint_with=partner["id"] if partner else None)
    cal = current_calendar(store) if data.get("create_case") else None
    with store.transaction(actor) as tx:
        fresh = tx.require(TABLE, task_id)
        if fresh["status"] != OPEN:  # recorded by someone else meanwhile
            raise FollowUpConflict("该回访已由他人记录")
        if expect_rev is not None and int(expect_rev) != fresh["_rev"]:
            raise FollowUpConflict("该回访任务已被他人修改，请刷新后重试")
        if data.get("create_case"):
            case = _make_case(tx, cal, fresh, call, data, user, now)
            call.update(case_id=case["id"], case_number=case.get("number"))
        if partner is not None:
            other = tx.require(TABLE, partner["id"])
            if other["status"] != OPEN:
                raise FollowUpConflict(f"{KIND_NAMES[other['kind']]}（{other['clause']}）已由他人记录，请刷新后重试")
            tx.update(TABLE, other["id"], {"status": DONE, "call": {**call, "joint_with": task_id}},
                      note=f"记录{KIND_NAMES[other['kind']]}（{other['clause']}），与{KIND_NAMES[task['kind']]}"
                           f"（{task['clause']}）同一次通话")
        return tx.update(TABLE, task_id, {"status": DONE, "call": call},
                         note=f"记录{KIND_NAMES[task['kind']]}（{task['clause']}）"
                              + (f"，同时完成{KIND_NAMES[partner['kind']]}（{partner['clause']}）" if partner else "")
                              + (f"，建立服务案例 {call['case_number']}" if call["case_id"] else ""))


def record_attempt(store: Store, task_id: int, data: dict, user: dict, now: datetime,
                   expect_rev: int | None = None) -> dict:
    """A call that did not complete the task (8.1, 8.2): 未接通 (``no_answer``), or 改期
    (``rescheduled``) to ``new_date`` (a date, not before the attempt). The task stays open; the
    attempt is appended to its ``attempts`` (audited); ``next_call`` keeps the new date.

    ``data``: attempted_at (datetime), outcome, new_date (date, for 改期), note."""
    at = _moment(data, "attempted_at", "联系时间", now)
    outcome = data.get("outcome")
    if outcome not in ATTEMPT_OUTCOMES:
        raise FollowUpError("请选择结果（未接通或改期）", "outcome")
    new_date = data.get("new_date")
    if isinstance(new_date, str) and new_date.strip():
        try:
            new_date = date.fromisoformat(new_date.strip())
        except ValueError:
            raise FollowUpError("改期日期格式不正确", "new_date") from None
    if outcome == "rescheduled":
        if not isinstance(new_date, date):
            raise FollowUpError("改期须填写新的联系日期", "new_date")
        if new_date < at.date():
            raise FollowUpError("新的联系日期不能早于本次联系", "new_date")
    else:
        new_date = None
    attempt = {"at": at.isoformat(timespec="minutes"), "outcome": outcome,
               "new_date": new_date.isoformat() if new_date else None,
               "note": _text(data, "note", "说明", limit=500), "by": user["username"],
               "recorded_at": to_local(now).isoformat(timespec="seconds")}
    with store.transaction(user["username"]) as tx:
        task = tx.require(TABLE, task_id)
        if task["status"] != OPEN:
            raise FollowUpConflict("该回访已完成，不能再记录联系尝试")
        if expect_rev is not None and int(expect_rev) != task["_rev"]:
            raise FollowUpConflict("该回访任务已被他人修改，请刷新后重试")
        changes = {"attempts": list(task.get("attempts") or []) + [attempt]}
        if attempt["new_date"]:
            changes["next_call"] = attempt["new_date"]
        what = ATTEMPT_OUTCOMES[outcome] + (f"，改期至 {attempt['new_date']}" if attempt["new_date"] else "")
        return tx.update(TABLE, task_id, changes, note=f"{KIND_NAMES[task['kind']]}（{task['clause']}）：{what}")


# --- The link to the case workflow (records/cases) -----------------------------------------------


def _make_case(tx: Transaction, cal, task: dict, call: dict, data: dict, user: dict, now: datetime) -> dict:
    """The problem raised becomes a case through the workflow's own intake (6.1.1, 6.1.2),
    inside the transaction that records the call."""
    serial = (data.get("serial_no") or "").strip()
    title = f"{KIND_NAMES[task['kind']]}（{task['clause']}，{task['period']}）"
    source = f"（来自{title}，回访任务 #{task['id']}）"
    fields = {
        "type": data["case_type"],
        "customer_id": task["customer_id"],
        "product_serial": serial,
        "caller_name": call["contact_name"],
        "caller_phone": call["contact_phone"],
        "channel": "phone",
        "description": f"{call['problems']}\n{source}",
        "received_at": datetime.fromisoformat(call["called_at"]),
        "source": {"type": "followup", "id": task["id"], "label": title},
    }
    try:
        return intake_tx(tx, cal, fields, user, now=now)
    except CaseError as exc:
        field = {"product_serial": "serial_no", "type": "case_type", "description": "problems",
                 "caller_name": "contact_name", "caller_phone": "contact_phone",
                 "received_at": "called_at"}.get(exc.field or "", None)
        raise FollowUpError(f"建立服务案例失败：{exc}", field) from exc
