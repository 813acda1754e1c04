"""Fine proposals and rulings on a case (6.1.5, 6.2.8, 6.2.9; the rules are records.fines)."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar
from records.core.transaction import Transaction
from records.fines.proposals import MANUAL, add_manual, manual_kinds
from records.fines.rulings import STATUSES, gm_rule, rule
from records.users.accounts import find_by_username, person_name

from ..flow import log
from ..vocab import CaseError


def rule_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9: a tq_manager confirms or waives a proposal, with a reason."""
    f = rule(case, data.get("key") or "", data.get("decision") or "", data.get("amount"),
                   data.get("reason") or "", user["username"], now)
    log(case, user["username"], now, "rule_fine",
         f"{f['clause']} {person_name(tx, f['person'])}：{STATUSES[f['status']]} {f['final_amount']} 元，{f['reason']}")


def gm_rule_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.8 (特殊情况，报总经理指示执行): the GM rules otherwise on any proposal."""
    f = gm_rule(case, data.get("key") or "", data.get("amount"), data.get("reason") or "",
                      user["username"], now)
    log(case, user["username"], now, "gm_rule_fine",
         f"{f['clause']} {person_name(tx, f['person'])}：总经理裁定 {f['final_amount']} 元，{f['gm_reason']}")


def propose_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.1.5, 6.2.9: a tq_manager's own proposal (unclear record, 50 元 per item; false form)."""
    kind = data.get("kind") or ""
    name = (data.get("person") or "").strip()
    if kind not in MANUAL:
        raise CaseError("请选择处罚条款（6.1.5 或 6.2.9）", "kind")
    if not name:
        raise CaseError("请选择责任人", "person")
    person = find_by_username(tx, name)
    if person is None:
        raise CaseError(f"没有用户 {name}", "person")
    if kind == "falsified_form":
        if kind not in manual_kinds(case):
            raise CaseError("该案例尚未开具技术服务单，不能按 6.2.9 提出处罚建议", "kind")
        if person["username"] not in ((case.get("dispatch") or {}).get("technicians") or []):
            raise CaseError("6.2.9 的责任人应是派往该案例、填报技术服务单的售后服务技术人员", "person")
    f = add_manual(case, kind, person["username"], data.get("facts") or "", now, user["username"],
                         items=data.get("items") or 1)
    amount = f"{f['amount']} 元" if f["amount"] is not None else f"{f['range'][0]}—{f['range'][1]} 元（由技质部经理确定）"
    log(case, user["username"], now, "propose_fine",
         f"{f['clause']} {person.get('display_name') or person['username']}：{amount}；{f['facts']}")


HANDLERS = {"rule_fine": rule_fine, "gm_rule_fine": gm_rule_fine, "propose_fine": propose_fine}
