"""Each record's change history, read from the audit trail, in the users' words."""
from __future__ import annotations

import json

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from records.cases import flow
from records.users.roles import ADMINS, FOLLOWUP_ROLES

from .common import store

bp = Blueprint("history", __name__, url_prefix="/history")

def _anyone(record) -> bool:
    return True


def _case_reader(record) -> bool:
    return flow.may_read(record, current_user.doc)  # the same rule as the case page


def _roles(*roles):
    return lambda record: current_user.has_any(*roles)


# Whose history may be read, and by whom: the same people who may see the record itself.
TABLES = {
    "customers": ("顾客单位", _anyone),
    "products": ("产品", _anyone),
    "calendar_days": ("工作日历调整", _anyone),
    "cases": ("服务案例", _case_reader),
    "followups": ("跟踪回访", _roles(*FOLLOWUP_ROLES)),
    "users": ("用户", _roles(*ADMINS)),
    "departments": ("部门", _roles(*ADMINS)),
}

ACTIONS = {
    "create": "创建", "update": "修改", "migrate": "数据版本升级", "login": "登录", "logout": "退出登录",
    "login_failed": "登录失败", "login_refused": "拒绝登录", "password_set": "设置密码",
    "password_change_failed": "修改密码失败", "deadlines_recomputed": "重新计算期限",
    "fine_proposed": "提出处罚建议", "service_form_archived": "技术服务单归档",
}

# Field names as users know them (GLOSSARY); a field not listed shows its stored name.
FIELDS = {
    "name": "名称", "address": "地址", "distance_km": "路程（公里）", "contacts": "联系人", "remarks": "备注",
    "model": "型号", "serial_no": "产品编号", "customer_id": "顾客单位编号", "delivery_date": "交付日期",
    "warranty_months": "质保期（月）", "reliability": "可靠性产品", "username": "用户名", "display_name": "姓名",
    "email": "电子邮箱", "roles": "角色", "active": "启用", "id": "编号", "number": "案例编号", "type": "类型",
    "state": "状态", "product_id": "产品编号（记录）", "caller_name": "来电人", "caller_phone": "来电电话",
    "channel": "来源渠道", "description": "顾客反映的内容", "received_at": "收到时间", "received_by": "接收人",
    "tq_received_at": "技质部收到时间", "handed_over_by": "传递人", "decision": "处理方案", "quote": "费用报价",
    "dispatch": "派出", "onsite": "现场服务", "report": "书面汇报", "audit": "确认与费用审核",
    "deadlines": "期限", "fines": "处罚建议", "timeline": "处理记录", "date": "日期", "is_workday": "工作日",
    "reason": "原因", "customer_name": "顾客单位", "product_serial": "产品编号", "outcome": "结果",
    "department_id": "部门编号", "supervisor": "主管领导", "removed": "已删除",
    "cancellation": "作废/合并", "merged_into": "合并到", "merged_from": "并入的案例", "warranty": "质保",
    "product_label": "产品", "case_id": "案例编号（记录）", "text": "内容", "file": "附件",
    "recorded_by": "登记人", "recorded_at": "登记时间", "caller_phone_digits": "来电电话（数字）",
    "unverified": "待核实", "verified": "核实",
}


@bp.app_template_filter("audit_value")
def show_value(value) -> str:
    """A stored value as text: 是/否 for flags, JSON (with Chinese as is) for structures."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


@bp.get("/<table>/<int:record_id>")
@login_required
def show(table: str, record_id: int):
    label, may_see = TABLES.get(table, (None, None))
    record = store().get(table, record_id) if label else None
    if record is None or not may_see(record):
        abort(404)  # not 403: whether such a record exists is not for this user to learn
    entries = store().history(table, record_id)
    return render_template("common/history.html", table=table, label=label,
                           record=record, entries=entries, actions=ACTIONS, fields=FIELDS)
