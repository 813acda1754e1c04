"""A record's change history in the users' words (issue 12): each audit entry of
``Store.history`` becomes lines of label and text (state labels, display names, local times, a
per-clause summary of deadline changes, the case's new timeline entries), never raw JSON or
internal keys; a fine shows its person and amount only to those who may see it
(records/fines/visibility.py), to everyone else ``HIDDEN_TEXT``.

Plain functions over plain data: ``Words`` holds the names the lines need (users, departments,
customers) and the reader; ``describe(entry, words)`` returns the entry's lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from records.cases import timeline as case_timeline
from records.cases import vocab
from records.cases.expenses import label as expense_label
from records.cases.flow import TRANSITIONS
from records.fines.proposals import fine_amount_text
from records.fines.rulings import STATUSES as FINE_STATUSES
from records.fines.visibility import HIDDEN_TEXT, may_see_fine, sees_all_fines
from records.followups.tasks import DONE as FOLLOWUP_DONE
from records.followups.tasks import KIND_NAMES as FOLLOWUP_KINDS
from records.followups.tasks import OPEN as FOLLOWUP_OPEN
from records.followups.tasks import STATUS_NAMES as FOLLOWUP_STATES
from records.service_forms.fields import KINDS as FORM_KINDS
from records.users.roles import ROLES

from .filters import local_dt

# Field names as users know them (GLOSSARY), for the fields of every table and their parts.
FIELDS = {
    "name": "名称", "address": "地址", "distance_km": "路程（公里）", "contacts": "联系人", "remarks": "备注",
    "model": "型号", "serial_no": "产品编号", "customer_id": "顾客单位", "delivery_date": "交付日期",
    "warranty_months": "质保期（月）", "reliability": "可靠性产品", "username": "用户名", "display_name": "姓名",
    "email": "电子邮箱", "roles": "角色", "active": "启用", "number": "案例编号", "type": "类型",
    "state": "状态", "product_id": "产品", "caller_name": "来电人", "caller_phone": "来电电话",
    "channel": "来源渠道", "description": "顾客反映的内容", "received_at": "收到时间", "received_by": "接收人",
    "tq_received_at": "技质部收到时间", "handed_over_by": "传递人", "decision": "解决方案", "quote": "费用报价",
    "dispatch": "派出", "onsite": "现场服务", "report": "书面汇报", "audit": "确认及费用审核",
    "deadlines": "期限", "fines": "处罚建议", "timeline": "经过", "date": "日期", "is_workday": "工作日",
    "reason": "原因", "customer_name": "顾客单位", "product_serial": "产品编号", "outcome": "结果",
    "department_id": "部门", "supervisor": "主管领导", "removed": "已删除",
    "cancellation": "作废/合并", "merged_into": "合并到", "merged_from": "并入的案例", "warranty": "质保",
    "product_label": "产品", "case_id": "案例", "text": "内容", "file": "附件",
    "recorded_by": "登记人", "recorded_at": "登记时间", "unverified": "待核实", "verified": "核实",
    "tq_owner": "技质部负责人", "direct_answer": "接收人直接答复", "reply_assignee": "安排答复人", "reply": "答复",
    "source": "来源", "customer_response": "顾客意见", "vp_approval": "分管副总批准",
    # parts of the case's sections
    "in_warranty": "质保期内", "warranty_label": "质保", "label": "说明", "last_day": "质保截止",
    "misuse": "使用维护不当", "misuse_reason": "使用维护不当的说明", "analysis": "故障分析",
    "participants": "参加分析", "solution": "方案", "guidance": "电话指导", "guidance_solved": "电话指导已解决",
    "decided_by": "决定人", "decided_at": "决定时间", "technicians": "技术人员", "plan": "服务方案",
    "precautions": "注意事项", "form_no": "技术服务单编号", "issued_at": "开具时间", "issued_by": "开具人",
    "departed_at": "出发时间", "arrived_at": "到达时间", "work_done": "处理情况", "completed_at": "完成时间",
    "evaluation": "顾客评价", "rating": "评价", "return_approved_by": "同意返回", "return_approved_at": "同意返回时间",
    "returned_at": "返回公司时间", "returned_by": "返回登记人", "return_unapproved": "未经同意返回",
    "form_outcome": "技术服务单结论", "service_form": "技术服务单内容", "form_version": "技术服务单版本",
    "expenses": "报销费用", "returned_materials": "返回物料", "receipt_no": "收据号", "amount_collected": "收款金额",
    "reported_by": "汇报人", "reported_at": "汇报时间", "fault_found": "故障现象", "cause": "故障原因",
    "parts": "更换零部件", "charge": "服务性质", "amount": "金额", "ratings": "顾客服务质量评价",
    "quality": "服务质量确认意见", "confirmed_by": "确认人", "confirmed_at": "确认时间", "lines": "费用审核",
    "approved": "核准", "approved_total": "核准合计", "service_fee": "服务费", "note": "说明",
    "sent_at": "通知顾客时间", "sent_by": "通知人", "discounted_parts": "零部件优惠价", "accepted": "顾客承担费用",
    "person": "责任人", "responded_at": "答复时间", "recorded": "记录", "by": "办理人", "at": "时间",
    "into": "合并到", "kind": "类别", "period": "周期", "due": "到期", "assignee": "负责工程师", "call": "通话",
    "called_at": "通话时间", "called_by": "回访人", "contact_name": "联系人", "case_number": "案例编号",
    "members": "成员", "phone": "电话", "unit": "顾客单位", "serial": "产品编号", "was": "登记时",
    "unit_text": "登记的顾客单位", "version": "版本", "item": "项目", "quantity": "数量", "condition": "状态",
    "part": "零部件", "unit_price": "单价", "priced_by": "报价人", "category": "类别",
    # a follow-up task and its call (8.1, 8.2)
    "clause": "条款", "period_start": "周期开始", "status": "状态", "created_at": "建立时间",
    "contact_phone": "联系电话", "usage": "使用情况", "needs": "顾客需求", "problems": "反映的问题",
    # 9.3 (issue 17): the fault's classification, the category lists, preventive actions
    "classification": "故障分类", "fault_category": "故障类别", "cause_category": "原因类别", "repeat_fault": "重复故障",
    "repeat_of": "重复于", "final": "最终分类", "entries": "类别", "retired": "已停用", "root_cause": "根本原因",
    "owner": "负责人", "evidence": "完成证据", "verification": "有效性验证",
    "submitted_at": "提交证据时间", "history": "办理记录", "flagged_due": "逾期已提醒",
}
HIDDEN_FIELDS = frozenset({"id", "product_id", "case_id", "caller_phone_digits", "sha256", "key", "notified", "action", "kind_of"})
USER_FIELDS = frozenset({"received_by", "recorded_by", "handed_over_by", "supervisor", "tq_owner", "reply_assignee",
                         "decided_by", "issued_by", "return_approved_by", "returned_by", "reported_by", "confirmed_by",
                         "sent_by", "by", "assignee", "called_by", "priced_by", "recorded", "person", "technicians",
                         "proposed_by", "gm_by", "responsible"})
WORDS = {  # fields whose stored values are keys of a vocabulary
    "state": {**vocab.STATES, **FOLLOWUP_STATES}, "type": vocab.TYPES, "channel": vocab.CHANNELS,
    "solution": vocab.SOLUTIONS, "outcome": vocab.OUTCOMES, "rating": vocab.EVALUATIONS, "charge": vocab.CHARGES,
    "condition": vocab.CONDITIONS, "roles": ROLES, "kind": {**FOLLOWUP_KINDS, **FORM_KINDS},
    "status": {FOLLOWUP_OPEN: "待回访", FOLLOWUP_DONE: "已完成"},  # a follow-up task's stored status
}
ACTIONS = {
    "create": "创建", "update": "修改", "migrate": "数据版本升级", "login": "登录", "logout": "退出登录",
    "login_failed": "登录失败", "login_refused": "拒绝登录", "password_set": "设置密码",
    "password_change_failed": "修改密码失败", "deadlines_recomputed": "重新计算期限",
    "fine_proposed": "提出处罚建议", "service_form_archived": "技术服务单归档",
}
ACTORS = {"cron": "系统（定时任务）", "test": "系统", "system": "系统"}


@dataclass
class Words:
    """The names an entry's lines need, and who reads them (for the fines)."""

    reader: dict
    users: dict[str, str] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)
    customers: dict[int, str] = field(default_factory=dict)
    case: dict | None = None  # the case whose history is read: whose fines an entry speaks of

    def who(self, username) -> str:
        if not username:
            return "—"
        return self.users.get(username) or ACTORS.get(username) or str(username)


def action_label(action: str) -> str:
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return ACTIONS.get(action) or case_timeline.LABELS.get(action) or "其他操作"


def short_time(value) -> str:
    """12-04 17:30, in the company's time zone."""
    return local_dt(value, "%m-%d %H:%M")


def _is_time(value) -> bool:
    if not isinstance(value, str) or len(value) < 16 or value[10:11] != "T":
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def value_text(key: str, value, words: Words) -> str:
    """One stored value as the users read it."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in USER_FIELDS:
        return "、".join(words.who(u) for u in value) if isinstance(value, list) else words.who(value)
    if key == "department_id":
        return words.departments.get(value, "（已删除的部门）")
    if key == "customer_id":
        return words.customers.get(value, "（已删除的顾客单位）")
    if key in WORDS:
        vocabulary = WORDS[key]
        return "、".join(vocabulary.get(v, str(v)) for v in value) if isinstance(value, list) else vocabulary.get(
            value, str(value))
    if isinstance(value, list):
        return "；".join(value_text(key, v, words) for v in value)
    if isinstance(value, dict):
        return item_text(value, words)
    if _is_time(value):
        return local_dt(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def item_text(item: dict, words: Words) -> str:
    """A part of a record (a contact, a part, an expense line, a section) on one line."""
    if "part" in item and "quantity" in item:
        cond = f"（{vocab.CONDITIONS.get(item['condition'], '')}）" if item.get("condition") else ""
        return f"{item['part']} × {value_text('quantity', item['quantity'], words)}{cond}"
    if "item" in item and "amount" in item:
        return f"{expense_label(item)} {value_text('amount', item['amount'], words)} 元"
    if set(item) <= {"name", "phone"}:
        return " ".join(str(item.get(k) or "") for k in ("name", "phone")).strip() or "—"
    if set(vocab.ASPECTS) & set(item):
        return "，".join(f"{label}：{vocab.RATINGS.get(item.get(k), '—')}" for k, label in vocab.ASPECTS.items())
    return "，".join(f"{FIELDS.get(k, '其他')}：{value_text(k, item[k], words)}" for k in _in_order(item)
                    if k not in HIDDEN_FIELDS and not k.startswith("_") and item[k] not in (None, "", [], {}))


def deadline_lines(before, after, words: Words) -> list[str]:
    """Per clause what changed: 「6.2.8 确认及费用审核 到期 12-10 17:30」, met, moved, ended."""
    before, after, out = before or {}, after or {}, []
    for key in list(after) + [k for k in before if k not in after]:
        old, new = before.get(key), after.get(key)
        name = f"{(new or old).get('clause', '')} {vocab.DEADLINE_LABELS.get(key, '期限')}".strip()
        if new is None:
            out.append(f"{name} 不再计算")
            continue
        parts = []
        if old is None or old.get("due") != new.get("due"):
            parts.append(f"到期 {short_time(new.get('due'))}" if old is None or not old.get("due")
                         else f"到期 {short_time(old.get('due'))} → {short_time(new.get('due'))}")
        if new.get("done_at") and (old is None or old.get("done_at") != new.get("done_at")):
            parts.append(f"完成 {short_time(new['done_at'])}")
        if old is not None and old.get("done_at") and not new.get("done_at"):
            parts.append("重新计时")
        if old is not None and old.get("responsible") != new.get("responsible"):
            parts.append(f"责任人 {words.who(old.get('responsible'))} → {words.who(new.get('responsible'))}")
        if parts:
            out.append(f"{name} {'，'.join(parts)}")
    return out


def fine_text(fine: dict, words: Words) -> str:
    """A fine as its reader may see it: clause, person, amount and status, or ``HIDDEN_TEXT``."""
    if not may_see_fine(words.reader, fine):
        return f"{fine.get('clause', '')} {HIDDEN_TEXT}".strip()
    amount = fine_amount_text(fine, final=True)
    person = words.who(fine["person"]) if fine.get("person") else "技质部"
    status = FINE_STATUSES.get(fine.get("status"), "")
    reason = f"：{fine['reason']}" if fine.get("reason") else ""
    return " ".join(x for x in (fine.get("clause", ""), person, amount, status) if x) + reason


def fine_lines(before, after, words: Words) -> list[str]:
    """The fines proposed or ruled by this change (by their keys)."""
    old = {f.get("key") or i: f for i, f in enumerate(before or [])}
    lines = []
    for i, fine in enumerate(after or []):
        if old.get(fine.get("key") or i) != fine:
            lines.append(("新增 " if (fine.get("key") or i) not in old else "") + fine_text(fine, words))
    return lines


def timeline_lines(before, after, words: Words) -> list[str]:
    """The timeline entries this change added (issue 8's kinds), as the case page words them."""
    seen = {repr(e) for e in before or []}
    lines = []
    for e in after or []:
        if repr(e) in seen:
            continue
        kind = case_timeline.kind_of(e)
        head = f"{local_dt(e.get('at'))} {e.get('label') or case_timeline.KINDS.get(kind, '')} · {words.who(e.get('by'))}"
        readable = case_timeline.may_read_entry(e, words.case or {}, words.reader)  # GLOSSARY 处罚: as the case page
        body = [(e.get("text") or "") if readable else HIDDEN_TEXT]
        for c in e.get("changes") or []:
            body.append(f"更正{c.get('label', '')}：{c.get('before') or '（空）'} → {c.get('after') or '（空）'}")
        if e.get("reason"):
            body.append(f"理由：{e['reason']}")
        if e.get("fines"):
            body.append(str(e["fines"]) if sees_all_fines(words.reader) else HIDDEN_TEXT)
        if e.get("other"):
            body.append(f"{'合并到' if kind == 'merge' else '来自'}案例 {e['other'].get('number', '')}")
        if e.get("notified"):
            body.append("已通知：" + "、".join(words.who(u) for u in e["notified"]))
        lines.append(f"{head}：{'；'.join(b for b in body if b)}")
    return lines


def section_lines(key: str, before, after, words: Words) -> list[str]:
    """A section of a record (a dict such as the decision or the dispatch): its changed parts."""
    before, after = before or {}, after or {}
    out = []
    for k in _in_order(list(after) + [k for k in before if k not in after]):
        if k in HIDDEN_FIELDS or k.startswith("_") or before.get(k) == after.get(k):
            continue
        if not before and after.get(k) in (None, "", [], {}):
            continue  # a new section: only what it holds
        label = FIELDS.get(k, "其他")
        old, new = value_text(k, before.get(k), words), value_text(k, after.get(k), words)
        out.append(f"{label}：{new}" if not before else f"{label}：{old} → {new}")
    return out


def change_lines(key: str, before, after, words: Words) -> list[str]:
    """One changed field as lines of text."""
    if key == "deadlines":
        return deadline_lines(before, after, words)
    if key == "fines":
        return fine_lines(before, after, words)
    if key == "timeline":
        return timeline_lines(before, after, words)
    if isinstance(after, dict) and key not in WORDS and not (set(after) <= {"name", "phone"}):
        if isinstance(before, dict) or before is None:
            return section_lines(key, before, after, words) or ["—"]
    old, new = value_text(key, before, words), value_text(key, after, words)
    return [new if before is None else f"{old} → {new}"]


_ORDER = {k: i for i, k in enumerate(FIELDS)}


def _in_order(keys) -> list[str]:
    """Keys in the order of ``FIELDS`` (the order users read a record in), unknown ones last."""
    return sorted(keys, key=lambda k: _ORDER.get(k, len(_ORDER)))


def describe(entry: dict, words: Words) -> list[tuple[str, list[str]]]:
    """An audit entry's changes: (field label, lines) per field the users know, in a stable order."""
    changes = entry.get("changes") or {}
    out = []
    for key in _in_order(changes):
        before, after = changes[key]
        if key in HIDDEN_FIELDS or key.startswith("_") or (key == "customer_id" and "customer_name" in changes):
            continue
        if before is None and after in (None, "", [], {}):
            continue  # a new record: only what it holds
        lines = [line for line in change_lines(key, before, after, words) if line]
        if lines:
            out.append((FIELDS.get(key, "其他"), lines))
    return out
