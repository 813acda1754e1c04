"""Fine proposals and rulings on a case (6.1.5, 6.2.8, 6.2.9; the rules are records.fines):
the tq_manager's ruling and referral to the GM, the GM's ruling, the person's statement, a
manager's own proposal. Each act's timeline entry names its fine (``fine_key``): only the
fine's readers read it (GLOSSARY: 处罚)."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar
from records.core.transaction import Transaction
from records.fines import rulings
from records.fines.proposals import MANUAL, add_manual, find, fine_amount_text, manual_kinds
from records.fines.rulings import STATUSES
from records.users.accounts import find_by_username, person_name

from ..flow import log
from ..vocab import CaseError


def _fine(case: dict, data: dict) -> dict:
    fine = find(case, data.get("key") or "")
    if fine is None:
        raise CaseError("没有这条处罚建议", "key")
    return fine


def log_fine(case: dict, by: str, now: datetime, action: str, fine: dict, text: str) -> dict:
    """The timeline entry of an act on one fine: ``fine_key`` names the fine, so that only its
    readers see the text (records.cases.timeline.for_reader, GLOSSARY: 处罚)."""
    log(case, by, now, action, text)
    entry = case["timeline"][-1]
    entry["fine_key"] = fine["key"]
    return entry


def rule_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9: a tq_manager confirms or waives a proposal, with a reason."""
    f = rulings.decide(_fine(case, data), user, now, data.get("decision") or "", data.get("amount"),
                       data.get("reason") or "")
    log_fine(case, user["username"], now, "rule_fine", f,
             f"{f['clause']} {person_name(tx, f['person'])}：{STATUSES[f['status']]} {f['final_amount']} 元，{f['reason']}")


def refer_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.8 (特殊情况，报总经理指示执行): a tq_manager refers a proposal to the GM, with the reason."""
    f = rulings.refer(_fine(case, data), user, now, None, data.get("reason") or "")
    log_fine(case, user["username"], now, "refer_fine", f,
             f"{f['clause']} {person_name(tx, f['person'])}：报总经理裁定，{f['referral_reason']}")


def gm_rule_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.8 (特殊情况，报总经理指示执行): the GM rules on any proposal, referred or not."""
    f = rulings.gm_rule(_fine(case, data), user, now, data.get("amount"), data.get("reason") or "")
    log_fine(case, user["username"], now, "gm_rule_fine", f,
             f"{f['clause']} {person_name(tx, f['person'])}：总经理裁定 {f['final_amount']} 元，{f['gm_reason']}")


def state_fine(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """The person concerned adds a statement (申辩/说明) to their own proposal before the ruling."""
    fine = _fine(case, data)
    entry = rulings.add_statement(fine, user, now, None, data.get("text") or "")
    log_fine(case, user["username"], now, "state_fine", fine, f"{fine['clause']} 申辩/说明：{entry['text']}")


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
    amount = fine_amount_text(f, note=True)
    log_fine(case, user["username"], now, "propose_fine", f,
             f"{f['clause']} {person.get('display_name') or person['username']}：{amount}；{f['facts']}")


HANDLERS = {"rule_fine": rule_fine, "refer_fine": refer_fine, "gm_rule_fine": gm_rule_fine,
            "state_fine": state_fine, "propose_fine": propose_fine}
