"""The written report and its confirmation (6.2.7, 6.2.8), with the filled 技术服务单 (附, 6.2.6)."""
from __future__ import annotations

from datetime import datetime

from records.calendar import time_limits as dl
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, parse_local, to_local
from records.core.store import Store
from records.core.transaction import Transaction
from records.fines.proposals import confirm_late_proposals
from records.service_forms.archive import latest_version

from .. import input as checked
from ..deadlines import meet, responsible, set_deadline
from ..flow import collects_fee, log
from ..vocab import ASPECTS, CHARGES, CONDITIONS, MAX_REPORT_PARTS, RATINGS, CaseError

FORM_NOT_ARCHIVED = ("尚未归档签字的《技术服务单》：请先上传顾客签字或盖章的纸质表单扫描件，或在平板上现场签署，"
                     "归档后再提交书面汇报（6.2.7：《技术服务单》随书面汇报交技质部）")


def service_form_fields(case: dict, data: dict, now: datetime) -> dict:
    """The filled fields and the customer's evaluation of the 技术服务单, as entered (6.2.6)."""
    departed = parse_local(case["dispatch"]["departed_at"])
    arrived = checked.when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    completed = checked.when(data, "completed_at", "完成时间", now, not_before=arrived, before_label="到达时间")
    returned = parse_local((case.get("onsite") or {}).get("returned_at"))
    if returned is not None and completed.replace(second=0) > returned:
        raise CaseError(f"完成时间不能晚于返回公司时间（{returned:%Y-%m-%d %H:%M}）", "completed_at")
    fault_found = checked.text(data, "fault_found", "故障现象", max_len=1000)
    cause = checked.text(data, "cause", "故障原因", max_len=1000)
    work_done = checked.text(data, "work_done", "处理情况", max_len=2000)
    parts = []
    for row in checked.lines(data, "parts"):
        name = checked.row_text(row, "part", "更换零部件名称", "parts")
        parts.append({"part": name, "quantity": checked.quantity(row.get("quantity"), f"更换零部件 {name} ", "parts")})
    if len(parts) > MAX_REPORT_PARTS:
        raise CaseError(f"更换零部件最多 {MAX_REPORT_PARTS} 项", "parts")
    charge = data.get("charge")
    if charge not in CHARGES:
        raise CaseError("请选择有偿或无偿（按技术服务单）", "charge")
    amount = checked.money(data.get("amount"), "amount", "收费金额", required=(charge == "paid"))
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
    customer's evaluation, the expenses, the returned materials and the fee collected."""
    by = user["username"]
    # 6.2.7: the 技术服务单 is handed in with the report: its signed version must be archived.
    latest = latest_version(tx, case["id"])
    if latest is None:
        raise CaseError(FORM_NOT_ARCHIVED)
    filled = service_form_fields(case, data, now)
    text = checked.text(data, "text", "书面汇报")
    outcome = checked.text(data, "form_outcome", "技术服务单结论", required=False, max_len=1000)
    expenses = []
    for row in checked.lines(data, "expenses"):
        item = checked.row_text(row, "item", "费用项目", "expenses")
        expenses.append({"item": item, "amount": checked.money(row.get("amount"), "expenses", f"费用 {item} 的金额")})
    materials = []
    for row in checked.lines(data, "returned_materials"):
        part = checked.row_text(row, "part", "返回物料名称", "returned_materials")
        qty = checked.quantity(row.get("quantity"), f"返回物料 {part} ", "returned_materials")
        cond = row.get("condition")
        if cond not in CONDITIONS:
            raise CaseError(f"请选择返回物料 {part} 是未使用还是损坏品", "returned_materials")
        materials.append({"part": part, "quantity": qty, "condition": cond})
    collect = collects_fee(case)
    receipt = checked.text(data, "receipt_no", "收款收据号", required=collect, max_len=60)
    amount = checked.money(data.get("amount_collected"), "amount_collected", "收款金额", required=collect)
    case["report"] = {"text": text, "form_outcome": outcome, "service_form": filled,
                      "form_version": {"id": latest["id"], "version": latest["version"], "kind": latest["kind"],
                                       "form_no": latest.get("form_no"), "sha256": latest["sha256"]},
                      "expenses": expenses, "returned_materials": materials, "receipt_no": receipt,
                      "amount_collected": amount, "reported_by": by, "reported_at": iso_local(now)}
    meet(case, "report", now)
    set_deadline(case, "confirm", dl.confirm_deadline(cal, now), case.get("tq_owner"))
    case["state"] = "awaiting_confirmation"
    total = sum(e["amount"] for e in expenses)
    log(case, by, now, "report",
         f"书面汇报（技术服务单第 {latest['version']} 版），顾客总体评价：{RATINGS[filled['ratings']['overall']]}，"
         f"报销 {total:.2f} 元，返回物料 {len(materials)} 项")


def confirm(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.8: 技质部 confirms the service quality and audits the fees (its duty, 3.1); late → 6.2.8
    proposals per day."""
    by = user["username"]
    quality = checked.text(data, "quality", "服务质量及顾客评价确认意见")
    claimed = case["report"]["expenses"]
    rows = data.get("lines") or []
    if len(rows) != len(claimed):
        raise CaseError("审核行数与报销单不符，请刷新页面", "lines")
    lines = []
    for e, row in zip(claimed, rows):
        approved = checked.money(row.get("approved"), "lines", f"{e['item']} 的核准金额", required=False)
        approved = e["amount"] if approved is None else approved
        reason = checked.text(row, "reason", f"{e['item']}的调整理由", required=(approved != e["amount"]), max_len=400)
        lines.append({"item": e["item"], "claimed": e["amount"], "approved": approved, "reason": reason})
    case["tq_owner"] = case.get("tq_owner") or by
    case["audit"] = {"quality": quality, "confirmed_by": by, "confirmed_at": iso_local(now), "lines": lines,
                     "approved_total": round(sum(x["approved"] for x in lines), 2)}
    entry = case["deadlines"]["confirm"]
    n = confirm_late_proposals(case, cal, Deadline.from_dict(entry), now, responsible(case, "confirm"), now, by=by)
    meet(case, "confirm", now)
    case["state"], case["outcome"] = "closed", "completed"
    text = f"确认服务质量，费用核准 {case['audit']['approved_total']:.2f} 元，结案"
    if n:
        text += f"（逾期，已提出 6.2.8 处罚建议 {n} 条）"
    log(case, by, now, "confirm", text)


def _form_time(value) -> datetime | None:
    """A time as the tablet form keeps it ("2026-03-03 10:20", local) or an ISO one."""
    if not value:
        return None
    try:
        return to_local(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def report_prefill(store: Store, case: dict) -> dict:
    """What the report form starts with (the fields as ``perform("report")`` takes them).

    From the on-site steps (arrival, completion, work done, the quick evaluation), the quote
    (paid or free, the amount), and, when the latest archived version of the 技术服务单 was
    signed on the tablet, from the fields and ratings filled there, which win. ``source``
    names that version, or is None.
    """
    onsite = case.get("onsite") or {}
    collect = collects_fee(case)
    quick = (onsite.get("evaluation") or {})
    out = {
        "arrived_at": parse_local(onsite.get("arrived_at")),
        "completed_at": parse_local(onsite.get("completed_at")),
        "fault_found": "", "cause": "", "work_done": onsite.get("work_done") or "", "parts": [],
        "charge": "paid" if collect else "free",
        "amount": ((case.get("quote") or {}).get("total") if collect else None),
        "ratings": {"overall": quick["rating"]} if quick.get("rating") in RATINGS else {},
        "remarks": quick.get("remarks") or "",
        "source": None,
    }
    latest = latest_version(store, case["id"])
    fields = (latest or {}).get("fields") or {}
    if not fields:
        return out
    for key in ("arrived_at", "completed_at"):
        out[key] = _form_time(fields.get(key)) or out[key]
    for key in ("fault_found", "cause", "work_done", "remarks"):
        if str(fields.get(key) or "").strip():
            out[key] = str(fields[key]).strip()
    parts = []
    for p in fields.get("parts") or []:
        name = " ".join(x for x in (str(p.get("name") or "").strip(), str(p.get("spec") or "").strip()) if x)
        if name:
            parts.append({"part": name, "quantity": p.get("qty") or ""})
    if parts:
        out["parts"] = parts
    if fields.get("charge") in CHARGES:
        out["charge"] = fields["charge"]
        try:
            out["amount"] = float(fields.get("amount")) if fields["charge"] == "paid" else None
        except (TypeError, ValueError):
            out["amount"] = None
    ratings = {k: v for k, v in (fields.get("ratings") or {}).items() if k in ASPECTS and v in RATINGS}
    if ratings:
        out["ratings"] = ratings
    out["source"] = {"id": latest["id"], "version": latest["version"], "kind": latest["kind"]}
    return out


HANDLERS = {"report": report, "confirm": confirm}
