"""The decision (6.2.2, 6.2.3; 5.1.1.1, 5.1.1.2, 5.2.2, 5.2.3): warranty, solution, phone guidance."""
from __future__ import annotations

from datetime import datetime

from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import warranty
from records.core.transaction import Transaction

from .. import classification
from .. import input as checked
from ..deadlines import arrival_since, meet, set_deadline
from ..flow import log
from ..vocab import SOLUTIONS, CaseError


def warranty_of(product: dict, received_at: datetime) -> dict:
    """The case's warranty: the product's on the day the call was received (6.2.2, GLOSSARY)."""
    w = warranty(product, received_at.date())
    return {"in_warranty": w.in_warranty, "last_day": w.last_day.isoformat(), "label": w.label}


def arrival_from(case: dict, start: datetime, tx: Transaction) -> None:
    """Set 5.1.1.3's arrival deadline from ``start`` by the customer's distance; its basis names
    the start (``arrival_since``: the request, the customer's confirmation 5.2.5 / 6.2.4, or the
    VP's approval 6.2.4), kept on the entry as ``since``."""
    customer = tx.get(CUSTOMERS, case["customer_id"]) or {}
    km = float(customer.get("distance_km") or 0)
    since = arrival_since(case)
    set_deadline(case, "arrival", dl.dispatch_deadline(start, km, since), case.get("tq_owner"),
                 distance_km=km, since=since)


def go_onsite(case: dict, now: datetime, tx: Transaction) -> None:
    """After the decision (or failed phone guidance): free → dispatch, paid → quote."""
    d = case["decision"]
    if d["solution"] == "onsite_free":
        case["state"] = "awaiting_dispatch"
        arrival_from(case, parse_local(case["received_at"]), tx)  # in warranty: from receipt
    else:
        case["state"] = "quoting"


def allowed_solutions(case: dict) -> dict[str, str]:
    """The solutions the case's warranty allows, {key: label} (5.1.1.1, 5.1.1.2, 5.2.3).

    Out of warranty the on-site service is paid: free on-site service is not among them. In
    warranty, or before the warranty is known, every solution is (a finding of misuse, 5.1.1.2,
    still makes the service paid: ``check_solution``).
    """
    w = case.get("warranty") or {}
    if w and not w.get("in_warranty"):
        return {k: v for k, v in SOLUTIONS.items() if k != "onsite_free"}
    return dict(SOLUTIONS)


def check_solution(case: dict, solution: str, misuse: bool) -> None:
    """Refuse a solution the warranty does not allow (5.1.1.1, 5.1.1.2, 5.2.3).

    ``decide`` calls it only for a case whose warranty is known (it refuses the others first).
    """
    in_w = bool((case.get("warranty") or {}).get("in_warranty"))
    if solution not in allowed_solutions(case) or (solution == "onsite_free" and misuse):
        raise CaseError("质保期外或使用维护不当的现场服务为有偿服务（5.1.1.2、5.2.3）", "solution")
    if solution == "onsite_paid" and in_w and not misuse:
        raise CaseError("质保期内且非使用维护不当，现场服务应免费（5.1.1.1）", "solution")


def decide(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.2: 技质部 checks the warranty and decides the solution (5.1.1.1, 5.1.1.2, 5.2.2, 5.2.3); the
    analysis and handling of quality problems is 技质部's duty (3.1)."""
    by = user["username"]
    solution = data.get("solution")
    if solution not in SOLUTIONS:
        raise CaseError("请选择解决方案", "solution")
    misuse = bool(data.get("misuse"))
    misuse_reason = checked.text(data, "misuse_reason", "使用维护不当的理由", required=misuse)
    analysis = checked.text(data, "analysis", "故障分析")
    participants = checked.text(data, "participants", "参加分析人员", required=False, max_len=400)
    guidance = checked.text(data, "guidance", "电话指导内容", required=(solution == "phone_guidance"))
    w = case.get("warranty") or {}
    if not w:
        raise CaseError("该案例没有产品，无法判定质保期", "solution")
    if solution != "phone_guidance":
        check_solution(case, solution, misuse)
    case["tq_owner"] = case.get("tq_owner") or by
    case["decision"] = {
        "in_warranty": bool(w.get("in_warranty")), "warranty_label": w.get("label", ""),
        "misuse": misuse, "misuse_reason": misuse_reason if misuse else "",
        "analysis": analysis, "participants": participants, "solution": solution,
        "guidance": guidance if solution == "phone_guidance" else "", "guidance_solved": None,
        "decided_by": by, "decided_at": iso_local(now),
    }
    classification.provisional(tx, case, data, by, now)  # 9.3: optional at the decision
    meet(case, "decision", now)
    text = f"{w.get('label', '')}{'，使用维护不当：' + misuse_reason if misuse else ''}；方案：{SOLUTIONS[solution]}"
    log(case, by, now, "decide", text)
    if solution == "phone_guidance":
        case["state"] = "awaiting_guidance_result"
    else:
        go_onsite(case, now, tx)


def guidance_result(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.3: phone guidance solved it (closed) or did not (on-site service)."""
    by = user["username"]
    d = case["decision"]
    if data.get("solved"):
        classification.finalize(tx, case, data, by, now)  # 9.3: a close on a fault is classified
        d["guidance_solved"] = True
        case["state"], case["outcome"] = "closed", "guidance_solved"
        log(case, by, now, "guidance_result", "电话指导已解决故障，结案")
        return
    classification.provisional(tx, case, data, by, now)
    in_w = d["in_warranty"] and not d["misuse"]
    d["guidance_solved"] = False
    d["solution"] = "onsite_free" if in_w else "onsite_paid"
    log(case, by, now, "guidance_result", f"电话指导未能解决，转{SOLUTIONS[d['solution']]}")
    go_onsite(case, now, tx)


HANDLERS = {"decide": decide, "guidance_result": guidance_result}
