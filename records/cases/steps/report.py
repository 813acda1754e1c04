"""The written report and its confirmation (6.2.7, 6.2.8), with the filled 技术服务单 (附, 6.2.6)."""
from __future__ import annotations

from datetime import datetime

from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.transaction import Transaction
from records.fines.proposals import CONFIRM_LATE, confirm_late_proposal, find
from records.fines.visibility import PROPOSED_TEXT
from records.service_forms.archive import files_dir, latest_version

from .. import classification, onsite_record
from .. import expenses as claim
from .. import input as checked
from ..conduct import approvals, checklist, contact_is_new
from ..deadlines import meet, responsible
from ..flow import collects_fee, log
from ..vocab import ASPECTS, CHARGES, CONDITIONS, MAX_REPORT_PARTS, RATINGS, CaseError, is_campaign
from .handin import hand_in, missing_text, post_consumption

FORM_NOT_ARCHIVED = ("尚未归档签字的《技术服务单》：请先上传顾客签字或盖章的纸质表单扫描件，或在平板上现场签署，"
                     "归档后再提交书面汇报（6.2.7：《技术服务单》随书面汇报交技质部）")


def service_form_fields(case: dict, data: dict, now: datetime) -> dict:
    """The filled fields and the customer's evaluation of the 技术服务单, as entered (6.2.6)."""
    arrived = checked.when(data, "arrived_at", "到达时间", now, allow_future=True)
    completed = checked.when(data, "completed_at", "完成时间", now, allow_future=True)
    onsite_record.check_times(case, now, arrived=arrived, completed=completed)  # the rules of every path
    fault_found = checked.text(data, "fault_found", "故障现象", max_len=1000)
    cause = checked.text(data, "cause", "故障原因", max_len=1000)
    work_done = checked.text(data, "work_done", "处理情况", max_len=2000)
    parts = []
    for row in checked.lines(data, "parts"):
        name = checked.row_text(row, "part", "更换零部件名称", "parts")
        part = {"part": name, "quantity": checked.quantity(row.get("quantity"), f"更换零部件 {name} ", "parts")}
        code = str(row.get("code") or "").strip()[:40]
        parts.append({**part, "part_code": code} if code else part)  # picked from the kit (tablet form)
    if len(parts) > MAX_REPORT_PARTS:
        raise CaseError(f"更换零部件最多 {MAX_REPORT_PARTS} 项", "parts")
    charge = data.get("charge")
    if charge not in CHARGES:
        raise CaseError("请选择有偿或无偿（按技术服务单）", "charge")
    amount = claim.money(data, "amount", "收费金额", required=(charge == "paid"))
    ratings = data.get("ratings") or {}
    if not isinstance(ratings, dict):
        raise CaseError("顾客评价格式不正确", "ratings")
    rated = {}
    for key, label in ASPECTS.items():
        value = ratings.get(key)
        if value not in RATINGS:
            raise CaseError(f"请选择顾客对「{label}」的评价（按技术服务单）", key)
        rated[key] = value
    remarks = checked.text(data, "remarks", "顾客意见与建议", required=False, max_len=1000)
    return {"arrived_at": iso_local(arrived), "completed_at": iso_local(completed), "fault_found": fault_found,
            "cause": cause, "work_done": work_done, "parts": parts, "charge": charge,
            "amount": amount if charge == "paid" else None, "ratings": rated, "remarks": remarks}


def report(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.7: the written report with the archived signed 技术服务单, its filled fields and the
    customer's evaluation, the conduct checklist (7.1–7.3), the expenses (a 交际应酬 line accepted
    and marked, 7.4) with their receipts, the returned materials and the fee collected."""
    by = user["username"]
    # 6.2.7: the 技术服务单 is handed in with the report: its signed version must be archived.
    latest = latest_version(tx, case["id"])
    if latest is None:
        raise CaseError(FORM_NOT_ARCHIVED)
    filled = service_form_fields(case, data, now)
    # One record (6.2.9): what differs from the tablet-signed version needs a reason, shown at 6.2.8.
    signed = onsite_record.signed_version(tx, case)
    diffs = onsite_record.report_differences(case, signed, filled, data)  # paper path: against 维修完毕
    text = checked.text(data, "text", "书面汇报")
    outcome = checked.text(data, "form_outcome", "技术服务单结论", required=False, max_len=1000)
    conduct = checklist(data)
    received = parse_local(case.get("received_at"))
    lines = claim.claim_lines(data.get("expenses") or [], today=now.date(), earliest=received.date() if received else None)
    materials, codes = [], []
    for row in checked.lines(data, "returned_materials"):
        part = checked.row_text(row, "part", "返回物料名称", "returned_materials")
        qty = checked.quantity(row.get("quantity"), f"返回物料 {part} ", "returned_materials")
        cond = row.get("condition")
        if cond not in CONDITIONS:
            raise CaseError(f"请选择返回物料 {part} 是未使用还是损坏品", "returned_materials")
        materials.append({"part": part, "quantity": qty, "condition": cond})
        codes.append(str(row.get("code") or "").strip()[:40] or None)
    collect = collects_fee(case)
    receipt = checked.text(data, "receipt_no", "收款收据号", required=collect, max_len=60)
    amount = claim.money(data, "amount_collected", "收款金额", required=collect)
    expenses = claim.keep_receipts(files_dir(tx.store), lines)  # the bytes last: every check passed
    case["report"] = {"text": text, "form_outcome": outcome, "service_form": filled,
                      "form_version": {"id": latest["id"], "version": latest["version"], "kind": latest["kind"],
                                       "form_no": latest.get("form_no"), "sha256": latest["sha256"]},
                      "path": onsite_record.TABLET if signed else onsite_record.PAPER, "differences": diffs,
                      "conduct": conduct, "expenses": expenses, "returned_materials": materials,
                      "receipt_no": receipt, "amount_collected": amount, "reported_by": by, "reported_at": iso_local(now)}
    # 3.1, 6.2.7: what comes back waits for 技质部's receipt (records.materials.returns)
    case["returned_materials"] = [{"part_code": code, **m, "received_at": None, "received_by": None, "outcome": None,
                                   "inspection_id": None, "note": ""} for m, code in zip(materials, codes)]
    case["state"] = "awaiting_confirmation"
    handed = hand_in(case, cal, now, by)  # 6.2.7 hand-in: at once when nothing waits (GLOSSARY)
    social = sum(1 for e in expenses if e["category"] == claim.ENTERTAINMENT)
    log(case, by, now, "report",
         f"书面汇报（技术服务单第 {latest['version']} 版），顾客总体评价：{RATINGS[filled['ratings']['overall']]}，"
         f"报销 {claim.total(expenses):.2f} 元" + (f"（含交际应酬 {social} 项，7.4）" if social else "")
         + f"，返回物料 {len(materials)} 项"
         + ("" if handed else f"；待交齐：{missing_text(case)}（交齐后 6.2.8 确认时限起算）"))


def confirm(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.8: 技质部 confirms the service quality and audits the fees (its duty, 3.1): more than
    claimed only with the override and a reason; a 交际应酬 line without the 主管领导's prior
    approval at 0 (7.4). With one tick the customer's contact the technician took joins the
    customer's contacts (7.3). Late → the case's one 6.2.8 proposal, its count stopped here
    (50 元 × the working days begun late)."""
    by = user["username"]
    quality = checked.text(data, "quality", "服务质量及顾客评价确认意见")
    claimed = case["report"]["expenses"]
    rows = data.get("lines") or []
    if len(rows) != len(claimed):
        raise CaseError("审核行数与报销单不符，请刷新页面", "lines")
    lines = claim.audit_lines(claimed, rows, approvals(case))
    added = None
    contact = (case["report"].get("conduct") or {}).get("customer_contact")
    if data.get("add_contact") and contact and case.get("customer_id"):
        customer = tx.get(CUSTOMERS, case["customer_id"])
        if contact_is_new(customer, contact):
            tx.update(CUSTOMERS, customer["id"], {"contacts": [*(customer.get("contacts") or []),
                                                              {"name": contact["name"], "phone": contact["phone"],
                                                               "title": ""}]},
                      note=f"{case.get('number', '')} 技术人员记下的顾客联系人（7.3）")
            added = dict(contact)
    if not is_campaign(case):  # a 技术通报's own work is no fault: nothing to classify (9.3)
        classification.finalize(tx, case, data, by, now)  # 9.3: final and required at the confirmation
    case["tq_owner"] = case.get("tq_owner") or by
    case["audit"] = {"quality": quality, "confirmed_by": by, "confirmed_at": iso_local(now), "lines": lines,
                     "approved_total": claim.total(lines, "approved"), "contact_added": added}
    entry = case["deadlines"]["confirm"]
    confirm_late_proposal(case, cal, Deadline.from_dict(entry), now, responsible(case, "confirm"), now, by=by,
                          final=True)
    meet(case, "confirm", now)
    shortfalls = post_consumption(tx, case, by)  # the parts used, from the technician's kit (stock discrepancies)
    case["state"], case["outcome"] = "closed", "completed"
    text = f"确认服务质量，费用核准 {case['audit']['approved_total']:.2f} 元"
    refused = sum(1 for x in lines if x.get("rule"))
    over = sum(1 for x in lines if x.get("override"))
    if refused:
        text += f"（交际应酬 {refused} 项未事先征得主管领导同意，按 7.4 不予认可）"
    if over:
        text += f"（超额核准 {over} 项）"
    if added:
        text += f"，顾客联系人 {added['name']} 已加入顾客单位联系人（7.3）"
    if shortfalls:
        text += f"，备件消耗 {len(shortfalls)} 项与随身备件不符（已记为库存差异）"
    text += "，结案"
    if find(case, CONFIRM_LATE) is not None:
        text += f"（逾期；{PROPOSED_TEXT}）"  # who and how much: the fine's readers only (GLOSSARY 处罚)
    log(case, by, now, "confirm", text)


HANDLERS = {"report": report, "confirm": confirm}
