"""The words of a service case: its table, types, channels, solutions, states, outcomes and
deadline names, and the refusals of the workflow (5, 6). A leaf of ``records.cases``."""
from __future__ import annotations

from records.core.errors import DomainError
from records.service_forms.fields import ASPECTS as FORM_ASPECTS
from records.service_forms.fields import MAX_PARTS
from records.service_forms.fields import RATINGS as FORM_RATINGS

from . import migrations  # noqa: F401  (registers the schema migrations of the table cases)

TABLE = "cases"
COUNTERS = "case_counters"  # {"name": "FW2026", "value": 12}: numbers FW2026-0012, JF2026-…

TYPES = {"consultation": "咨询", "service_request": "质量问题"}
CHANNELS = {"phone": "电话", "letter": "来函", "visit": "来访", "other": "其他"}
SOLUTIONS = {
    "phone_guidance": "电话指导（5.2.2、6.2.3）",
    "onsite_free": "现场服务·质保期内免费（5.1.1.1）",
    "onsite_paid": "现场服务·有偿（5.1.1.2、5.2.3—5.2.5）",
}
EVALUATIONS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
# The customer's evaluation on the 技术服务单 (6.2.6): the same keys as the printed form.
ASPECTS = dict(FORM_ASPECTS)  # attitude 服务态度, skill 技术水平, timeliness 及时性, overall 总体评价
RATINGS = dict(FORM_RATINGS)  # satisfied 满意, basically 基本满意, unsatisfied 不满意 (= EVALUATIONS)
CHARGES = {"free": "无偿", "paid": "有偿"}  # the form's 服务性质 (keys as records.service_forms.fields.CHARGES)
MAX_REPORT_PARTS = MAX_PARTS
# Where a case came from, when not a call to the company: a problem raised on a follow-up call.
SOURCES = {"followup": "跟踪回访", "technical_notice": "技术通报"}
CAMPAIGN_SOURCE = "technical_notice"  # a company-initiated case (GLOSSARY): no customer fault, not in the 9.3 statistics


def is_campaign(case: dict) -> bool:
    """Whether the case was made by a 技术通报 campaign (its work is the company's, not a fault)."""
    return (case.get("source") or {}).get("type") == CAMPAIGN_SOURCE
# The table of the record a source names, checked at intake. Named here, not imported: the
# follow-ups sit above the cases (tests/test_followups_domain.py checks the two names agree).
SOURCE_TABLES = {"followup": ("followups", "回访任务"),  # kind → (table, what its records are called)
                 "technical_notice": ("technical_notices", "技术通报")}  # records/cases/from_notice.py
CONDITIONS = {"unused": "未使用", "damaged": "损坏品"}
STATES = {
    "awaiting_reply": "待答复咨询",
    "awaiting_decision": "待确定解决方案",
    "awaiting_guidance_result": "电话指导中",
    "quoting": "编制费用报价",
    "awaiting_customer": "待顾客确认费用",
    "awaiting_vp": "待分管副总批准",
    "awaiting_dispatch": "待派出",
    "on_route": "已出发",
    "on_site": "现场服务中",
    "completed": "维修完毕，待技质部同意返回",
    "return_approved": "技质部已同意返回",
    "awaiting_report": "待书面汇报",
    "awaiting_confirmation": "待确认及费用审核",
    "closed": "已结案",
}
OUTCOMES = {
    "answered": "咨询已答复",
    "guidance_solved": "电话指导解决",
    "refused": "顾客拒绝付费，未获分管副总批准",
    "completed": "现场服务完成，费用已审核",
    "cancelled": "已作废",
    "merged": "已合并到其他案例",
}
# A case closed by 作废 or 合并 (records.cases.steps.closure): no longer work, still readable.
CANCELLED, MERGED = "cancelled", "merged"
VOID_OUTCOMES = frozenset({CANCELLED, MERGED})
# A free-text unit or serial the receiver could not find in the system (6.1.1, 6.1.2): 技质部
# verifies it (links or creates the customer and product) before the decision (6.2.2).
UNVERIFIED = "待核实"
DEADLINE_LABELS = {
    "handover": "传递技质部（登记）",
    "consult_reply": "答复咨询",
    "decision": "确定解决方案",
    "arrival": "到达现场",
    "report": "书面汇报",
    "confirm": "确认及费用审核",
    "notice_due": "按技术通报完成现场工作",  # the notice's own due date (records/cases/from_notice.py)
}


def is_live(case: dict) -> bool:
    """Whether the case counts: not 作废 (cancelled) nor 合并 (merged into another case).

    A cancelled or merged case is stored closed; it leaves work lists, counts and statistics
    (GLOSSARY: they never count) but stays readable, and its unruled fine proposals stay to be
    ruled. Lists and counts leave such a case by its closed state (the case index's "live"
    means open or waiting for a fine's ruling, records/cases/index.py); statistics ask this.
    """
    return case.get("outcome") not in VOID_OUTCOMES


class CaseError(DomainError):
    """A refused step: not in this state, or bad input (with the field)."""


class NotPermitted(CaseError):
    """The user may not take this action on this case at all (views answer 403)."""
