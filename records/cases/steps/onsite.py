"""On site (6.2.5, 6.2.6, 5.1.1.3): dispatch, arrival, completion, return approved or not."""
from __future__ import annotations

from datetime import datetime

from records import policy
from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.core.transaction import Transaction
from records.fines.proposals import add_proposal, amount_text
from records.fines.visibility import PROPOSED_TEXT
from records.service_forms import consistency
from records.users.accounts import find_by_username, person_name

from .. import input as checked
from .. import onsite_record
from ..deadlines import meet, set_deadline
from ..flow import log
from ..numbers import next_number
from ..vocab import TABLE, CaseError


def dispatch(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.5: before leaving: the plan told to the customer, the precautions to the technicians, the
    技术服务单 issued (its number given here, in the step's own transaction)."""
    by = user["username"]
    names = [n for n in (data.get("technicians") or []) if n]
    if not names:
        raise CaseError("请选择至少一名售后服务技术人员", "technicians")
    techs = []
    for n in names:
        u = find_by_username(tx, n)
        if u is None or "technician" not in u.get("roles", []) or not u.get("active", True):
            raise CaseError(f"{n} 不是在岗的售后服务技术人员", "technicians")
        techs.append(u["username"])
    plan = checked.text(data, "plan", "告知顾客的服务方案")
    precautions = checked.text(data, "precautions", "告知技术人员的注意事项")
    departed = checked.when(data, "departed_at", "出发时间", now, allow_future=True, default_now=True)
    case["dispatch"] = {"technicians": techs, "plan": plan, "precautions": precautions,
                        "form_no": None, "issued_at": iso_local(now), "issued_by": by, "departed_at": iso_local(departed)}
    case["tq_owner"] = case.get("tq_owner") or by
    if "arrival" in case["deadlines"]:
        case["deadlines"]["arrival"]["responsible"] = techs[0]
    case["state"] = "on_route"
    case["dispatch"]["form_no"] = next_number(
        tx, "JF", now.year, lambda: ((c.get("dispatch") or {}).get("form_no") for c in tx.scan(TABLE)))
    shown = "、".join(person_name(tx, t) for t in techs)
    log(case, by, now, "dispatch",
        f"派出 {shown}，出发 {departed:%Y-%m-%d %H:%M}，技术服务单 {case['dispatch']['form_no']}")


def arrive(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """5.1.1.3: the technician records the arrival on site (on time or not)."""
    by = user["username"]
    departed = parse_local(case["dispatch"]["departed_at"])
    at = checked.when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    case["onsite"] = {"arrived_at": iso_local(at), "work_done": "", "completed_at": None,
                      "return_approved_by": None, "return_approved_at": None, "returned_at": None,
                      "returned_by": None, "return_unapproved": False}
    meet(case, "arrival", at)
    entry = case["deadlines"].get("arrival")
    late = entry is not None and at > parse_local(entry["due"])
    case["state"] = "on_site"
    log(case, by, now, "arrive", f"到达现场 {at:%Y-%m-%d %H:%M}" + ("（超过 5.1.1.3 时限）" if late else ""))


def complete(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.6: the repair is finished, the customer signed the 技术服务单, 技质部 is told. On the
    tablet path the signed version must be archived first and is the record (a value that differs
    needs a reason); on the paper path the technician records the time and work (records.cases.onsite_record)."""
    by = user["username"]
    path, signed = onsite_record.path_of(tx, case, data.get("form_path") or None)
    record = consistency.signed_record(signed["fields"]) if signed else {}
    arrived = parse_local(case["onsite"]["arrived_at"])
    work = checked.text({"work_done": data.get("work_done") or record.get("work_done")}, "work_done", "完成的工作")
    at = checked.when({"completed_at": data.get("completed_at") or record.get("completed_at")}, "completed_at",
                      "完成时间", now, allow_future=True)
    onsite_record.check_times(case, now, arrived=arrived, completed=at, departed=False)
    diffs = onsite_record.differences_with_reason(signed, {"completed_at": at, "work_done": work}, data)
    case["onsite"].update(work_done=work, completed_at=iso_local(at), form_path=path,
                          form_version=onsite_record.version_ref(signed), differences=diffs)
    meet(case, "notice_due", at)  # a 技术通报's on-site work done (records/cases/from_notice.py)
    case["state"] = "completed"
    how = f"按平板签署的技术服务单第 {signed['version']} 版" if signed else "纸质技术服务单"
    log(case, by, now, "complete", f"维修完毕 {at:%Y-%m-%d %H:%M}（{how}）：{work}"
        + (f"；与签字表单不一致 {len(diffs)} 项，原因：{diffs[0]['reason']}" if diffs else ""))


def approve_return(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.6: 技质部 confirms and approves the technicians' return."""
    by = user["username"]
    case["onsite"].update(return_approved_by=by, return_approved_at=iso_local(now))
    case["state"] = "return_approved"
    note = checked.text(data, "note", "备注", required=False)
    log(case, by, now, "approve_return", "技质部确认、同意返回" + (f"：{note}" if note else ""))


def unapproved_return_warning() -> str:
    """What a technician is told before recording a return 技质部 has not agreed to (6.2.6)."""
    rule = policy.FINE_RETURN_UNAPPROVED
    return (f"技质部尚未确认、同意返回：未经技质部同意返回，将按 {rule.clause} 提出处罚建议"
            f"（{amount_text(rule)}，由技质部经理确定）。请先电话反馈技质部；确需现在记录返回，请勾选确认后再次提交。")


def record_return(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.6: back at the company; without approval a 6.2.6 proposal (50—500 元), recorded only once
    the technician confirmed it (``confirm_unapproved``: a second step, told its consequence). Starts
    6.2.7's deadline."""
    by = user["username"]
    completed = parse_local(case["onsite"]["completed_at"])
    at = checked.when(data, "returned_at", "返回公司时间", now, not_before=completed, before_label="完成时间")
    approved = case["state"] == "return_approved"
    if not approved and not data.get("confirm_unapproved"):
        raise CaseError(unapproved_return_warning(), "confirm_unapproved")
    case["onsite"].update(returned_at=iso_local(at), returned_by=by, return_unapproved=not approved)
    set_deadline(case, "report", dl.report_deadline(cal, at), case["dispatch"]["technicians"][0])
    case["state"] = "awaiting_report"
    text = f"返回公司 {at:%Y-%m-%d %H:%M}"
    if not approved:
        add_proposal(case, "return_unapproved", policy.FINE_RETURN_UNAPPROVED, by, now, by=by)
        text += f"（未经技质部同意返回；{PROPOSED_TEXT}）"  # who and how much: the fine's readers only
    log(case, by, now, "record_return", text)


HANDLERS = {"dispatch": dispatch, "arrive": arrive, "complete": complete, "approve_return": approve_return, "record_return": record_return}
