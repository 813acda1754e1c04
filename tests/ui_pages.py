"""The pages every layout and accessibility check visits (tests/test_ui_pages_browser.py).

One entry per page: ``(name, role, url)``, where ``role`` is the role of the user who opens it
(``ROLE_USERS`` names the seeded test user logged in for it) and ``url`` is a path, or a function
of the seeded ``Site`` (its case, customer, product) returning one. Later issues append their
pages here: every page in the menus of 技质部 and the technician, and the pages of a case.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    """What the browser test seeds: a case on site with its signed form archived and a fine
    proposal (``case_id``), a case waiting for 技质部's decision (``new_case_id``), their customer
    and product."""

    case_id: int
    case_number: str
    new_case_id: int
    customer_id: int
    product_id: int


# The seeded test user (tests/fixtures/users.py) who opens a role's pages.
ROLE_USERS = {"tq_engineer": "engineer", "tq_manager": "manager", "technician": "tech", "admin": "admin",
              "receiver": "receiver", "finance": "finance", "vp": "vp", "gm": "gm", "sales": "sales"}

_MENU = [  # the menu entries of 技质部 and the technician (views/nav.py)
    ("首页", "/"), ("我的待办", "/cases/my"), ("登记来电", "/cases/new"), ("查询案例", lambda s: f"/lookup/?q={s.case_number}"),
    ("服务案例", "/cases/"), ("顾客单位", "/customers/"), ("产品", "/products/"), ("消息", "/inbox/"),
]

PAGES: list[tuple[str, str, object]] = [
    *[(name, "tq_engineer", url) for name, url in _MENU],
    ("跟踪回访", "tq_engineer", "/followups/"),
    ("退回物料", "tq_engineer", "/returns/"),
    ("接收返回物料", "tq_engineer", lambda s: f"/returns/case/{s.case_id}"),
    ("工作日历", "tq_manager", "/calendar/"),
    ("首页（经理）", "tq_manager", "/"),
    ("服务案例（经理）", "tq_manager", "/cases/"),
    *[(f"{name}（技术人员）", "technician", url) for name, url in _MENU],
    ("案例（工程师）", "tq_engineer", lambda s: f"/cases/{s.case_id}"),
    ("案例待决定（工程师）", "tq_engineer", lambda s: f"/cases/{s.new_case_id}"),
    ("案例（经理）", "tq_manager", lambda s: f"/cases/{s.case_id}"),
    ("案例（技术人员）", "technician", lambda s: f"/cases/{s.case_id}"),
    ("技术服务单归档", "technician", lambda s: f"/forms/case/{s.case_id}"),
    ("上传签字扫描件", "technician", lambda s: f"/forms/case/{s.case_id}/upload"),
    ("平板现场签署", "technician", lambda s: f"/forms/case/{s.case_id}/tablet"),
    ("案例变更记录（经理）", "tq_manager", lambda s: f"/history/cases/{s.case_id}"),
    ("案例变更记录（技术人员）", "technician", lambda s: f"/history/cases/{s.case_id}"),
    ("备注与附件", "tq_engineer", lambda s: f"/cases/{s.case_id}/notes"),
    ("顾客单位详情", "tq_engineer", lambda s: f"/customers/{s.customer_id}"),
    ("产品详情", "tq_engineer", lambda s: f"/products/{s.product_id}"),
    ("产品变更记录", "tq_engineer", lambda s: f"/history/products/{s.product_id}"),
    ("修改密码", "technician", "/password"),
    ("新建顾客单位", "tq_engineer", "/customers/new"),
    ("登记产品", "tq_engineer", "/products/new"),
    ("导入产品台账", "tq_engineer", "/products/import/"),
    # issue 13: the penalty register and the assessments (9.1, 9.5)
    ("处罚台账（经理）", "tq_manager", "/fines/"),
    ("处罚台账（财务部）", "finance", "/fines/"),
    ("处罚台账（本人：6.1.4 建议）", "receiver", "/fines/"),
    ("处罚按月发放", "finance", "/fines/months"),
    ("我的待办（总经理）", "gm", "/cases/my"),
    ("考核", "tq_engineer", "/assessments/"),
    ("考核（技术人员）", "technician", "/assessments/"),
    ("技术人员季度考核", "tq_engineer", "/assessments/technicians/2026Q4/tech"),
    ("售后管理人员月度考核", "tq_manager", "/assessments/managers"),
    ("售后管理人员月度考核（个人）", "tq_manager", "/assessments/managers/2026-11/engineer"),
    # issue 17: the quarterly report to the GM (9.2); report 1 is the draft of the last quarter (site_server)
    ("季度报告", "tq_manager", "/quarterly/"),
    ("季度报告草稿", "tq_manager", "/quarterly/1"),
    ("季度报告（总经理）", "gm", "/quarterly/1"),
    ("首页（总经理）", "gm", "/"),
    # issue 15: the admin's pages
    ("用户管理", "admin", "/admin/users"),
    ("停用用户（交接）", "admin", "/admin/users/2/disable"),
    ("公司参数", "admin", "/admin/parameters"),
    ("公司参数（邮件重试）", "admin", "/admin/parameters/mail_max_attempts"),
    ("公司参数（财务部）", "finance", "/admin/parameters"),
    # issue 17: 外部损失成本 (9.4)
    ("外部损失成本（财务部）", "finance", "/costs/"),
    ("外部损失成本（工程师）", "tq_engineer", "/costs/?quarter=2026Q4"),
    ("案例成本", "tq_engineer", lambda s: f"/costs/cases/{s.case_id}"),
    # issue 17 (9.3): the category lists, the preventive actions
    ("故障类别与原因类别（经理）", "tq_manager", "/categories/"),
    ("故障类别与原因类别（只读）", "tq_engineer", "/categories/"),
    ("预防措施", "tq_engineer", "/preventive/"),
    ("提出预防措施（从案例）", "tq_manager", lambda s: f"/preventive/new?case={s.case_id}&cause=process"),
    # issue 17: 质量统计 (9.3)
    ("质量统计", "tq_manager", "/statistics/"),
    # issue 18: 技术通报
    ("技术通报", "tq_engineer", "/technical-notices/"),
    ("新建技术通报", "tq_engineer", "/technical-notices/new"),
    ("技术通报（销售部）", "sales", "/technical-notices/"),
    # issue 16: service materials (3.1, 5.2.4, 6.2.5)
    ("库存", "tq_engineer", "/materials/"),
    ("物料目录", "tq_engineer", "/materials/parts"),
    ("物料目录（财务部）", "finance", "/materials/parts"),
    ("新建物料", "tq_engineer", "/materials/parts/new"),
    ("入库", "tq_engineer", "/materials/receipt"),
    ("工具包发放/退回", "tq_engineer", "/materials/transfer"),
    ("发放物料到工具包（案例）", "tq_engineer", lambda s: f"/materials/issue/{s.case_id}"),
    ("我的工具包（技术人员）", "technician", "/materials/kit"),
    ("采购申请", "tq_engineer", "/materials/purchases"),
    ("新建采购申请", "tq_engineer", "/materials/purchases/new"),
    ("盘点调整", "tq_manager", "/materials/adjust"),
    ("库存差异", "tq_engineer", "/materials/discrepancies"),
    # issue 16: suppliers and their claims (3.1)
    ("供应商索赔台账", "tq_engineer", "/suppliers/claims"),
    ("供应商索赔台账（财务部）", "finance", "/suppliers/claims"),
    ("供应商", "tq_engineer", "/suppliers/"),
    ("新建供应商", "tq_engineer", "/suppliers/new"),
    ("起草供应商索赔（由案例）", "tq_engineer", lambda s: f"/suppliers/claims/new?case={s.case_id}"),
]


def url_of(entry, site: Site) -> str:
    url = entry[2]
    return url(site) if callable(url) else url
