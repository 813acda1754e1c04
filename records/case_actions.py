"""The actions on a case after intake: one handler per transition (``HANDLERS``).

``records.cases.perform`` calls the handler inside its transaction once the user may take the
action, the case's state allows it and its guard holds. A handler takes
``(case, user, data, cal, now, store)``, checks ``data``, changes ``case`` in place (state,
deadlines, fines, timeline) and raises CaseError (with the field) to refuse; no Flask here.
"""
from __future__ import annotations

from datetime import datetime

from . import deadlines as dl
from . import fines, policy
from . import service_form as sf
from .case_deadlines import _meet, _set_deadline, responsible
from .case_input import _lines, _money, _quantity, _row_text, _text, _when, _yes_no
from .case_model import (ASPECTS, CHARGES, CONDITIONS, EVALUATIONS, MAX_REPORT_PARTS, RATINGS, SOLUTIONS,
                         TRANSITIONS, CaseError, _iso, _log, collects_fee, is_tq, parse_dt, quote_total)
from .customers import TABLE as CUSTOMERS
from .deadlines import Deadline
from .store import Store
from .users import find_by_username
from .worktime import WorkCalendar


def _person_name(store: Store, username: str | None) -> str:
    """A user's display name for the timeline (技质部 when nobody in particular)."""
    if not username:
        return "技质部"
    return (find_by_username(store, username) or {}).get("display_name") or username


def _handover_into(case: dict, cal: WorkCalendar, by: str, at: datetime, now: datetime, automatic=False):
    case["tq_received_at"] = _iso(at)
    case["handed_over_by"] = case["received_by"] if automatic else by
    _meet(case, "handover", at)
    if case["type"] == "consultation":
        if case.get("direct_answer"):
            case["state"] = "closed"
            case["outcome"] = "answered"
        else:
            case["state"] = "awaiting_reply"
    else:
        case["state"] = "awaiting_decision"
        _set_deadline(case, "decision", dl.decision_deadline(cal, at))
    text = "技质部接收人登记，即时传递" if automatic else "已传递技质部"
    if case["state"] == "closed":
        text += "；接收人已直接答复，技质部已记录，结案"
    _log(case, by, now, "handover", text)


# --- The actions after intake ------------------------------------------------------------


def _do_handover(case, user, data, cal, now, store):
    by = user["username"]
    if is_tq(user) and not case.get("tq_owner"):
        case["tq_owner"] = by
    entry = case["deadlines"]["handover"]
    late = now > parse_dt(entry["due"])
    _handover_into(case, cal, by, now, now)
    if late:
        fines.add_proposal(case, "handover", policy.FINE_HANDOVER_LATE, case["received_by"], now, by=by)
        case["timeline"][-1]["text"] += (f"（超过 {policy.HANDOVER.value} 个工作小时，"
                                         f"已提出 {policy.FINE_HANDOVER_LATE.clause} 处罚建议）")


def _do_assign_reply(case, user, data, cal, now, store):
    name = _text(data, "assignee", "答复人", max_len=40)
    other = find_by_username(store, name)
    if other is None or not other.get("active", True):
        raise CaseError(f"没有可用的用户 {name}", "assignee")
    case["reply_assignee"] = other["username"]
    case["deadlines"]["consult_reply"]["responsible"] = other["username"]
    _log(case, user["username"], now, "assign_reply", f"安排 {other.get('display_name') or name} 答复")


def _do_reply(case, user, data, cal, now, store):
    text = _text(data, "answer", "答复内容")
    by = user["username"]
    case["reply"] = {"text": text, "by": by, "at": _iso(now), "recorded_by": by}
    _meet(case, "consult_reply", now)
    case["state"], case["outcome"] = "closed", "answered"
    _log(case, by, now, "reply", f"已答复：{text}")


def _arrival_from(case: dict, start: datetime, store: Store) -> None:
    customer = store.get(CUSTOMERS, case["customer_id"]) or {}
    km = float(customer.get("distance_km") or 0)
    _set_deadline(case, "arrival", dl.dispatch_deadline(start, km), case.get("tq_owner"), distance_km=km)


def _go_onsite(case: dict, now: datetime, store: Store) -> None:
    """After the decision (or failed phone guidance): free → dispatch, paid → quote."""
    d = case["decision"]
    if d["solution"] == "onsite_free":
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, parse_dt(case["received_at"]), store)  # in warranty: from receipt
    else:
        case["state"] = "quoting"


def _check_solution(case: dict, solution: str, misuse: bool) -> None:
    in_w = bool((case.get("warranty") or {}).get("in_warranty"))
    if solution == "onsite_free" and (not in_w or misuse):
        raise CaseError("质保期外或使用维护不当的现场服务为有偿服务（5.1.1.2、5.2.3）", "solution")
    if solution == "onsite_paid" and in_w and not misuse:
        raise CaseError("质保期内且非使用维护不当，现场服务应免费（5.1.1.1）", "solution")


def _do_decide(case, user, data, cal, now, store):
    by = user["username"]
    solution = data.get("solution")
    if solution not in SOLUTIONS:
        raise CaseError("请选择解决方案", "solution")
    misuse = bool(data.get("misuse"))
    misuse_reason = _text(data, "misuse_reason", "使用维护不当的理由", required=misuse)
    analysis = _text(data, "analysis", "故障分析")
    participants = _text(data, "participants", "参加分析人员", required=False, max_len=400)
    guidance = _text(data, "guidance", "电话指导内容", required=(solution == "phone_guidance"))
    w = case.get("warranty") or {}
    if not w:
        raise CaseError("该案例没有产品，无法判定质保期", "solution")
    if solution != "phone_guidance":
        _check_solution(case, solution, misuse)
    case["tq_owner"] = case.get("tq_owner") or by
    case["decision"] = {
        "in_warranty": bool(w.get("in_warranty")), "warranty_label": w.get("label", ""),
        "misuse": misuse, "misuse_reason": misuse_reason if misuse else "",
        "analysis": analysis, "participants": participants, "solution": solution,
        "guidance": guidance if solution == "phone_guidance" else "", "guidance_solved": None,
        "decided_by": by, "decided_at": _iso(now),
    }
    _meet(case, "decision", now)
    text = f"{w.get('label', '')}{'，使用维护不当：' + misuse_reason if misuse else ''}；方案：{SOLUTIONS[solution]}"
    _log(case, by, now, "decide", text)
    if solution == "phone_guidance":
        case["state"] = "awaiting_guidance_result"
    else:
        _go_onsite(case, now, store)


def _do_guidance_result(case, user, data, cal, now, store):
    by = user["username"]
    d = case["decision"]
    if data.get("solved"):
        d["guidance_solved"] = True
        case["state"], case["outcome"] = "closed", "guidance_solved"
        _log(case, by, now, "guidance_result", "电话指导已解决故障，结案")
        return
    in_w = d["in_warranty"] and not d["misuse"]
    d["guidance_solved"] = False
    d["solution"] = "onsite_free" if in_w else "onsite_paid"
    _log(case, by, now, "guidance_result", f"电话指导未能解决，转{SOLUTIONS[d['solution']]}")
    _go_onsite(case, now, store)


def _do_quote(case, user, data, cal, now, store):
    by = user["username"]
    fee = _money(data.get("service_fee"), "service_fee", "服务费")
    parts = []
    for row in _lines(data, "parts"):
        name = _row_text(row, "part", "备件名称", "parts")
        qty = _quantity(row.get("quantity"), f"备件 {name} ", "parts")
        parts.append({"part": name, "quantity": qty, "unit_price": None, "priced_by": None, "priced_at": None})
    note = _text(data, "note", "报价说明", required=False)
    misuse = bool((case.get("decision") or {}).get("misuse"))
    case["quote"] = {"service_fee": fee, "parts": parts, "note": note, "discounted_parts": misuse,
                     "drafted_by": by, "drafted_at": _iso(now), "sent_by": None, "sent_at": None}
    _log(case, by, now, "quote", f"服务费 {fee:.2f} 元，备件 {len(parts)} 项" + ("，待财务部报价" if parts else ""))


def _do_price(case, user, data, cal, now, store):
    by = user["username"]
    parts = case["quote"]["parts"]
    prices = data.get("prices") or []
    if len(prices) != len(parts):
        raise CaseError("备件价格的行数与报价不符，请刷新页面", "prices")
    for p, price in zip(parts, prices):
        p["unit_price"] = _money(price, "prices", f"备件 {p['part']} 的单价")
        p["priced_by"], p["priced_at"] = by, _iso(now)
    _log(case, by, now, "price", "；".join(f"{p['part']} {p['unit_price']:.2f} 元" for p in parts))


def _do_send_quote(case, user, data, cal, now, store):
    by = user["username"]
    q = case["quote"]
    q["sent_by"], q["sent_at"], q["total"] = by, _iso(now), quote_total(case)
    case["state"] = "awaiting_customer"
    _log(case, by, now, "send_quote", f"已将解决方案和费用通知顾客，合计 {q['total']:.2f} 元")


def _do_customer_response(case, user, data, cal, now, store):
    by = user["username"]
    accepted = _yes_no(data, "accepted", "请选择顾客确认或拒绝")
    sent = parse_dt(case["quote"]["sent_at"])
    at = _when(data, "responded_at", "顾客答复时间", now, not_before=sent, before_label="通知费用的时间")
    person = _text(data, "person", "顾客方答复人", max_len=40)
    note = _text(data, "note", "备注", required=False)
    case["customer_response"] = {"accepted": accepted, "responded_at": _iso(at), "person": person,
                                 "note": note, "recorded_by": by, "recorded_at": _iso(now)}
    if accepted:
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, at, store)  # 5.2.5: from the confirmation
        _log(case, by, now, "customer_response", f"{person} 确认承担费用（{at:%Y-%m-%d %H:%M}）")
    else:
        case["state"] = "awaiting_vp"
        _log(case, by, now, "customer_response", f"{person} 拒绝承担费用（{at:%Y-%m-%d %H:%M}），报分管副总")


def _do_vp_decision(case, user, data, cal, now, store):
    by = user["username"]
    approved = _yes_no(data, "approved", "请选择批准或不批准")
    reason = _text(data, "reason", "审批意见")
    case["vp_approval"] = {"approved": approved, "by": by, "at": _iso(now), "reason": reason}
    if approved:
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, now, store)  # 6.2.4: from the approval
        _log(case, by, now, "vp_decision", f"批准提供售后服务：{reason}")
    else:
        case["state"], case["outcome"] = "closed", "refused"
        _log(case, by, now, "vp_decision", f"不批准，结案：{reason}")


def _do_dispatch(case, user, data, cal, now, store):
    by = user["username"]
    names = [n for n in (data.get("technicians") or []) if n]
    if not names:
        raise CaseError("请选择至少一名售后服务技术人员", "technicians")
    techs = []
    for n in names:
        u = find_by_username(store, n)
        if u is None or "technician" not in u.get("roles", []) or not u.get("active", True):
            raise CaseError(f"{n} 不是在岗的售后服务技术人员", "technicians")
        techs.append(u["username"])
    plan = _text(data, "plan", "告知顾客的服务方案")
    precautions = _text(data, "precautions", "告知技术人员的注意事项")
    departed = _when(data, "departed_at", "出发时间", now, allow_future=True, default_now=True)
    case["dispatch"] = {"technicians": techs, "plan": plan, "precautions": precautions,
                        "form_no": None, "issued_at": _iso(now), "issued_by": by, "departed_at": _iso(departed)}
    case["tq_owner"] = case.get("tq_owner") or by
    if "arrival" in case["deadlines"]:
        case["deadlines"]["arrival"]["responsible"] = techs[0]
    case["state"] = "on_route"
    # The form number is given inside the transaction (see perform: needs the counters table).
    shown = "、".join(_person_name(store, t) for t in techs)
    _log(case, by, now, "dispatch", f"派出 {shown}，出发 {departed:%Y-%m-%d %H:%M}")


def _do_arrive(case, user, data, cal, now, store):
    by = user["username"]
    departed = parse_dt(case["dispatch"]["departed_at"])
    at = _when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    case["onsite"] = {"arrived_at": _iso(at), "work_done": "", "completed_at": None, "evaluation": None,
                      "return_approved_by": None, "return_approved_at": None, "returned_at": None,
                      "returned_by": None, "return_unapproved": False}
    _meet(case, "arrival", at)
    entry = case["deadlines"].get("arrival")
    late = entry is not None and at > parse_dt(entry["due"])
    case["state"] = "on_site"
    _log(case, by, now, "arrive", f"到达现场 {at:%Y-%m-%d %H:%M}" + ("（超过 5.1.1.3 时限）" if late else ""))


def _do_complete(case, user, data, cal, now, store):
    by = user["username"]
    arrived = parse_dt(case["onsite"]["arrived_at"])
    work = _text(data, "work_done", "完成的工作")
    at = _when(data, "completed_at", "完成时间", now, not_before=arrived, before_label="到达时间")
    rating = data.get("evaluation") or ""
    if rating and rating not in EVALUATIONS:
        raise CaseError("请选择顾客评价", "evaluation")
    remarks = _text(data, "evaluation_remarks", "顾客评价意见", required=False, max_len=1000)
    case["onsite"].update(work_done=work, completed_at=_iso(at),
                          evaluation={"rating": rating, "remarks": remarks} if rating else None)
    case["state"] = "completed"
    _log(case, by, now, "complete", f"维修完毕 {at:%Y-%m-%d %H:%M}：{work}")


def _do_approve_return(case, user, data, cal, now, store):
    by = user["username"]
    case["onsite"].update(return_approved_by=by, return_approved_at=_iso(now))
    case["state"] = "return_approved"
    note = _text(data, "note", "备注", required=False)
    _log(case, by, now, "approve_return", "技质部确认、同意返回" + (f"：{note}" if note else ""))


def _do_record_return(case, user, data, cal, now, store):
    by = user["username"]
    completed = parse_dt(case["onsite"]["completed_at"])
    at = _when(data, "returned_at", "返回公司时间", now, not_before=completed, before_label="完成时间")
    approved = case["state"] == "return_approved"
    case["onsite"].update(returned_at=_iso(at), returned_by=by, return_unapproved=not approved)
    _set_deadline(case, "report", dl.report_deadline(cal, at), case["dispatch"]["technicians"][0])
    case["state"] = "awaiting_report"
    text = f"返回公司 {at:%Y-%m-%d %H:%M}"
    if not approved:
        fines.add_proposal(case, "return_unapproved", policy.FINE_RETURN_UNAPPROVED, by, now, by=by)
        text += "（未经技质部同意返回，已提出 6.2.6 处罚建议，金额由技质部经理确定）"
    _log(case, by, now, "record_return", text)


FORM_NOT_ARCHIVED = ("尚未归档签字的《技术服务单》：请先上传顾客签字或盖章的纸质表单扫描件，或在平板上现场签署，"
                     "归档后再提交书面汇报（6.2.7：《技术服务单》随书面汇报交技质部）")


def _service_form_fields(case: dict, data: dict, now: datetime) -> dict:
    """The filled fields and the customer's evaluation of the 技术服务单, as entered (6.2.6)."""
    departed = parse_dt(case["dispatch"]["departed_at"])
    arrived = _when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    completed = _when(data, "completed_at", "完成时间", now, not_before=arrived, before_label="到达时间")
    returned = parse_dt((case.get("onsite") or {}).get("returned_at"))
    if returned is not None and completed.replace(second=0) > returned:
        raise CaseError(f"完成时间不能晚于返回公司时间（{returned:%Y-%m-%d %H:%M}）", "completed_at")
    fault_found = _text(data, "fault_found", "故障现象", max_len=1000)
    cause = _text(data, "cause", "故障原因", max_len=1000)
    work_done = _text(data, "work_done", "处理情况", max_len=2000)
    parts = []
    for row in _lines(data, "parts"):
        name = _row_text(row, "part", "更换零部件名称", "parts")
        parts.append({"part": name, "quantity": _quantity(row.get("quantity"), f"更换零部件 {name} ", "parts")})
    if len(parts) > MAX_REPORT_PARTS:
        raise CaseError(f"更换零部件最多 {MAX_REPORT_PARTS} 项", "parts")
    charge = data.get("charge")
    if charge not in CHARGES:
        raise CaseError("请选择有偿或无偿（按技术服务单）", "charge")
    amount = _money(data.get("amount"), "amount", "收费金额", required=(charge == "paid"))
    ratings = data.get("ratings") or {}
    if not isinstance(ratings, dict):
        raise CaseError("顾客评价格式不正确", "ratings")
    checked = {}
    for key, label in ASPECTS.items():
        value = ratings.get(key)
        if value not in RATINGS:
            raise CaseError(f"请选择顾客对「{label}」的评价（按技术服务单）", key)
        checked[key] = value
    remarks = _text(data, "remarks", "顾客意见与建议", required=False, max_len=1000)
    return {"arrived_at": _iso(arrived), "completed_at": _iso(completed), "fault_found": fault_found,
            "cause": cause, "work_done": work_done, "parts": parts, "charge": charge,
            "amount": amount if charge == "paid" else None, "ratings": checked, "remarks": remarks}


def _do_report(case, user, data, cal, now, store):
    by = user["username"]
    # 6.2.7: the 技术服务单 is handed in with the report: its signed version must be archived.
    latest = sf.latest_version(store, case["id"])
    if latest is None:
        raise CaseError(FORM_NOT_ARCHIVED)
    filled = _service_form_fields(case, data, now)
    text = _text(data, "text", "书面汇报")
    outcome = _text(data, "form_outcome", "技术服务单结论", required=False, max_len=1000)
    expenses = []
    for row in _lines(data, "expenses"):
        item = _row_text(row, "item", "费用项目", "expenses")
        expenses.append({"item": item, "amount": _money(row.get("amount"), "expenses", f"费用 {item} 的金额")})
    materials = []
    for row in _lines(data, "returned_materials"):
        part = _row_text(row, "part", "返回物料名称", "returned_materials")
        qty = _quantity(row.get("quantity"), f"返回物料 {part} ", "returned_materials")
        cond = row.get("condition")
        if cond not in CONDITIONS:
            raise CaseError(f"请选择返回物料 {part} 是未使用还是损坏品", "returned_materials")
        materials.append({"part": part, "quantity": qty, "condition": cond})
    collect = collects_fee(case)
    receipt = _text(data, "receipt_no", "收款收据号", required=collect, max_len=60)
    amount = _money(data.get("amount_collected"), "amount_collected", "收款金额", required=collect)
    case["report"] = {"text": text, "form_outcome": outcome, "service_form": filled,
                      "form_version": {"id": latest["id"], "version": latest["version"], "kind": latest["kind"],
                                       "form_no": latest.get("form_no"), "sha256": latest["sha256"]},
                      "expenses": expenses, "returned_materials": materials, "receipt_no": receipt,
                      "amount_collected": amount, "reported_by": by, "reported_at": _iso(now)}
    _meet(case, "report", now)
    _set_deadline(case, "confirm", dl.confirm_deadline(cal, now), case.get("tq_owner"))
    case["state"] = "awaiting_confirmation"
    total = sum(e["amount"] for e in expenses)
    _log(case, by, now, "report",
         f"书面汇报（技术服务单第 {latest['version']} 版），顾客总体评价：{RATINGS[filled['ratings']['overall']]}，"
         f"报销 {total:.2f} 元，返回物料 {len(materials)} 项")


def _do_confirm(case, user, data, cal, now, store):
    by = user["username"]
    quality = _text(data, "quality", "服务质量及顾客评价确认意见")
    claimed = case["report"]["expenses"]
    rows = data.get("lines") or []
    if len(rows) != len(claimed):
        raise CaseError("审核行数与报销单不符，请刷新页面", "lines")
    lines = []
    for e, row in zip(claimed, rows):
        approved = _money(row.get("approved"), "lines", f"{e['item']} 的核准金额", required=False)
        approved = e["amount"] if approved is None else approved
        reason = _text(row, "reason", f"{e['item']} 的调整理由", required=(approved != e["amount"]), max_len=400)
        lines.append({"item": e["item"], "claimed": e["amount"], "approved": approved, "reason": reason})
    case["tq_owner"] = case.get("tq_owner") or by
    case["audit"] = {"quality": quality, "confirmed_by": by, "confirmed_at": _iso(now), "lines": lines,
                     "approved_total": round(sum(x["approved"] for x in lines), 2)}
    entry = case["deadlines"]["confirm"]
    n = fines.confirm_late_proposals(case, cal, Deadline.from_dict(entry), now, responsible(case, "confirm"), now, by=by)
    _meet(case, "confirm", now)
    case["state"], case["outcome"] = "closed", "completed"
    text = f"确认服务质量，费用核准 {case['audit']['approved_total']:.2f} 元，结案"
    if n:
        text += f"（逾期，已提出 6.2.8 处罚建议 {n} 条）"
    _log(case, by, now, "confirm", text)


def _do_rule_fine(case, user, data, cal, now, store):
    f = fines.rule(case, data.get("key") or "", data.get("decision") or "", data.get("amount"),
                   data.get("reason") or "", user["username"], now)
    _log(case, user["username"], now, "rule_fine",
         f"{f['clause']} {_person_name(store, f['person'])}：{fines.STATUSES[f['status']]} {f['final_amount']} 元，{f['reason']}")


def _do_gm_rule_fine(case, user, data, cal, now, store):
    f = fines.gm_rule(case, data.get("key") or "", data.get("amount"), data.get("reason") or "",
                      user["username"], now)
    _log(case, user["username"], now, "gm_rule_fine",
         f"{f['clause']} {_person_name(store, f['person'])}：总经理裁定 {f['final_amount']} 元，{f['gm_reason']}")


def _do_propose_fine(case, user, data, cal, now, store):
    """A tq_manager's own proposal: 6.1.5 (unclear record, 50 元 per item) or 6.2.9 (false form)."""
    kind = data.get("kind") or ""
    name = (data.get("person") or "").strip()
    if kind not in fines.MANUAL:
        raise CaseError("请选择处罚条款（6.1.5 或 6.2.9）", "kind")
    if not name:
        raise CaseError("请选择责任人", "person")
    person = find_by_username(store, name)
    if person is None:
        raise CaseError(f"没有用户 {name}", "person")
    if kind == "falsified_form":
        d = case.get("dispatch") or {}
        if not d.get("form_no"):
            raise CaseError("该案例尚未开具技术服务单，不能按 6.2.9 提出处罚建议", "kind")
        if person["username"] not in (d.get("technicians") or []):
            raise CaseError("6.2.9 的责任人应是派往该案例、填报技术服务单的售后服务技术人员", "person")
    f = fines.add_manual(case, kind, person["username"], data.get("facts") or "", now, user["username"],
                         items=data.get("items") or 1)
    amount = f"{f['amount']} 元" if f["amount"] is not None else f"{f['range'][0]}—{f['range'][1]} 元（由技质部经理确定）"
    _log(case, user["username"], now, "propose_fine",
         f"{f['clause']} {person.get('display_name') or person['username']}：{amount}；{f['facts']}")


# One handler per transition: a transition without its ``_do_<name>`` fails at import.
HANDLERS = {name: globals()[f"_do_{name}"] for name in TRANSITIONS}
