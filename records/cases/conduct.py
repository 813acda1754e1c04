"""The service conduct rules of section 7 on a case: the checklist the report records (7.1–7.3)
and the 主管领导's prior approvals of 交际应酬 (7.4).

The checklist (``case["report"]["conduct"]``, read by ``checklist``)::

    {"plan_explained": true, "asked_other_faults": true, "inspected": true,
     "inspection_result": "全面检测正常", "left_contact": true,
     "customer_contact": {"name": "刘参谋", "phone": "0312-5550101"} | null}

The approvals (``case["approvals"]``), one per request of a technician sent on the case::

    {"id": 1, "requested_by": "tech", "requested_at": "…", "approver": "manager", "purpose": "…",
     "state": "requested" | "approved" | "refused", "given_at": "…" | null,
     "decided_by": "manager" | null, "recorded_at": "…" | null, "note": ""}

``given_at`` is when the 主管领导 agreed (the approval may be recorded later, ``recorded_at``); an
approval counts for a 交际应酬 expense only if given before the expense's date
(``prior_approval``, 7.4; the reading is in records.policy.ENTERTAINMENT). Plain functions on
the case document: the steps (records.cases.steps.conduct, .report) call them.
"""
from __future__ import annotations

from datetime import date

from records import policy
from records.calendar.workdays import parse_local
from records.catalog import phones
from records.core.errors import DomainError

from . import input as checked
from .vocab import CaseError

REQUESTED, APPROVED, REFUSED = "requested", "approved", "refused"
APPROVAL_STATES = {REQUESTED: "待主管领导审批", APPROVED: "主管领导已同意", REFUSED: "主管领导不同意"}
# The questions of the checklist, each with its clause (the words of records.policy).
CHECKLIST = {
    "plan_explained": (policy.CONDUCT_PLAN.clause, "已向顾客详细了解产品使用情况，并简要介绍确定的处理方案"),
    "asked_other_faults": (policy.CONDUCT_INSPECTION.clause, "已询问顾客该产品是否有其他故障需要排除"),
    "inspected": (policy.CONDUCT_INSPECTION.clause, "已对公司产品进行全面检测、检查"),
    "left_contact": (policy.CONDUCT_CONTACT.clause, "已将本人联系方式、电话号码留给顾客直接联系人员"),
}
MAX_RESULT = 1000


def checklist(data: dict) -> dict:
    """7.1–7.3 as the report records them: each question answered yes or no (the plan explained,
    7.1; other faults asked about and a full inspection, 7.2; the technician's contact left, 7.3), the inspection's
    result (7.2, required when inspected) and the customer's contact taken (7.3: name and phone
    together, or neither)."""
    out = {}
    for key, (clause, text) in CHECKLIST.items():
        out[key] = checked.yes_no(data, key, f"请回答（{clause}）：{text}")
    out["inspection_result"] = checked.text(data, "inspection_result", f"全面检测、检查的结果（{policy.CONDUCT_INSPECTION.clause}）",
                                            required=out["inspected"], max_len=MAX_RESULT)
    name = checked.text(data, "customer_contact_name", "顾客联系人姓名", required=False, max_len=40)
    phone = checked.text(data, "customer_contact_phone", "顾客联系人电话", required=False, max_len=40)
    if bool(name) != bool(phone):
        field = "customer_contact_phone" if name else "customer_contact_name"
        raise CaseError(f"请同时填写顾客联系人的姓名和电话（{policy.CONDUCT_CONTACT.clause}）", field)
    if phone:
        try:
            phone = phones.normalise(phone, "顾客联系人电话", "customer_contact_phone")
        except DomainError as exc:
            raise CaseError(str(exc), "customer_contact_phone") from None
    out["customer_contact"] = {"name": name, "phone": phone} if name else None
    return out


def contact_is_new(customer: dict | None, contact: dict | None) -> bool:
    """Whether the contact the technician took (7.3) is not yet among the customer's contacts."""
    if not customer or not contact:
        return False
    digits = phones.digits(contact["phone"])
    return not any(phones.digits(c.get("phone")) == digits and (c.get("name") or "").strip() == contact["name"]
                   for c in customer.get("contacts") or [])


# --- 7.4: the 主管领导's prior approvals of 交际应酬 -------------------------------------------


def approvals(case: dict) -> list[dict]:
    return list(case.get("approvals") or [])


def pending_approvers(case: dict) -> list[str]:
    """The 主管领导 who have a request waiting on this case (they may read it and decide it)."""
    return list(dict.fromkeys(a["approver"] for a in approvals(case) if a.get("state") == REQUESTED))


def approvers(case: dict) -> list[str]:
    """Every 主管领导 a request of this case went to (they keep reading the case)."""
    return list(dict.fromkeys(a["approver"] for a in approvals(case) if a.get("approver")))


def latest_request(case: dict) -> dict | None:
    rows = approvals(case)
    return rows[-1] if rows else None


def prior_approval(rows: list[dict], expense_date: date) -> dict | None:
    """7.4: the approval given before the expense's date (on an earlier day), or None. A refused or
    pending request, or an approval given on the day or later, does not count."""
    for a in rows:
        given = parse_local(a.get("given_at")) if a.get("state") == APPROVED else None
        if given is not None and given.date() < expense_date:
            return a
    return None
