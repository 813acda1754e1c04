"""服务案例: one customer consultation (咨询) or fault report (质量问题) through sections 5 and 6.

A case is one document in table ``cases``; its ``state`` moves by the TRANSITIONS below, each
allowed to certain people (a role, or the case's own receiver / assigned technicians / reply
assignee), each recorded with who and when in ``timeline`` (and in the audit trail by the
store). Deadlines are computed from ``records.deadlines`` with the calendar passed in and stored
in ``deadlines`` (``Deadline.to_dict()`` plus ``done_at`` and ``responsible``); whether one is
overdue is decided when it is read (``deadline_status``). Fine proposals live in ``fines``
(see ``records.fines``).

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

Every function takes ``now`` (tests pin time) and a WorkCalendar ``cal``; no Flask here.
"""
from __future__ import annotations

import math
import time as _time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterator
from zoneinfo import ZoneInfo

from . import deadlines as dl
from . import fines, policy
from . import service_form as sf
from .customers import TABLE as CUSTOMERS
from .deadlines import Deadline
from .errors import DomainError
from .products import TABLE as PRODUCTS
from .products import warranty
from .store import Store, Transaction
from .users import TQ_ROLES
from .worktime import WorkCalendar, to_local

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
# Recomputed from their stored start when the working calendar changes (arrival is clock time).
_WORKING_TIME_DEADLINES: dict[str, Callable[[WorkCalendar, datetime], Deadline]] = {
    "handover": dl.handover_deadline,
    "consult_reply": dl.consult_reply_deadline,
    "decision": dl.decision_deadline,
    "report": dl.report_deadline,
    "confirm": dl.confirm_deadline,
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


def is_tq(user: dict) -> bool:
    return bool(_roles(user) & set(TQ_ROLES))


def _fits(case: dict, user: dict, who: str) -> bool:
    name = user.get("username")
    if who == "@receiver":
        return case.get("received_by") == name
    if who == "@technician":
        return "technician" in _roles(user) and name in ((case.get("dispatch") or {}).get("technicians") or [])
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
    techs = (case.get("dispatch") or {}).get("technicians") or []
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
    if action in ("rule_fine",):
        return bool(fines.pending(case))
    if action == "gm_rule_fine":
        return bool(case.get("fines"))
    return True


def todo_actions(case: dict, user: dict) -> list[str]:
    out = []
    for a in allowed_actions(case, user):
        if not TRANSITIONS[a].todo:
            continue
        if a == "handover" and case.get("received_by") != user.get("username"):
            continue  # a 技质部 user may record the receipt, but it is the receiver's duty
        out.append(a)
    return out


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


def _text(data: dict, field: str, label: str, required: bool = True, max_len: int = 4000) -> str:
    raw = data.get(field)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        raise CaseError(f"请填写{label}", field)
    if len(value) > max_len:
        raise CaseError(f"{label}不能超过 {max_len} 个字", field)
    return value


def _when(data: dict, field: str, label: str, now: datetime, *, not_before: datetime | None = None,
          before_label: str = "", allow_future: bool = False, default_now: bool = False) -> datetime:
    value = data.get(field)
    if value in (None, ""):
        if default_now:
            return now
        raise CaseError(f"请填写{label}", field)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise CaseError(f"{label}格式不正确", field) from None
    if not isinstance(value, datetime):
        raise CaseError(f"{label}格式不正确", field)
    value = to_local(value).replace(microsecond=0)
    if not allow_future and value > now:
        raise CaseError(f"{label}不能晚于当前时间", field)
    # Times are typed to the minute: compare with the earlier step's time to the minute.
    if not_before is not None and value < not_before.replace(second=0):
        raise CaseError(f"{label}不能早于{before_label}（{not_before:%Y-%m-%d %H:%M}）", field)
    if value.year < 2000:
        raise CaseError(f"{label}不合理", field)
    return value


def _money(value, field: str, label: str, required: bool = True) -> float | None:
    if value in (None, ""):
        if required:
            raise CaseError(f"请填写{label}", field)
        return None
    try:
        amount = round(float(value), 2)
    except (TypeError, ValueError):
        raise CaseError(f"{label}必须是数字（元）", field) from None
    if math.isnan(amount) or amount < 0 or amount > 100_000_000:
        raise CaseError(f"{label}必须是不小于 0 的金额", field)
    return amount


def _set_deadline(case: dict, key: str, d: Deadline, responsible: str | None = None, **extra) -> None:
    case.setdefault("deadlines", {})[key] = {**d.to_dict(), "done_at": None, "responsible": responsible, **extra}


def _meet(case: dict, key: str, at: datetime) -> None:
    entry = (case.get("deadlines") or {}).get(key)
    if entry is not None and not entry.get("done_at"):
        entry["done_at"] = _iso(at)


def _log(case: dict, by: str, now: datetime, action: str, text: str) -> None:
    label = TRANSITIONS[action].label if action in TRANSITIONS else {"intake": "登记来电"}.get(action, action)
    case.setdefault("timeline", []).append({"at": _iso(now), "by": by, "action": action, "label": label, "text": text})


def _next_number(tx, prefix: str, year: int, existing: Callable[[], Iterator[str]]) -> str:
    """The next number ``<prefix><year>-0001`` of a yearly series, kept in the counters table."""
    name = f"{prefix}{year}"
    counter = next((c for c in tx.scan(COUNTERS) if c["name"] == name), None)
    if counter is None:
        # First number of the year in this data folder: start after any number already used.
        last = 0
        for number in existing():
            if number and number.startswith(name + "-"):
                try:
                    last = max(last, int(number.rsplit("-", 1)[1]))
                except ValueError:
                    pass
        value = last + 1
        tx.insert(COUNTERS, {"name": name, "value": value})
    else:
        value = counter["value"] + 1
        tx.update(COUNTERS, counter["id"], {"value": value})
    return f"{name}-{value:04d}"


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


def responsible(case: dict, key: str) -> str | None:
    """The username answerable for a deadline (None: 技质部 as a whole)."""
    techs = (case.get("dispatch") or {}).get("technicians") or []
    if key == "handover":
        return case.get("received_by")
    if key == "consult_reply":
        return case.get("reply_assignee") or case.get("tq_owner")
    if key == "arrival":
        return techs[0] if techs else case.get("tq_owner")
    if key == "report":
        return techs[0] if techs else None
    return case.get("tq_owner")  # decision, confirm


# --- Intake (6.1.1, 6.1.2) ---------------------------------------------------------------


def intake(store: Store, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """Record a consultation or service request; any logged-in employee may.

    ``data``: type, customer_id, product_serial (required for a service request), caller_name,
    caller_phone, channel, description, received_at (default now; never in the future),
    answered_directly + direct_answer (consultation only), source (optional: where the case
    came from, e.g. ``{"type": "followup", "id": 7}``, a problem raised on a follow-up call).
    """
    with store.transaction(user["username"]) as tx:
        return intake_tx(tx, cal, data, user, now=now)


def intake_tx(tx: Transaction, cal: WorkCalendar, data: dict, user: dict, now: datetime | None = None) -> dict:
    """``intake`` inside a transaction the caller holds, so that the case commits (or not)
    together with the caller's own changes (a follow-up call and the case it raised)."""
    now = _now(now)
    kind = data.get("type")
    if kind not in TYPES:
        raise CaseError("请选择类型（咨询或质量问题）", "type")
    channel = data.get("channel") or "phone"
    if channel not in CHANNELS:
        raise CaseError("请选择来源渠道", "channel")
    serial = _text(data, "product_serial", "产品编号", required=(kind == "service_request"), max_len=60)
    product = None
    if serial:
        product = next((p for p in tx.scan(PRODUCTS) if p["serial_no"] == serial), None)
        if product is None:
            raise CaseError(f"没有产品编号为 {serial} 的产品", "product_serial")
    try:
        customer_id = int(data.get("customer_id") or 0)
    except (TypeError, ValueError):
        raise CaseError("请选择顾客单位", "customer_id") from None
    if not customer_id and product is not None:
        customer_id = product["customer_id"]  # the caller gave the serial number only: its customer
    if not customer_id:
        raise CaseError("请选择顾客单位（或填写产品编号，由系统带出顾客单位）", "customer_id")
    customer = tx.get(CUSTOMERS, customer_id)
    if customer is None:
        raise CaseError("顾客单位不存在", "customer_id")
    if product is not None:
        if product["customer_id"] != customer_id:
            raise CaseError(f"产品 {serial} 不属于 {customer['name']}", "product_serial")
    caller_name = _text(data, "caller_name", "来电人姓名", max_len=40)
    caller_phone = _text(data, "caller_phone", "来电人电话", max_len=40)
    description = _text(data, "description", "顾客反映的内容")
    received_at = _when(data, "received_at", "收到时间", now, default_now=True)
    answered = bool(data.get("answered_directly"))
    answer = _text(data, "direct_answer", "直接答复的内容", required=answered) if answered else ""
    if answered and kind != "consultation":
        raise CaseError("只有咨询可以由接收人直接答复（6.1.1）", "answered_directly")
    source = _source(tx, data.get("source"))

    by = user["username"]
    tq = is_tq(user)
    case = {
        "type": kind,
        "state": "awaiting_handover",
        "outcome": None,
        "customer_id": customer_id,
        "customer_name": customer["name"],
        "product_id": product["id"] if product else None,
        "product_serial": product["serial_no"] if product else "",
        "product_label": f"{product['model']} {product['name']}" if product else "",
        "caller_name": caller_name,
        "caller_phone": caller_phone,
        "channel": channel,
        "description": description,
        "received_at": _iso(received_at),
        "received_by": by,
        "recorded_at": _iso(now),
        "source": source,
        "tq_received_at": None,
        "handed_over_by": None,
        "tq_owner": by if tq else None,
        "direct_answer": None,
        "reply_assignee": None,
        "reply": None,
        "warranty": None,
        "decision": None,
        "quote": None,
        "customer_response": None,
        "vp_approval": None,
        "dispatch": None,
        "onsite": None,
        "report": None,
        "audit": None,
        "deadlines": {},
        "fines": [],
        "timeline": [],
    }
    if product:
        w = warranty(product, received_at.date())
        case["warranty"] = {"in_warranty": w.in_warranty, "last_day": w.last_day.isoformat(), "label": w.label}
    _set_deadline(case, "handover", dl.handover_deadline(cal, received_at), by)
    if kind == "consultation":
        _set_deadline(case, "consult_reply", dl.consult_reply_deadline(cal, received_at))
    parts = [f"{TYPES[kind]}，{CHANNELS[channel]}，{customer['name']}，{caller_name} {caller_phone}"]
    if source:
        parts.append(f"来自{SOURCES[source['type']]} #{source['id']}" + (f"（{source['label']}）" if source["label"] else ""))
    if answered:
        case["direct_answer"] = {"text": answer, "by": by, "at": _iso(received_at)}
        _meet(case, "consult_reply", received_at)
        parts.append("接收人已直接答复")
    _log(case, by, now, "intake", "；".join(parts))
    if tq:  # a 技质部 user's intake is handed over at once (6.1.3)
        _handover_into(case, cal, by, received_at, now, automatic=True)
    case["number"] = _next_number(tx, "FW", received_at.year, lambda: (c.get("number") for c in tx.scan(TABLE)))
    return tx.insert(TABLE, case)


def _source(tx: Transaction, value) -> dict | None:
    """The checked ``source`` of an intake: {type, id, label} or None."""
    if not value:
        return None
    if not isinstance(value, dict) or value.get("type") not in SOURCES:
        raise CaseError("案例来源不正确", "source")
    try:
        source_id = int(value.get("id"))
    except (TypeError, ValueError):
        raise CaseError("案例来源不正确", "source") from None
    if value["type"] == "followup":
        from .followups import TABLE as FOLLOWUPS  # late: followups imports this module lazily too
        if tx.get(FOLLOWUPS, source_id) is None:
            raise CaseError(f"回访任务 #{source_id} 不存在", "source")
    label = " ".join(str(value.get("label") or "").split())[:200]
    return {"type": value["type"], "id": source_id, "label": label}


def _handover_into(case: dict, cal: WorkCalendar, by: str, at: datetime, now: datetime, automatic=False):
    case["tq_received_at"] = _iso(at)
    case["handed_over_by"] = case["received_by"] if automatic else by
    _meet(case, "handover", at)
    if case["type"] == "consultation":
        if case.get("direct_answer"):
            case["state"] = "closed"
            case["outcome"] = "answered"
        else:
            case["state"] = "awaiting_reply"
    else:
        case["state"] = "awaiting_decision"
        _set_deadline(case, "decision", dl.decision_deadline(cal, at))
    text = "技质部接收人登记，即时传递" if automatic else "已传递技质部"
    if case["state"] == "closed":
        text += "；接收人已直接答复，技质部已记录，结案"
    _log(case, by, now, "handover", text)


# --- The actions after intake ------------------------------------------------------------


def _do_handover(case, user, data, cal, now, store):
    by = user["username"]
    if is_tq(user) and not case.get("tq_owner"):
        case["tq_owner"] = by
    entry = case["deadlines"]["handover"]
    late = now > parse_dt(entry["due"])
    _handover_into(case, cal, by, now, now)
    if late:
        fines.add_proposal(case, "handover", policy.FINE_HANDOVER_LATE, case["received_by"], now, by=by)
        case["timeline"][-1]["text"] += (f"（超过 {policy.HANDOVER.value} 个工作小时，"
                                         f"已提出 {policy.FINE_HANDOVER_LATE.clause} 处罚建议）")


def _do_assign_reply(case, user, data, cal, now, store):
    from .users import find_by_username
    name = _text(data, "assignee", "答复人", max_len=40)
    other = find_by_username(store, name)
    if other is None or not other.get("active", True):
        raise CaseError(f"没有可用的用户 {name}", "assignee")
    case["reply_assignee"] = other["username"]
    case["deadlines"]["consult_reply"]["responsible"] = other["username"]
    _log(case, user["username"], now, "assign_reply", f"安排 {other.get('display_name') or name} 答复")


def _do_reply(case, user, data, cal, now, store):
    text = _text(data, "answer", "答复内容")
    by = user["username"]
    case["reply"] = {"text": text, "by": by, "at": _iso(now), "recorded_by": by}
    _meet(case, "consult_reply", now)
    case["state"], case["outcome"] = "closed", "answered"
    _log(case, by, now, "reply", f"已答复：{text}")


def _arrival_from(case: dict, start: datetime, store: Store) -> None:
    customer = store.get(CUSTOMERS, case["customer_id"]) or {}
    km = float(customer.get("distance_km") or 0)
    _set_deadline(case, "arrival", dl.dispatch_deadline(start, km), case.get("tq_owner"), distance_km=km)


def _go_onsite(case: dict, now: datetime, store: Store) -> None:
    """After the decision (or failed phone guidance): free → dispatch, paid → quote."""
    d = case["decision"]
    if d["solution"] == "onsite_free":
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, parse_dt(case["received_at"]), store)  # in warranty: from receipt
    else:
        case["state"] = "quoting"


def _check_solution(case: dict, solution: str, misuse: bool) -> None:
    in_w = bool((case.get("warranty") or {}).get("in_warranty"))
    if solution == "onsite_free" and (not in_w or misuse):
        raise CaseError("质保期外或使用维护不当的现场服务为有偿服务（5.1.1.2、5.2.3）", "solution")
    if solution == "onsite_paid" and in_w and not misuse:
        raise CaseError("质保期内且非使用维护不当，现场服务应免费（5.1.1.1）", "solution")


def _do_decide(case, user, data, cal, now, store):
    by = user["username"]
    solution = data.get("solution")
    if solution not in SOLUTIONS:
        raise CaseError("请选择解决方案", "solution")
    misuse = bool(data.get("misuse"))
    misuse_reason = _text(data, "misuse_reason", "使用维护不当的理由", required=misuse)
    analysis = _text(data, "analysis", "故障分析")
    participants = _text(data, "participants", "参加分析人员", required=False, max_len=400)
    guidance = _text(data, "guidance", "电话指导内容", required=(solution == "phone_guidance"))
    w = case.get("warranty") or {}
    if not w:
        raise CaseError("该案例没有产品，无法判定质保期", "solution")
    if solution != "phone_guidance":
        _check_solution(case, solution, misuse)
    case["tq_owner"] = case.get("tq_owner") or by
    case["decision"] = {
        "in_warranty": bool(w.get("in_warranty")), "warranty_label": w.get("label", ""),
        "misuse": misuse, "misuse_reason": misuse_reason if misuse else "",
        "analysis": analysis, "participants": participants, "solution": solution,
        "guidance": guidance if solution == "phone_guidance" else "", "guidance_solved": None,
        "decided_by": by, "decided_at": _iso(now),
    }
    _meet(case, "decision", now)
    text = f"{w.get('label', '')}{'，使用维护不当：' + misuse_reason if misuse else ''}；方案：{SOLUTIONS[solution]}"
    _log(case, by, now, "decide", text)
    if solution == "phone_guidance":
        case["state"] = "awaiting_guidance_result"
    else:
        _go_onsite(case, now, store)


def _do_guidance_result(case, user, data, cal, now, store):
    by = user["username"]
    d = case["decision"]
    if data.get("solved"):
        d["guidance_solved"] = True
        case["state"], case["outcome"] = "closed", "guidance_solved"
        _log(case, by, now, "guidance_result", "电话指导已解决故障，结案")
        return
    in_w = d["in_warranty"] and not d["misuse"]
    d["guidance_solved"] = False
    d["solution"] = "onsite_free" if in_w else "onsite_paid"
    _log(case, by, now, "guidance_result", f"电话指导未能解决，转{SOLUTIONS[d['solution']]}")
    _go_onsite(case, now, store)


def _lines(data: dict, field: str) -> list[dict]:
    return [row for row in (data.get(field) or []) if any(str(v or "").strip() for v in row.values())]


def _do_quote(case, user, data, cal, now, store):
    by = user["username"]
    fee = _money(data.get("service_fee"), "service_fee", "服务费")
    parts = []
    for row in _lines(data, "parts"):
        name = _text(row, "part", "备件名称", max_len=100)
        try:
            qty = int(row.get("quantity"))
        except (TypeError, ValueError):
            raise CaseError(f"备件 {name} 的数量必须是正整数", "parts") from None
        if qty <= 0:
            raise CaseError(f"备件 {name} 的数量必须是正整数", "parts")
        parts.append({"part": name, "quantity": qty, "unit_price": None, "priced_by": None, "priced_at": None})
    note = _text(data, "note", "报价说明", required=False)
    misuse = bool((case.get("decision") or {}).get("misuse"))
    case["quote"] = {"service_fee": fee, "parts": parts, "note": note, "discounted_parts": misuse,
                     "drafted_by": by, "drafted_at": _iso(now), "sent_by": None, "sent_at": None}
    _log(case, by, now, "quote", f"服务费 {fee:.2f} 元，备件 {len(parts)} 项" + ("，待财务部报价" if parts else ""))


def _do_price(case, user, data, cal, now, store):
    by = user["username"]
    parts = case["quote"]["parts"]
    prices = data.get("prices") or []
    if len(prices) != len(parts):
        raise CaseError("备件价格的行数与报价不符，请刷新页面", "prices")
    for p, price in zip(parts, prices):
        p["unit_price"] = _money(price, "prices", f"备件 {p['part']} 的单价")
        p["priced_by"], p["priced_at"] = by, _iso(now)
    _log(case, by, now, "price", "；".join(f"{p['part']} {p['unit_price']:.2f} 元" for p in parts))


def _do_send_quote(case, user, data, cal, now, store):
    by = user["username"]
    q = case["quote"]
    q["sent_by"], q["sent_at"], q["total"] = by, _iso(now), quote_total(case)
    case["state"] = "awaiting_customer"
    _log(case, by, now, "send_quote", f"已将解决方案和费用通知顾客，合计 {q['total']:.2f} 元")


def _do_customer_response(case, user, data, cal, now, store):
    by = user["username"]
    accepted = data.get("accepted")
    if accepted not in (True, False, "yes", "no"):
        raise CaseError("请选择顾客确认或拒绝", "accepted")
    accepted = accepted in (True, "yes")
    sent = parse_dt(case["quote"]["sent_at"])
    at = _when(data, "responded_at", "顾客答复时间", now, not_before=sent, before_label="通知费用的时间")
    person = _text(data, "person", "顾客方答复人", max_len=40)
    note = _text(data, "note", "备注", required=False)
    case["customer_response"] = {"accepted": accepted, "responded_at": _iso(at), "person": person,
                                 "note": note, "recorded_by": by, "recorded_at": _iso(now)}
    if accepted:
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, at, store)  # 5.2.5: from the confirmation
        _log(case, by, now, "customer_response", f"{person} 确认承担费用（{at:%Y-%m-%d %H:%M}）")
    else:
        case["state"] = "awaiting_vp"
        _log(case, by, now, "customer_response", f"{person} 拒绝承担费用（{at:%Y-%m-%d %H:%M}），报分管副总")


def _do_vp_decision(case, user, data, cal, now, store):
    by = user["username"]
    approved = data.get("approved")
    if approved not in (True, False, "yes", "no"):
        raise CaseError("请选择批准或不批准", "approved")
    approved = approved in (True, "yes")
    reason = _text(data, "reason", "审批意见")
    case["vp_approval"] = {"approved": approved, "by": by, "at": _iso(now), "reason": reason}
    if approved:
        case["state"] = "awaiting_dispatch"
        _arrival_from(case, now, store)  # 6.2.4: from the approval
        _log(case, by, now, "vp_decision", f"批准提供售后服务：{reason}")
    else:
        case["state"], case["outcome"] = "closed", "refused"
        _log(case, by, now, "vp_decision", f"不批准，结案：{reason}")


def _do_dispatch(case, user, data, cal, now, store):
    from .users import find_by_username
    by = user["username"]
    names = [n for n in (data.get("technicians") or []) if n]
    if not names:
        raise CaseError("请选择至少一名售后服务技术人员", "technicians")
    techs = []
    for n in names:
        u = find_by_username(store, n)
        if u is None or "technician" not in u.get("roles", []) or not u.get("active", True):
            raise CaseError(f"{n} 不是在岗的售后服务技术人员", "technicians")
        techs.append(u["username"])
    plan = _text(data, "plan", "告知顾客的服务方案")
    precautions = _text(data, "precautions", "告知技术人员的注意事项")
    departed = _when(data, "departed_at", "出发时间", now, allow_future=True, default_now=True)
    case["dispatch"] = {"technicians": techs, "plan": plan, "precautions": precautions,
                        "form_no": None, "issued_at": _iso(now), "issued_by": by, "departed_at": _iso(departed)}
    case["tq_owner"] = case.get("tq_owner") or by
    if "arrival" in case["deadlines"]:
        case["deadlines"]["arrival"]["responsible"] = techs[0]
    case["state"] = "on_route"
    # The form number is given inside the transaction (see perform: needs the counters table).
    shown = "、".join((find_by_username(store, t) or {}).get("display_name") or t for t in techs)
    _log(case, by, now, "dispatch", f"派出 {shown}，出发 {departed:%Y-%m-%d %H:%M}")


def _do_arrive(case, user, data, cal, now, store):
    by = user["username"]
    departed = parse_dt(case["dispatch"]["departed_at"])
    at = _when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    case["onsite"] = {"arrived_at": _iso(at), "work_done": "", "completed_at": None, "evaluation": None,
                      "return_approved_by": None, "return_approved_at": None, "returned_at": None,
                      "returned_by": None, "return_unapproved": False}
    _meet(case, "arrival", at)
    entry = case["deadlines"].get("arrival")
    late = entry is not None and at > parse_dt(entry["due"])
    case["state"] = "on_site"
    _log(case, by, now, "arrive", f"到达现场 {at:%Y-%m-%d %H:%M}" + ("（超过 5.1.1.3 时限）" if late else ""))


def _do_complete(case, user, data, cal, now, store):
    by = user["username"]
    arrived = parse_dt(case["onsite"]["arrived_at"])
    work = _text(data, "work_done", "完成的工作")
    at = _when(data, "completed_at", "完成时间", now, not_before=arrived, before_label="到达时间")
    rating = data.get("evaluation") or ""
    if rating and rating not in EVALUATIONS:
        raise CaseError("请选择顾客评价", "evaluation")
    remarks = _text(data, "evaluation_remarks", "顾客评价意见", required=False, max_len=1000)
    case["onsite"].update(work_done=work, completed_at=_iso(at),
                          evaluation={"rating": rating, "remarks": remarks} if rating else None)
    case["state"] = "completed"
    _log(case, by, now, "complete", f"维修完毕 {at:%Y-%m-%d %H:%M}：{work}")


def _do_approve_return(case, user, data, cal, now, store):
    by = user["username"]
    case["onsite"].update(return_approved_by=by, return_approved_at=_iso(now))
    case["state"] = "return_approved"
    note = _text(data, "note", "备注", required=False)
    _log(case, by, now, "approve_return", "技质部确认、同意返回" + (f"：{note}" if note else ""))


def _do_record_return(case, user, data, cal, now, store):
    by = user["username"]
    completed = parse_dt(case["onsite"]["completed_at"])
    at = _when(data, "returned_at", "返回公司时间", now, not_before=completed, before_label="完成时间")
    approved = case["state"] == "return_approved"
    case["onsite"].update(returned_at=_iso(at), returned_by=by, return_unapproved=not approved)
    _set_deadline(case, "report", dl.report_deadline(cal, at), case["dispatch"]["technicians"][0])
    case["state"] = "awaiting_report"
    text = f"返回公司 {at:%Y-%m-%d %H:%M}"
    if not approved:
        fines.add_proposal(case, "return_unapproved", policy.FINE_RETURN_UNAPPROVED, by, now, by=by)
        text += "（未经技质部同意返回，已提出 6.2.6 处罚建议，金额由技质部经理确定）"
    _log(case, by, now, "record_return", text)


FORM_NOT_ARCHIVED = ("尚未归档签字的《技术服务单》：请先上传顾客签字或盖章的纸质表单扫描件，或在平板上现场签署，"
                     "归档后再提交书面汇报（6.2.7：《技术服务单》随书面汇报交技质部）")


def _quantity(value, label: str, field: str) -> int:
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise CaseError(f"{label}的数量必须是正整数", field) from None
    if qty <= 0 or qty > 99_999:
        raise CaseError(f"{label}的数量必须是正整数", field)
    return qty


def _row_text(row: dict, key: str, label: str, field: str, max_len: int = 100) -> str:
    """A text cell of a table row (parts, expenses, materials); a refusal names the table."""
    try:
        return _text(row, key, label, max_len=max_len)
    except CaseError as exc:
        raise CaseError(str(exc), field) from None


def _service_form_fields(case: dict, data: dict, now: datetime) -> dict:
    """The filled fields and the customer's evaluation of the 技术服务单, as entered (6.2.6)."""
    departed = parse_dt(case["dispatch"]["departed_at"])
    arrived = _when(data, "arrived_at", "到达时间", now, not_before=departed, before_label="出发时间")
    completed = _when(data, "completed_at", "完成时间", now, not_before=arrived, before_label="到达时间")
    returned = parse_dt((case.get("onsite") or {}).get("returned_at"))
    if returned is not None and completed.replace(second=0) > returned:
        raise CaseError(f"完成时间不能晚于返回公司时间（{returned:%Y-%m-%d %H:%M}）", "completed_at")
    fault_found = _text(data, "fault_found", "故障现象", max_len=1000)
    cause = _text(data, "cause", "故障原因", max_len=1000)
    work_done = _text(data, "work_done", "处理情况", max_len=2000)
    parts = []
    for row in _lines(data, "parts"):
        name = _row_text(row, "part", "更换零部件名称", "parts")
        parts.append({"part": name, "quantity": _quantity(row.get("quantity"), f"更换零部件 {name} ", "parts")})
    if len(parts) > MAX_REPORT_PARTS:
        raise CaseError(f"更换零部件最多 {MAX_REPORT_PARTS} 项", "parts")
    charge = data.get("charge")
    if charge not in CHARGES:
        raise CaseError("请选择有偿或无偿（按技术服务单）", "charge")
    amount = _money(data.get("amount"), "amount", "收费金额", required=(charge == "paid"))
    ratings = data.get("ratings") or {}
    if not isinstance(ratings, dict):
        raise CaseError("顾客评价格式不正确", "ratings")
    checked = {}
    for key, label in ASPECTS.items():
        value = ratings.get(key)
        if value not in RATINGS:
            raise CaseError(f"请选择顾客对「{label}」的评价（按技术服务单）", key)
        checked[key] = value
    remarks = _text(data, "remarks", "顾客意见与建议", required=False, max_len=1000)
    return {"arrived_at": _iso(arrived), "completed_at": _iso(completed), "fault_found": fault_found,
            "cause": cause, "work_done": work_done, "parts": parts, "charge": charge,
            "amount": amount if charge == "paid" else None, "ratings": checked, "remarks": remarks}


def _do_report(case, user, data, cal, now, store):
    by = user["username"]
    # 6.2.7: the 技术服务单 is handed in with the report: its signed version must be archived.
    latest = sf.latest_version(store, case["id"])
    if latest is None:
        raise CaseError(FORM_NOT_ARCHIVED)
    filled = _service_form_fields(case, data, now)
    text = _text(data, "text", "书面汇报")
    outcome = _text(data, "form_outcome", "技术服务单结论", required=False, max_len=1000)
    expenses = []
    for row in _lines(data, "expenses"):
        item = _row_text(row, "item", "费用项目", "expenses")
        expenses.append({"item": item, "amount": _money(row.get("amount"), "expenses", f"费用 {item} 的金额")})
    materials = []
    for row in _lines(data, "returned_materials"):
        part = _row_text(row, "part", "返回物料名称", "returned_materials")
        qty = _quantity(row.get("quantity"), f"返回物料 {part} ", "returned_materials")
        cond = row.get("condition")
        if cond not in CONDITIONS:
            raise CaseError(f"请选择返回物料 {part} 是未使用还是损坏品", "returned_materials")
        materials.append({"part": part, "quantity": qty, "condition": cond})
    collect = is_paid(case) and bool((case.get("customer_response") or {}).get("accepted"))
    receipt = _text(data, "receipt_no", "收款收据号", required=collect, max_len=60)
    amount = _money(data.get("amount_collected"), "amount_collected", "收款金额", required=collect)
    case["report"] = {"text": text, "form_outcome": outcome, "service_form": filled,
                      "form_version": {"id": latest["id"], "version": latest["version"], "kind": latest["kind"],
                                       "form_no": latest.get("form_no"), "sha256": latest["sha256"]},
                      "expenses": expenses, "returned_materials": materials, "receipt_no": receipt,
                      "amount_collected": amount, "reported_by": by, "reported_at": _iso(now)}
    _meet(case, "report", now)
    _set_deadline(case, "confirm", dl.confirm_deadline(cal, now), case.get("tq_owner"))
    case["state"] = "awaiting_confirmation"
    total = sum(e["amount"] for e in expenses)
    _log(case, by, now, "report",
         f"书面汇报（技术服务单第 {latest['version']} 版），顾客总体评价：{RATINGS[filled['ratings']['overall']]}，"
         f"报销 {total:.2f} 元，返回物料 {len(materials)} 项")


def _form_time(value) -> datetime | None:
    """A time as the tablet form keeps it ("2026-03-03 10:20", local) or an ISO one."""
    if not value:
        return None
    try:
        return to_local(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def report_prefill(store: Store, case: dict) -> dict:
    """What the report form starts with (the fields as ``perform("report")`` takes them).

    From the on-site steps (arrival, completion, work done, the quick evaluation), the quote
    (paid or free, the amount), and, when the latest archived version of the 技术服务单 was
    signed on the tablet, from the fields and ratings filled there, which win. ``source``
    names that version, or is None.
    """
    onsite = case.get("onsite") or {}
    collect = is_paid(case) and bool((case.get("customer_response") or {}).get("accepted"))
    quick = (onsite.get("evaluation") or {})
    out = {
        "arrived_at": parse_dt(onsite.get("arrived_at")),
        "completed_at": parse_dt(onsite.get("completed_at")),
        "fault_found": "", "cause": "", "work_done": onsite.get("work_done") or "", "parts": [],
        "charge": "paid" if collect else "free",
        "amount": ((case.get("quote") or {}).get("total") if collect else None),
        "ratings": {"overall": quick["rating"]} if quick.get("rating") in RATINGS else {},
        "remarks": quick.get("remarks") or "",
        "source": None,
    }
    latest = sf.latest_version(store, case["id"])
    fields = (latest or {}).get("fields") or {}
    if not fields:
        return out
    for key in ("arrived_at", "completed_at"):
        out[key] = _form_time(fields.get(key)) or out[key]
    for key in ("fault_found", "cause", "work_done", "remarks"):
        if str(fields.get(key) or "").strip():
            out[key] = str(fields[key]).strip()
    parts = []
    for p in fields.get("parts") or []:
        name = " ".join(x for x in (str(p.get("name") or "").strip(), str(p.get("spec") or "").strip()) if x)
        if name:
            parts.append({"part": name, "quantity": p.get("qty") or ""})
    if parts:
        out["parts"] = parts
    if fields.get("charge") in CHARGES:
        out["charge"] = fields["charge"]
        try:
            out["amount"] = float(fields.get("amount")) if fields["charge"] == "paid" else None
        except (TypeError, ValueError):
            out["amount"] = None
    ratings = {k: v for k, v in (fields.get("ratings") or {}).items() if k in ASPECTS and v in RATINGS}
    if ratings:
        out["ratings"] = ratings
    out["source"] = {"id": latest["id"], "version": latest["version"], "kind": latest["kind"]}
    return out


def _do_confirm(case, user, data, cal, now, store):
    by = user["username"]
    quality = _text(data, "quality", "服务质量及顾客评价确认意见")
    claimed = case["report"]["expenses"]
    rows = data.get("lines") or []
    if len(rows) != len(claimed):
        raise CaseError("审核行数与报销单不符，请刷新页面", "lines")
    lines = []
    for e, row in zip(claimed, rows):
        approved = _money(row.get("approved"), "lines", f"{e['item']} 的核准金额", required=False)
        approved = e["amount"] if approved is None else approved
        reason = _text(row, "reason", f"{e['item']} 的调整理由", required=(approved != e["amount"]), max_len=400)
        lines.append({"item": e["item"], "claimed": e["amount"], "approved": approved, "reason": reason})
    case["tq_owner"] = case.get("tq_owner") or by
    case["audit"] = {"quality": quality, "confirmed_by": by, "confirmed_at": _iso(now), "lines": lines,
                     "approved_total": round(sum(x["approved"] for x in lines), 2)}
    entry = case["deadlines"]["confirm"]
    n = fines.confirm_late_proposals(case, cal, Deadline.from_dict(entry), now, responsible(case, "confirm"), now, by=by)
    _meet(case, "confirm", now)
    case["state"], case["outcome"] = "closed", "completed"
    text = f"确认服务质量，费用核准 {case['audit']['approved_total']:.2f} 元，结案"
    if n:
        text += f"（逾期，已提出 6.2.8 处罚建议 {n} 条）"
    _log(case, by, now, "confirm", text)


def _person_name(store: Store, username: str | None) -> str:
    from .users import find_by_username
    if not username:
        return "技质部"
    return (find_by_username(store, username) or {}).get("display_name") or username


def _do_rule_fine(case, user, data, cal, now, store):
    f = fines.rule(case, data.get("key") or "", data.get("decision") or "", data.get("amount"),
                   data.get("reason") or "", user["username"], now)
    _log(case, user["username"], now, "rule_fine",
         f"{f['clause']} {_person_name(store, f['person'])}：{fines.STATUSES[f['status']]} {f['final_amount']} 元，{f['reason']}")


def _do_gm_rule_fine(case, user, data, cal, now, store):
    f = fines.gm_rule(case, data.get("key") or "", data.get("amount"), data.get("reason") or "",
                      user["username"], now)
    _log(case, user["username"], now, "gm_rule_fine",
         f"{f['clause']} {_person_name(store, f['person'])}：总经理裁定 {f['final_amount']} 元，{f['gm_reason']}")


def _do_propose_fine(case, user, data, cal, now, store):
    """A tq_manager's own proposal: 6.1.5 (unclear record, 50 元 per item) or 6.2.9 (false form)."""
    from .users import find_by_username
    kind = data.get("kind") or ""
    name = (data.get("person") or "").strip()
    if kind not in fines.MANUAL:
        raise CaseError("请选择处罚条款（6.1.5 或 6.2.9）", "kind")
    if not name:
        raise CaseError("请选择责任人", "person")
    person = find_by_username(store, name)
    if person is None:
        raise CaseError(f"没有用户 {name}", "person")
    if kind == "falsified_form":
        d = case.get("dispatch") or {}
        if not d.get("form_no"):
            raise CaseError("该案例尚未开具技术服务单，不能按 6.2.9 提出处罚建议", "kind")
        if person["username"] not in (d.get("technicians") or []):
            raise CaseError("6.2.9 的责任人应是派往该案例、填报技术服务单的售后服务技术人员", "person")
    f = fines.add_manual(case, kind, person["username"], data.get("facts") or "", now, user["username"],
                         items=data.get("items") or 1)
    amount = f"{f['amount']} 元" if f["amount"] is not None else f"{f['range'][0]}—{f['range'][1]} 元（由技质部经理确定）"
    _log(case, user["username"], now, "propose_fine",
         f"{f['clause']} {person.get('display_name') or person['username']}：{amount}；{f['facts']}")


_HANDLERS = {name: globals()[f"_do_{name}"] for name in TRANSITIONS}


def perform(store: Store, cal: WorkCalendar, case_id: int, action: str, user: dict, data: dict | None = None,
            expect_rev: int | None = None, now: datetime | None = None) -> dict:
    """Take one workflow action on a case; return the updated case.

    Raises NotPermitted (the user's role or part forbids it: 403), CaseError (not allowed in
    the current state, or bad input, with the field), StaleRecord (``expect_rev`` is not the
    stored revision: someone else changed the case first; nothing is applied).
    """
    from .store import StaleRecord

    if action not in TRANSITIONS:
        raise CaseError(f"未知操作：{action}")
    t = TRANSITIONS[action]
    now = _now(now)
    data = data or {}
    with store.transaction(user["username"]) as tx:
        case = tx.require(TABLE, case_id)
        if expect_rev is not None and int(expect_rev) != case["_rev"]:
            raise StaleRecord(TABLE, case_id, int(expect_rev), case["_rev"])
        if not may(case, user, action):
            raise NotPermitted(f"您无权执行「{t.label}」")
        if case["state"] not in t.states:
            raise CaseError(f"案例当前状态为「{STATES[case['state']]}」，不能执行「{t.label}」")
        if not _guard_ok(case, action):
            raise CaseError(_guard_message(case, action))
        _HANDLERS[action](case, user, data, cal, now, store)
        if action == "dispatch":
            case["dispatch"]["form_no"] = _next_number(
                tx, "JF", now.year, lambda: ((c.get("dispatch") or {}).get("form_no") for c in tx.scan(TABLE)))
            case["timeline"][-1]["text"] += f"，技术服务单 {case['dispatch']['form_no']}"
        return tx.update(TABLE, case_id, case, expect_rev=case["_rev"], action=action, note=t.label)


def _guard_message(case: dict, action: str) -> str:
    if action == "price":
        return "报价中没有待定价的备件"
    if action == "send_quote":
        return "请先编制报价，并等财务部填写全部备件价格（5.2.4）"
    if action == "rule_fine":
        return "没有待处理的处罚建议"
    return "当前不能执行该操作"


# --- Deadlines at read time ----------------------------------------------------------------


def open_deadlines(case: dict) -> list[tuple[str, Deadline]]:
    """(key, Deadline) of every deadline not yet met, earliest due first."""
    if case.get("state") == "closed":
        return []
    out = [(k, Deadline.from_dict(v)) for k, v in (case.get("deadlines") or {}).items() if not v.get("done_at")]
    return sorted(out, key=lambda kv: kv[1].due)


def deadline_status(entry: dict, cal: WorkCalendar, now: datetime) -> str:
    """"met" | "met_late" | "overdue" | "soon" (within WARN_WITHIN_WORKING_HOURS) | "open"."""
    d = Deadline.from_dict(entry)
    if entry.get("done_at"):
        return "met" if parse_dt(entry["done_at"]) <= d.due else "met_late"
    if d.is_overdue(now):
        return "overdue"
    left = d.clock_hours_left(now) if d.clause == policy.DISPATCH.clause else d.working_hours_left(cal, now)
    return "soon" if left <= policy.WARN_WITHIN_WORKING_HOURS else "open"


def time_left(entry: dict, cal: WorkCalendar, now: datetime) -> str:
    """How long until an open deadline is due, or how late it is, in words ("" once met).

    5.1.1.3 counts clock hours; every other deadline working hours (GLOSSARY).
    """
    if entry.get("done_at"):
        return ""
    d = Deadline.from_dict(entry)
    clock = d.clause == policy.DISPATCH.clause
    hours = d.clock_hours_left(now) if clock else d.working_hours_left(cal, now)
    amount = abs(hours)
    text = (f"{amount:.0f}" if amount >= 10 else f"{amount:.1f}".rstrip("0").rstrip(".")) + (" 小时" if clock else " 工作小时")
    day = sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds
              for a, b in policy.WORK_PERIODS) / 3600  # working hours in a full working day
    if not clock and amount >= day:
        text += f"（约 {amount / day:.0f} 个工作日）"
    elif clock and amount >= 24:
        text += f"（约 {amount / 24:.1f} 天）".replace(".0 天", " 天")
    return f"剩余 {text}" if hours >= 0 else f"已超 {text}"


_DEADLINE_ORDER = {key: i for i, key in enumerate(DEADLINE_LABELS)}


def deadline_rows(case: dict, cal: WorkCalendar, now: datetime) -> list[dict]:
    """Every deadline of the case in the order of the flow, with its status and time left."""
    rows = []
    for key, entry in (case.get("deadlines") or {}).items():
        status = deadline_status(entry, cal, now)
        if case.get("state") == "closed" and status in ("open", "soon", "overdue"):
            status = "closed"
        left = time_left(entry, cal, now) if status in ("open", "soon", "overdue") else ""
        rows.append({"key": key, "label": DEADLINE_LABELS.get(key, key), **entry, "status": status,
                     "left": left, "responsible": entry.get("responsible") or responsible(case, key)})
    return sorted(rows, key=lambda r: (_DEADLINE_ORDER.get(r["key"], 99), r["start"]))


@dataclass(frozen=True)
class OverdueItem:
    case: dict
    key: str
    deadline: Deadline
    responsible: str | None  # username; None: 技质部 as a whole


def overdue_items(store: Store, cal: WorkCalendar, now: datetime) -> list[OverdueItem]:
    """Every open deadline already past due, over all open cases (for pages and the cron)."""
    now = to_local(now)
    out = []
    for case in store.scan(TABLE):
        if case.get("state") == "closed":
            continue
        for key, d in open_deadlines(case):
            if d.is_overdue(now):
                out.append(OverdueItem(case, key, d, case["deadlines"][key].get("responsible") or responsible(case, key)))
    return sorted(out, key=lambda i: i.deadline.due)


def is_overdue(case: dict, now: datetime) -> bool:
    return any(d.is_overdue(now) for _, d in open_deadlines(case))


def most_urgent_due(case: dict) -> datetime | None:
    open_ = open_deadlines(case)
    return open_[0][1].due if open_ else None


def plan_recompute(source, cal: WorkCalendar) -> list[tuple[int, dict[str, str]]]:
    """[(case id, {deadline key: new due ISO})] of every open working-time deadline of an open
    case whose due time differs under ``cal`` (recomputed from its stored start).

    ``source`` is a Store or an open Transaction (anything with ``scan``); nothing is changed.
    """
    out = []
    for case in source.scan(TABLE):
        if case.get("state") == "closed":
            continue
        new = {}
        for key, entry in (case.get("deadlines") or {}).items():
            fn = _WORKING_TIME_DEADLINES.get(key)
            if fn is None or entry.get("done_at"):
                continue
            d = fn(cal, datetime.fromisoformat(entry["start"]))
            if d.due.isoformat() != entry["due"]:
                new[key] = d.due.isoformat()
        if new:
            out.append((case["id"], new))
    return out


def recompute_open_deadlines_tx(tx: Transaction, cal: WorkCalendar) -> int:
    """Recompute every open working-time deadline of open cases inside ``tx``; how many changed.

    ``records.calendar_store`` calls this in the transaction of the calendar correction itself,
    so that a correction and the deadlines that follow from it commit together or not at all.
    """
    changed = 0
    for case_id, new in plan_recompute(tx, cal):
        case = tx.require(TABLE, case_id)
        deadlines = dict(case["deadlines"])
        for key, due in new.items():
            deadlines[key] = {**deadlines[key], "due": due}
            changed += 1
        tx.update(TABLE, case_id, {"deadlines": deadlines}, action="deadlines_recomputed",
                  note="工作日历已更正，重新计算未完成的期限")
    return changed


def recompute_open_deadlines(store: Store, cal: WorkCalendar, actor: str) -> int:
    """Recompute every open working-time deadline of open cases from its stored start, in one
    transaction (``aftersales recompute-deadlines``: a repair). Returns how many changed."""
    with store.transaction(actor) as tx:
        return recompute_open_deadlines_tx(tx, cal)


# --- Lists -------------------------------------------------------------------------------------


def my_work(store: Store, user: dict, now: datetime) -> list[dict]:
    """The cases waiting for ``user``: [{case, actions, due}], most urgent first."""
    out = []
    for case in store.scan(TABLE):
        if case.get("state") == "closed" and not fines.pending(case):
            continue
        acts = todo_actions(case, user)
        if acts:
            out.append({"case": case, "actions": acts, "due": most_urgent_due(case)})
    far = datetime.max.replace(tzinfo=to_local(now).tzinfo)
    out.sort(key=lambda r: (r["due"] or far, r["case"]["id"]))
    return out


def search(store: Store, now: datetime, *, q: str = "", type: str = "", state: str = "",
           customer_id: int | None = None, product: str = "", technician: str = "",
           overdue: bool = False, date_from: date | None = None, date_to: date | None = None,
           page: int = 1, per_page: int = 50):
    """One page of cases matching the filters (newest first) and the total count."""
    q = (q or "").strip().lower()
    product = (product or "").strip().lower()

    def match(c):
        if type and c.get("type") != type:
            return False
        if state and c.get("state") != state:
            return False
        if customer_id and c.get("customer_id") != customer_id:
            return False
        if product and product not in (c.get("product_serial") or "").lower():
            return False
        if technician and technician not in ((c.get("dispatch") or {}).get("technicians") or []):
            return False
        if date_from or date_to:
            day = (c.get("received_at") or "")[:10]
            if date_from and day < date_from.isoformat():
                return False
            if date_to and day > date_to.isoformat():
                return False
        if q:
            hay = " ".join(str(c.get(k) or "") for k in (
                "number", "customer_name", "product_serial", "product_label", "caller_name", "caller_phone",
                "description")).lower()
            if q not in hay:
                return False
        if overdue and not is_overdue(c, now):
            return False
        return True

    return store.page(TABLE, match, key=lambda c: (c.get("received_at") or "", c["id"]), reverse=True,
                      page=page, per_page=per_page)


# --- Benchmark --------------------------------------------------------------------------------


def bench_transition(store: Store, n: int, cal: WorkCalendar | None = None) -> list[float]:
    """Seconds per workflow transition, ``n`` of them, on whatever data ``store`` holds.

    Adds ``n`` service requests (a 技质部 user's intake, so they wait for the decision) to the
    first product found, then times ``perform("decide")`` on each: a full transition with its
    transaction, guards, deadline and audit entry. Run it on a copy of the data set.
    """
    cal = cal or WorkCalendar.default()
    product = store.first(PRODUCTS, lambda p: True)
    if product is None:
        raise CaseError("基准测试需要至少一个产品")
    user = {"username": "bench", "roles": ["tq_engineer"]}
    now = datetime.now()
    times = []
    for i in range(n):
        case = intake(store, cal, {
            "type": "service_request", "customer_id": product["customer_id"],
            "product_serial": product["serial_no"], "caller_name": "基准", "caller_phone": "000",
            "channel": "phone", "description": f"基准测试 {i}",
        }, user, now=now)
        t0 = _time.perf_counter()
        perform(store, cal, case["id"], "decide", user, {
            "solution": "phone_guidance", "analysis": "基准", "guidance": "基准",
        }, expect_rev=case["_rev"], now=now)
        times.append(_time.perf_counter() - t0)
    return times
