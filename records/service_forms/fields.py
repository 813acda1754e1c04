"""The 技术服务单's vocabulary (附; 6.2.5–6.2.7): its fields, ratings and limits. A leaf: the
case workflow and the printed form both read it."""
from __future__ import annotations

from records.core.errors import DomainError

KINDS = {"scan": "纸质扫描件", "tablet": "平板签署"}
SOLUTIONS = {"phone_guidance": "电话指导", "onsite_free": "现场服务（免费）", "onsite_paid": "现场服务（有偿）"}
ASPECTS = [("attitude", "服务态度"), ("skill", "技术水平"), ("timeliness", "及时性"), ("overall", "总体评价")]
RATINGS = [("satisfied", "满意"), ("basically", "基本满意"), ("unsatisfied", "不满意")]  # as cases.EVALUATIONS
CHARGES = {"free": "免费", "paid": "有偿"}
PAPER_PART_ROWS = 4  # blank rows for parts on the printed form
MAX_PARTS = 30
COMPANY = "售后服务管理系统"
FILLED_KEYS = ("arrived_at", "completed_at", "fault_found", "cause", "work_done", "charge", "amount",
               "remarks", "customer_signer", "technician_signer", "signed_on")


class ServiceFormError(DomainError):
    pass


def form_no_of(case: dict) -> str:
    """The number of the form issued at the dispatch (6.2.5), or "" before it."""
    return ((case.get("dispatch") or {}).get("form_no") or "").strip()


def complete_filled(filled: dict | None) -> dict:
    """Every key the template reads, empty where not filled (the paper form)."""
    out = {k: "" for k in FILLED_KEYS}
    out.update(ratings={}, parts=[])
    out.update({k: v for k, v in (filled or {}).items() if v is not None})
    return out
