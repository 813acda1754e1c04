"""Who may do what: the roles, and the groups of roles each area lets in.

A case's own parts (its receiver, technicians, reply assignee) are in
``records.cases.flow``; these are the role-wide rules that the menu, the views and the domain
share, so that a page's menu entry and its server-side check never disagree.
"""
from __future__ import annotations

ROLES: dict[str, str] = {
    "receiver": "信息接收人",
    "tq_engineer": "技质部工程师",
    "tq_manager": "技质部经理",
    "technician": "售后服务技术人员",
    "sales": "销售部",
    "finance": "财务部",
    "vp": "分管副总",
    "gm": "总经理",
    "admin": "系统管理员",
}
TQ_ENGINEER, TQ_MANAGER = "tq_engineer", "tq_manager"
TQ_ROLES = (TQ_ENGINEER, TQ_MANAGER)  # 技质部

# Who may read every case (as the menu): the rest see the cases they take part in.
CASE_READERS = ("tq_engineer", "tq_manager", "sales", "finance", "vp", "gm", "technician")
# Who may register and edit customers and products, and import a product list of them.
CATALOG_EDITORS = ("tq_engineer", "tq_manager", "sales", "admin")
# Who may correct the working calendar.
CALENDAR_EDITORS = ("admin", "tq_manager")
# Who works the follow-up calls (8.1, 8.2): 技质部; its managers also re-assign them.
FOLLOWUP_ROLES = TQ_ROLES
FOLLOWUP_MANAGERS = ("tq_manager",)
# Who administers users and the mail settings.
ADMINS = ("admin",)
# Who opens the page 公司参数: each parameter names the roles that may set it (records/policy.py
# COMPANY_PARAMETERS; 财务部 the labour rate); the page shows the rest read-only.
PARAMETER_SETTERS = ("admin", "finance")
# Who sees, on the home page, how many cases are late anywhere: 技质部, the VP and the GM.
OVERVIEW_READERS = (*TQ_ROLES, "vp", "gm")
# Who rules on fine proposals (the tq_manager; the GM otherwise, 6.2.8): the home page shows
# them the proposals waiting and this year's total.
FINE_RULERS = ("tq_manager", "gm")
# Who fills, signs and archives the 技术服务单: the technicians and 技质部 (as
# records.service_forms.archive.may_sign); the home page offers them the blank form for emergencies.
FORM_SIGNERS = ("technician", *TQ_ROLES)


def is_tq(user: dict) -> bool:
    """Whether the user belongs to 技质部 (3.1: it records, decides, supervises and audits)."""
    return bool(set(user.get("roles") or ()) & set(TQ_ROLES))
