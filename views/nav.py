"""The main menu: each entry shows only to the roles that may use it (the server checks too)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from records.fines.visibility import ALL_FINES_READERS
from records.materials.claim_flow import READERS as CLAIM_READERS
from records.reports.assessments import MENU_ROLES as ASSESSMENT_ROLES
from records.users import roles


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...] | None = None  # None: every logged-in user

    @property
    def prefix(self) -> str:
        return self.endpoint.split(".")[0] + "."


NAV = [
    NavItem("首页", "home.index"),
    NavItem("我的待办", "cases.my_work"),
    NavItem("登记来电", "cases.new"),
    NavItem("查询案例", "lookup.index"),
    NavItem("服务案例", "cases.index", roles.CASE_READERS),
    NavItem("跟踪回访", "followups.index", roles.FOLLOWUP_ROLES),
    NavItem("考核", "reports.index", ASSESSMENT_ROLES),
    NavItem("处罚台账", "fines.index", ALL_FINES_READERS),
    NavItem("供应商索赔", "suppliers.claims_index", CLAIM_READERS),
    NavItem("顾客单位", "customers.index"),
    NavItem("产品", "products.index"),
    NavItem("用户管理", "admin.user_list", roles.ADMINS),
    NavItem("部门", "admin.departments_page", roles.ADMINS),
    NavItem("系统状态", "admin.status", roles.ADMINS),
    NavItem("邮件设置", "notifications.settings", roles.ADMINS),
    NavItem("工作日历", "calendar.year", roles.CALENDAR_EDITORS),
    NavItem("公司参数", "admin.parameters_page", roles.PARAMETER_SETTERS),
]


def nav_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    here = request.endpoint or ""
    items = [i for i in NAV if i.endpoint in current_app.view_functions  # area installed
             and (not i.roles or current_user.has_any(*i.roles))]
    # Highlight the entry of this very page, else the area's list page, else its first entry.
    same_area = [i for i in items if here.startswith(i.prefix)]
    active = next((i for i in items if i.endpoint == here), None) or next(
        (i for i in same_area if i.endpoint.endswith(".index")), None) or next(iter(same_area), None)
    return [{"label": i.label, "url": url_for(i.endpoint), "active": i is active} for i in items]


def init_app(app) -> None:
    app.context_processor(lambda: {"nav_items": nav_items})
