"""What a service case is: its vocabularies and states, the transitions table with who may take
each action (and who may read a case), and the small pure helpers the case modules share.

The state machine (consultation ▸ service request)::

    intake ─▶ awaiting_handover ─handover─▶ awaiting_reply ─reply─▶ closed(answered)
      (a 技质部 user's intake, or a consultation answered directly, skips the hand-over wait)
                                    └──────▶ awaiting_decision ─decide─▶
        phone_guidance: awaiting_guidance_result ─guidance_result─▶ closed | on-site (below)
        onsite_free:    awaiting_dispatch                     (arrival from received_at, 5.1.1.3)
        onsite_paid:    quoting ─quote/price/send_quote─▶ awaiting_customer ─customer_response─▶
                          accepted ▶ awaiting_dispatch   (arrival from the confirmation, 5.2.5)
                          refused  ▶ awaiting_vp ─vp_decision─▶ awaiting_dispatch | closed(refused)
    awaiting_dispatch ─dispatch─▶ on_route ─arrive─▶ on_site ─complete─▶ completed
      ─approve_return─▶ return_approved ─record_return─▶ awaiting_report     (6.2.6)
      (completed ─record_return─▶ awaiting_report: returned without approval → 6.2.6 proposal)
    awaiting_report ─report─▶ awaiting_confirmation ─confirm─▶ closed(completed)   (6.2.7, 6.2.8)
      (the report needs an archived signed 技术服务单, records.service_form, and carries its
       filled fields and the customer's evaluation; 技质部 confirms them at 6.2.8)

Each transition is allowed to certain people (a role, or the case's own receiver / assigned
technicians / reply assignee) and recorded with who and when in ``timeline``. The entry points
that take them are in ``records.cases``; no Flask here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from . import fines, policy
from . import service_form as sf
from .errors import DomainError
from .users import TQ_ROLES
from .worktime import to_local

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
ASPECTS = dict(sf.ASPECTS)  # attitude 服务态度, skill 技术水平, timeliness 及时性, overall 总体评价
RATINGS = dict(sf.RATINGS)  # satisfied 满意, basically 基本满意, unsatisfied 不满意 (= EVALUATIONS)
CHARGES = {"free": "无偿", "paid": "有偿"}  # the form's 服务性质 (keys as records.service_form.CHARGES)
MAX_REPORT_PARTS = sf.MAX_PARTS
# Where a case came from, when not a call to the company: a problem raised on a follow-up call.
SOURCES = {"followup": "跟踪回访"}
CONDITIONS = {"unused": "未使用", "damaged": "损坏品"}
STATES = {
    "awaiting_handover": "待传递技质部",
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
}
DEADLINE_LABELS = {
    "handover": "传递技质部",
    "consult_reply": "答复咨询",
    "decision": "确定解决方案",
    "arrival": "到达现场",
    "report": "书面汇报",
    "confirm": "确认及费用审核",
}


class CaseError(DomainError):
    pass


class NotPermitted(CaseError):
    """The user may not take this action on this case at all (views answer 403)."""


# --- Transitions ----------------------------------------------------------------------------

TQ = tuple(TQ_ROLES)
ANY_STATE = frozenset(STATES)


@dataclass(frozen=True)
class Transition:
    label: str
    states: frozenset[str]
    who: tuple[str, ...]  # roles, or "@receiver" / "@technician" / "@assignee" of this case
    todo: bool = True  # shown in 我的待办 of those who may take it
    extra: bool = False  # not a step of the flow: offered apart (``extra_actions``), any time


TRANSITIONS: dict[str, Transition] = {
    "handover": Transition("传递技质部（6.1.3）", frozenset({"awaiting_handover"}), ("@receiver",) + TQ),
    "assign_reply": Transition("安排其他部门人员答复（6.2.1）", frozenset({"awaiting_reply"}), TQ, todo=False),
    "reply": Transition("答复咨询（6.2.1）", frozenset({"awaiting_reply"}), TQ + ("@assignee",)),
    "decide": Transition("确定解决方案（6.2.2）", frozenset({"awaiting_decision"}), TQ),
    "guidance_result": Transition("记录电话指导结果（6.2.3）", frozenset({"awaiting_guidance_result"}), TQ),
    "quote": Transition("编制费用报价（5.2.3、5.2.4）", frozenset({"quoting"}), TQ),
    "price": Transition("填写备件价格（5.2.4）", frozenset({"quoting"}), ("finance",)),
    "send_quote": Transition("通知顾客费用（5.2.5、6.2.4）", frozenset({"quoting"}), TQ),
    "customer_response": Transition("记录顾客确认/拒绝（6.2.4）", frozenset({"awaiting_customer"}), TQ + ("sales",)),
    "vp_decision": Transition("分管副总审批（6.2.4）", frozenset({"awaiting_vp"}), ("vp",)),
    "dispatch": Transition("派出前安排（6.2.5）", frozenset({"awaiting_dispatch"}), TQ),
    "arrive": Transition("到达现场", frozenset({"on_route"}), ("@technician",)),
    "complete": Transition("维修完毕（6.2.6）", frozenset({"on_site"}), ("@technician",)),
    "approve_return": Transition("同意返回（6.2.6）", frozenset({"completed"}), TQ),
    "record_return": Transition("返回公司（6.2.6）", frozenset({"completed", "return_approved"}), ("@technician",)),
    "report": Transition("书面汇报（6.2.7）", frozenset({"awaiting_report"}), ("@technician",)),
    "confirm": Transition("确认及费用审核（6.2.8）", frozenset({"awaiting_confirmation"}), TQ),
    "rule_fine": Transition("处理处罚建议", ANY_STATE, ("tq_manager",)),
    "gm_rule_fine": Transition("总经理裁定处罚（6.2.8）", ANY_STATE, ("gm",), todo=False),
    "propose_fine": Transition("提出处罚建议（6.1.5、6.2.9）", ANY_STATE, ("tq_manager",), todo=False, extra=True),
}
# Who takes an action, as the case page names them (a role) when no one person does.
ROLE_LABELS = {"tq_engineer": "技质部", "tq_manager": "技质部经理", "finance": "财务部", "sales": "销售部",
               "vp": "分管副总", "gm": "总经理", "technician": "售后服务技术人员", "receiver": "信息接收人"}


def _roles(user: dict) -> set[str]:
    return set(user.get("roles") or ())


def technicians(case: dict) -> list[str]:
    """The usernames of the technicians sent on the case (none before the dispatch)."""
    return (case.get("dispatch") or {}).get("technicians") or []


def is_tq(user: dict) -> bool:
    return bool(_roles(user) & set(TQ_ROLES))


def _fits(case: dict, user: dict, who: str) -> bool:
    name = user.get("username")
    if who == "@receiver":
        return case.get("received_by") == name
    if who == "@technician":
        return "technician" in _roles(user) and name in technicians(case)
    if who == "@assignee":
        return bool(name) and case.get("reply_assignee") == name
    return who in _roles(user)


def may(case: dict, user: dict, action: str) -> bool:
    """Whether the user's role (or part in this case) lets them take ``action``, in any state."""
    t = TRANSITIONS.get(action)
    return t is not None and any(_fits(case, user, w) for w in t.who)


def allowed_actions(case: dict, user: dict) -> list[str]:
    """The actions of the flow the user may take now (role and state), in workflow order."""
    out = []
    for name, t in TRANSITIONS.items():
        if not t.extra and case["state"] in t.states and may(case, user, name) and _guard_ok(case, name):
            out.append(name)
    return out


def extra_actions(case: dict, user: dict) -> list[str]:
    """The actions outside the flow (a manager's own fine proposal) the user may take now."""
    return [name for name, t in TRANSITIONS.items()
            if t.extra and case["state"] in t.states and may(case, user, name) and _guard_ok(case, name)]


def next_steps(case: dict) -> list[dict]:
    """What the case waits for now, and from whom: [{action, label, users, roles}].

    ``users``: usernames of the people who take it (the receiver, the technicians, the
    assignee); ``roles``: Chinese names of the roles that may (技质部, 财务部, …). Re-editing a
    drafted quote is not a step the case waits for; pending fine proposals are.
    """
    if case.get("state") == "closed" and not fines.pending(case):
        return []
    techs = technicians(case)
    out = []
    for name, t in TRANSITIONS.items():
        if not t.todo or t.extra or case["state"] not in t.states or not _guard_ok(case, name):
            continue
        if name == "quote" and case.get("quote"):
            continue
        users, roles = [], []
        for w in t.who:
            if w == "@receiver":
                users.append(case.get("received_by"))
            elif w == "@technician":
                users.extend(techs)
            elif w == "@assignee":
                if case.get("reply_assignee"):
                    users.append(case["reply_assignee"])
            else:
                label = ROLE_LABELS.get(w, w)
                if w in TQ_ROLES and name != "rule_fine":
                    label = "技质部"
                if label not in roles:
                    roles.append(label)
        out.append({"action": name, "label": t.label, "users": [u for u in users if u], "roles": roles})
    return out


def _guard_ok(case: dict, action: str) -> bool:
    """State-internal preconditions, to offer only actions that can succeed."""
    quote = case.get("quote") or {}
    if action == "price":
        return bool(quote.get("parts")) and not quote_priced(case)
    if action == "send_quote":
        return bool(quote) and quote_priced(case)
    if action == "rule_fine":
        return bool(fines.pending(case))
    if action == "gm_rule_fine":
        return bool(case.get("fines"))
    return True


def _guard_message(case: dict, action: str) -> str:
    if action == "price":
        return "报价中没有待定价的备件"
    if action == "send_quote":
        return "请先编制报价，并等财务部填写全部备件价格（5.2.4）"
    if action == "rule_fine":
        return "没有待处理的处罚建议"
    return "当前不能执行该操作"


def todo_actions(case: dict, user: dict) -> list[str]:
    out = []
    for a in allowed_actions(case, user):
        if not TRANSITIONS[a].todo:
            continue
        if a == "handover" and case.get("received_by") != user.get("username"):
            continue  # a 技质部 user may record the receipt, but it is the receiver's duty
        out.append(a)
    return out


# Who may read every case (as the menu): the rest see the cases they take part in.
READERS = ("tq_engineer", "tq_manager", "sales", "finance", "vp", "gm", "technician")


def may_read(case: dict, user: dict) -> bool:
    """Whether the user may see the case (its page, its 技术服务单): a role of READERS reads
    every case; anyone else the cases they take part in, as receiver, reply assignee or one
    of the technicians sent."""
    if _roles(user) & set(READERS):
        return True
    name = user.get("username")
    return bool(name) and (case.get("received_by") == name or case.get("reply_assignee") == name
                           or name in technicians(case))


# --- Small helpers ---------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    """``now`` (naive = local wall-clock time) or the current time, aware, whole seconds."""
    return to_local(now or datetime.now(ZoneInfo(policy.TIMEZONE))).replace(microsecond=0)


def rule_text(rule: policy.Rule) -> str:
    """A Rule's basis in words with its number (a range as "50—500"), for pages and forms."""
    value = rule.value
    n = f"{value[0]}—{value[1]}" if isinstance(value, tuple) and len(value) == 2 else value
    return rule.basis.format(n=n)


def _iso(dt: datetime) -> str:
    return to_local(dt).replace(microsecond=0).isoformat()


def parse_dt(value: str | None) -> datetime | None:
    return to_local(datetime.fromisoformat(value)) if value else None


def _log(case: dict, by: str, now: datetime, action: str, text: str) -> None:
    label = TRANSITIONS[action].label if action in TRANSITIONS else {"intake": "登记来电"}.get(action, action)
    case.setdefault("timeline", []).append({"at": _iso(now), "by": by, "action": action, "label": label, "text": text})


def quote_total(case: dict) -> float | None:
    quote = case.get("quote") or {}
    if not quote:
        return None
    total = float(quote.get("service_fee") or 0)
    for p in quote.get("parts") or []:
        if p.get("unit_price") is None:
            return None
        total += float(p["unit_price"]) * float(p["quantity"])
    return round(total, 2)


def quote_priced(case: dict) -> bool:
    return all(p.get("unit_price") is not None for p in (case.get("quote") or {}).get("parts") or [])


def is_paid(case: dict) -> bool:
    return (case.get("decision") or {}).get("solution") == "onsite_paid"


def collects_fee(case: dict) -> bool:
    """Whether the fee is collected on site (receipt, amount): a paid service whose fee the
    customer accepted; not a free one, nor one the VP approved after the customer refused."""
    return is_paid(case) and bool((case.get("customer_response") or {}).get("accepted"))
