"""The main menu: each entry shows only to the roles that may use it (the server checks too)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user

from records.fines.visibility import ALL_FINES_READERS
from records.materials.claim_flow import READERS as CLAIM_READERS
from records.materials.parts import MENU_ROLES as MATERIALS_ROLES
from records.reports.assessments import MENU_ROLES as ASSESSMENT_ROLES
from records.reports.failure_entries import READERS as COST_READERS
from records.reports.preventive_flow import READERS as PREVENTIVE_READERS
from records.reports.quarterly import READERS as QUARTERLY_READERS
from records.reports.statistics import READERS as STATISTICS_READERS
from records.users import roles


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...] | None = None  # None: every logged-in user
    group: str = ""  # a menu of its own (a dropdown) that holds the entry; "": on the bar itself

    @property
    def prefix(self) -> str:
        return self.endpoint.split(".")[0] + "."


# The menus that gather several entries (section 9's analyses; materials and suppliers; the
# administration), so the bar stays one line at 1200 px.
QUALITY_MENU, MATERIALS_MENU, ADMIN_MENU = "质量", "物料", "管理"

NAV = [
    NavItem("首页", "home.index"),
    NavItem("我的待办", "cases.my_work"),
    NavItem("登记来电", "cases.new"),
    NavItem("查询案例", "lookup.index"),
    NavItem("服务案例", "cases.index", roles.CASE_READERS),
    NavItem("跟踪回访", "followups.index", roles.FOLLOWUP_ROLES),
    NavItem("技术通报", "technical_notices.index", (*roles.TQ_ROLES, "sales", "vp", "gm"), group=QUALITY_MENU),
    NavItem("退回物料", "returns.index", roles.TQ_ROLES, group=MATERIALS_MENU),
    NavItem("考核", "reports.index", ASSESSMENT_ROLES, group=QUALITY_MENU),
    NavItem("预防措施", "preventive.index", PREVENTIVE_READERS, group=QUALITY_MENU),  # 9.3; owners: 我的待办
    NavItem("处罚台账", "fines.index", ALL_FINES_READERS),
    NavItem("外部损失", "costs.index", COST_READERS, group=QUALITY_MENU),
    NavItem("季度报告", "quarterly.index", QUARTERLY_READERS, group=QUALITY_MENU),
    NavItem("质量统计", "statistics.index", STATISTICS_READERS, group=QUALITY_MENU),
    NavItem("故障与原因类别", "categories.index", (roles.TQ_MANAGER,), group=QUALITY_MENU),  # 技质部经理 keeps both lists
    NavItem("物料与库存", "materials.index", MATERIALS_ROLES, group=MATERIALS_MENU),
    NavItem("供应商索赔", "suppliers.claims_index", CLAIM_READERS, group=MATERIALS_MENU),
    NavItem("顾客单位", "customers.index"),
    NavItem("产品", "products.index"),
    NavItem("用户管理", "admin.user_list", roles.ADMINS, group=ADMIN_MENU),
    NavItem("部门", "admin.departments_page", roles.ADMINS, group=ADMIN_MENU),
    NavItem("系统状态", "admin.status", roles.ADMINS, group=ADMIN_MENU),
    NavItem("邮件设置", "notifications.settings", roles.ADMINS, group=ADMIN_MENU),
    NavItem("工作日历", "calendar.year", roles.CALENDAR_EDITORS, group=ADMIN_MENU),
    NavItem("公司参数", "admin.parameters_page", roles.PARAMETER_SETTERS, group=ADMIN_MENU),
]


def nav_items() -> list[dict]:
    """The bar's entries for this user: ``{"label", "url", "active"}``, or for a menu of several
    ``{"label", "children": [entries], "active"}`` at the place of its first entry (a menu with
    one entry for this user is shown as that entry)."""
    if not current_user.is_authenticated:
        return []
    here = request.endpoint or ""
    items = [i for i in NAV if i.endpoint in current_app.view_functions  # area installed
             and (not i.roles or current_user.has_any(*i.roles))]
    # Highlight the entry of this very page, else the area's list page, else its first entry.
    same_area = [i for i in items if here.startswith(i.prefix)]
    active = next((i for i in items if i.endpoint == here), None) or next(
        (i for i in same_area if i.endpoint.endswith(".index")), None) or next(iter(same_area), None)
    entry = {i: {"label": i.label, "url": url_for(i.endpoint), "active": i is active} for i in items}
    sizes = {g: sum(1 for i in items if i.group == g) for g in {i.group for i in items}}
    out, menus = [], {}
    for i in items:
        if not i.group or sizes[i.group] == 1:
            out.append(entry[i])
        elif i.group in menus:
            menus[i.group]["children"].append(entry[i])
            menus[i.group]["active"] |= entry[i]["active"]
        else:
            menus[i.group] = {"label": i.group, "children": [entry[i]], "active": entry[i]["active"]}
            out.append(menus[i.group])
    return out


def init_app(app) -> None:
    app.context_processor(lambda: {"nav_items": nav_items})
