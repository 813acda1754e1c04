"""The case workflow as one table (5, 6): each transition names its clause, the states it starts
from, the states it may end in, who may take it and its guard; plus who may read a case.

``records.cases.workflow.perform`` takes one transition: it checks who (``may``), the state and
the guard, runs the handler of the row (``records.cases.steps``), and checks that the case ended
in one of the row's ``to`` states. The edges below are generated from ``TRANSITIONS`` by
``diagram()`` (tests/test_cases_flow.py checks that they agree)::

    awaiting_reply ─assign_reply─▶ awaiting_reply
    awaiting_reply ─reply─▶ closed
    awaiting_decision ─resolve_unknown─▶ awaiting_decision
    awaiting_decision ─decide─▶ awaiting_guidance_result | quoting | awaiting_dispatch
    awaiting_guidance_result ─guidance_result─▶ quoting | awaiting_dispatch | closed
    quoting ─quote─▶ quoting
    quoting ─price─▶ quoting
    quoting ─send_quote─▶ awaiting_customer
    awaiting_customer ─customer_response─▶ awaiting_vp | awaiting_dispatch
    awaiting_vp ─vp_decision─▶ awaiting_dispatch | closed
    awaiting_dispatch ─dispatch─▶ on_route
    on_route ─arrive─▶ on_site
    on_site ─complete─▶ completed
    completed ─approve_return─▶ return_approved
    completed ─record_return─▶ awaiting_report
    return_approved ─record_return─▶ awaiting_report
    awaiting_report ─report─▶ awaiting_confirmation
    awaiting_confirmation ─confirm─▶ closed

Reading the edges: recording a call is its hand-over to 技质部 (6.1.3, ``workflow.intake``): a
case starts as a consultation to answer (6.2.1), closed at once when the receiver answered it
directly (6.1.1), or a service request to decide. A unit or serial the receiver could not find
is 待核实: 技质部 links or creates it (``resolve_unknown``) before the decision (6.2.2; a
consultation is answered without it). A service request is decided (6.2.2): phone
guidance (6.2.3), free on-site service (5.1.1.1, arrival from the receipt, 5.1.1.3) or paid
on-site service, quoted (5.2.3, 5.2.4), sent (5.2.5) and accepted, or refused and then approved
or not by the VP (6.2.4). On site: dispatch (6.2.5), arrival, completion and return, approved or
not (6.2.6), the written report with the archived signed 技术服务单 (6.2.7), the confirmation and
fee audit (6.2.8). The fine transitions (6.1.5, 6.2.8, 6.2.9) leave the state as it is.

Who (``who``): a role, or "@receiver" / "@technician" / "@assignee" of this very case, or
"@tq_before_decision": 技质部 while the case is not yet decided (``decided``), "@fined": the
person concerned by a proposal still waiting for its ruling (their statement, 申辩/说明), or
"@approver": the 主管领导 a technician's 7.4 request waits for (``request_approval`` /
``decide_approval``, beside the flow like the extra actions: records.cases.steps.conduct).

Who hears of a step (``notify``): each row names the people told when the step is taken (an
inbox notice, and mail; ``records.cases.notices``), as ``Notify`` entries, each a set of
recipients with an optional condition on the case after the step; ``NOBODY`` says explicitly
that no one is told. ``INTAKE_NOTIFY`` is the rule of the call recorded (intake is not a row).
Recipients: a role (every active user who has it), "@tq_owner" (the case's 技质部 owner,
``tq_owner``, else every active 技质部 engineer), "@receiver", "@assignee", "@technicians"
(those sent), or "@fines" (the fine rows: told by the fine notices, a proposal to the person
concerned and the 技质部经理, a ruling to the person concerned, whichever step makes them).
Nobody is told of their own action.

Beside the flow (``extra``, not drawn above; records.cases.steps.corrections and .closure; ``classify``, 9.3):
``correct`` (the intake fields, with a reason: 技质部 before the decision, then 技质部经理 the
caller, phone and description only), ``cancel`` (作废) and ``merge`` (合并 into another case)
from any open state until a technician has arrived (they close the case with the outcome
cancelled / merged), and ``restore`` (技质部经理 puts a cancelled case back in its state).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from records.calendar.workdays import iso_local
from records.fines.proposals import is_running, pending, rulable
from records.users.roles import CASE_READERS, TQ_ROLES

from .conduct import approvers, pending_approvers
from .vocab import CANCELLED, STATES, is_live

TQ = tuple(TQ_ROLES)
ANY_STATE = frozenset(STATES)
OPEN_STATES = ANY_STATE - {"closed"}
# Sent on site, not yet confirmed: when a technician may ask for a 7.4 approval and it is decided.
SENT_STATES = frozenset({"on_route", "on_site", "completed", "return_approved", "awaiting_report",
                         "awaiting_confirmation"})


# --- Facts of a case the guards and the steps read ----------------------------------------------


def tq_owner(case: dict) -> str | None:
    """The case's 技质部 owner: the 技质部 member who took the case first, i.e. who recorded
    the call if a 技质部 member did (6.1.3: a 技质部 intake), else who first acted on it for
    技质部 (the decision 6.2.2, else the dispatch 6.2.5 or the confirmation 6.2.8); None until
    then. Kept in the case's ``tq_owner``; the 6.2.2 / 6.2.8 deadlines and the notices of the
    steps (``notify`` "@tq_owner") answer to this person."""
    return case.get("tq_owner") or None


def technicians(case: dict) -> list[str]:
    """The usernames of the technicians sent on the case (none before the dispatch)."""
    return (case.get("dispatch") or {}).get("technicians") or []


def decided(case: dict) -> bool:
    """Whether the case is decided: 技质部's solution (6.2.2), or a consultation's answer (6.2.1,
    or the receiver's direct one, 6.1.1). Before it 技质部 corrects, cancels and merges the case;
    after it 技质部经理 alone."""
    return bool(case.get("decision") or case.get("reply") or case.get("direct_answer"))


def arrived(case: dict) -> bool:
    """Whether a technician has arrived on site (the ``arrive`` step): no 作废 or 合并 after it."""
    return bool((case.get("onsite") or {}).get("arrived_at"))


def quote_total(case: dict) -> float | None:
    """The quote's total (service fee + priced parts, 5.2.3, 5.2.4); None while a part is unpriced."""
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
    """Whether 财务部 priced every part of the quote (5.2.4)."""
    return all(p.get("unit_price") is not None for p in (case.get("quote") or {}).get("parts") or [])


def is_paid(case: dict) -> bool:
    """Whether the decided solution is paid on-site service (5.1.1.2, 5.2.3)."""
    return (case.get("decision") or {}).get("solution") == "onsite_paid"


def collects_fee(case: dict) -> bool:
    """Whether the fee is collected on site (receipt, amount; 6.2.7): a paid service whose fee
    the customer accepted (6.2.4); not a free one, nor one the VP approved after a refusal."""
    return is_paid(case) and bool((case.get("customer_response") or {}).get("accepted"))

# --- The table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    """A precondition inside a state, so that only actions that can succeed are offered."""

    ok: Callable[[dict], bool]
    message: str


NEEDS_PRICES = Guard(lambda c: bool((c.get("quote") or {}).get("parts")) and not quote_priced(c),
                     "报价中没有待定价的备件")
QUOTE_READY = Guard(lambda c: bool(c.get("quote")) and quote_priced(c),
                    "请先编制报价，并等财务部填写全部备件价格（5.2.4）")
HAS_PENDING_FINES = Guard(lambda c: bool(rulable(c)), "没有待处理的处罚建议（已报总经理的等待总经理裁定；"
                          "6.2.8 的延迟天数在确认完成前仍在累计）")
WAITING_FINES = Guard(lambda c: bool(pending(c)), "没有等待处理的处罚建议")
HAS_FINES = Guard(lambda c: any(not is_running(f) for f in c.get("fines") or []),
                  "没有可裁定的处罚建议（6.2.8 的延迟天数在确认完成前仍在累计）")
LIVE = Guard(is_live, "该案例已作废或已合并，不能更正")
NOT_ARRIVED = Guard(lambda c: not arrived(c), "技术人员已到达现场，不能作废或合并；请按流程办结")
IS_CANCELLED = Guard(lambda c: c.get("outcome") == CANCELLED, "只有已作废的案例可以恢复")
EARLY_TQ = ("tq_manager", "@tq_before_decision")  # 技质部 before the decision, 技质部经理 after
VERIFIED = Guard(lambda c: not c.get("unverified"),
                 "顾客单位或产品编号待核实：请技质部先核实（关联已有或新建顾客单位、产品），再确定解决方案（6.2.2）")
APPROVAL_PENDING = Guard(lambda c: bool(pending_approvers(c)), "没有待审批的交际应酬申请（7.4）")
CLASSIFIABLE = Guard(lambda c: c.get("outcome") in ("completed", "guidance_solved", "refused"), "只有因故障结案的案例需要故障分类")
UNVERIFIED_LEFT = Guard(lambda c: bool(c.get("unverified")), "该案例没有待核实的顾客单位或产品")


@dataclass(frozen=True)
class Notify:
    """Who hears of a step: ``who`` (recipients, see the module's docstring), when ``when`` (on
    the case after the step) holds, or always."""

    who: tuple[str, ...]
    when: Callable[[dict], bool] | None = None


NOBODY: tuple[Notify, ...] = ()  # the step is told to no one (said explicitly)
TQ_OWNER = (Notify(("@tq_owner",)),)
FINE_NOTICES = (Notify(("@fines",)),)
# 6.1.3: recording the call is its hand-over to 技质部: the owner hears (else every engineer).
INTAKE_NOTIFY = TQ_OWNER


def _state_is(*states: str) -> Callable[[dict], bool]:
    return lambda case: case.get("state") in states


@dataclass(frozen=True)
class Transition:
    label: str
    clause: str | None  # the regulation's clause it implements (None: housekeeping)
    states: frozenset[str]  # from
    to: frozenset[str] | None  # the states the handler may leave the case in; None: unchanged
    who: tuple[str, ...]  # roles, or "@receiver" / "@technician" / "@assignee" of this case
    guard: Guard | None = None
    todo: bool = True  # shown in 我的待办 of those who may take it
    extra: bool = False  # not a step of the flow: offered apart (``extra_actions``), any time
    notify: tuple[Notify, ...] | None = None  # who hears of it (None: not said, a test refuses it)


def _t(label, clause, states, to, who, **kw) -> Transition:
    return Transition(label, clause, frozenset(states), None if to is None else frozenset(to), who, **kw)


TRANSITIONS: dict[str, Transition] = {
    "assign_reply": _t("安排其他部门人员答复（6.2.1）", "6.2.1", {"awaiting_reply"}, {"awaiting_reply"}, TQ,
                       todo=False, notify=(Notify(("@assignee",)),)),
    "reply": _t("答复咨询（6.2.1）", "6.2.1", {"awaiting_reply"}, {"closed"}, TQ + ("@assignee",),
                notify=(Notify(("@receiver",)),)),
    "resolve_unknown": _t("核实顾客单位/产品（6.2.2）", "6.2.2", {"awaiting_decision"}, {"awaiting_decision"}, TQ,
                          guard=UNVERIFIED_LEFT, notify=NOBODY),  # who resolves it owns it
    "decide": _t("确定解决方案（6.2.2）", "6.2.2", {"awaiting_decision"},
                 {"awaiting_guidance_result", "awaiting_dispatch", "quoting"}, TQ, guard=VERIFIED, notify=TQ_OWNER),
    "guidance_result": _t("记录电话指导结果（6.2.3）", "6.2.3", {"awaiting_guidance_result"},
                          {"closed", "awaiting_dispatch", "quoting"}, TQ, notify=TQ_OWNER),
    "quote": _t("编制费用报价（5.2.3、5.2.4）", "5.2.3", {"quoting"}, {"quoting"}, TQ,
                notify=(Notify(("finance",), when=NEEDS_PRICES.ok),)),
    "price": _t("填写备件价格（5.2.4）", "5.2.4", {"quoting"}, {"quoting"}, ("finance",), guard=NEEDS_PRICES,
                notify=TQ_OWNER),
    "send_quote": _t("通知顾客费用（5.2.5、6.2.4）", "5.2.5", {"quoting"}, {"awaiting_customer"}, TQ,
                     guard=QUOTE_READY, notify=(Notify(("sales",)),)),
    "customer_response": _t("记录顾客确认/拒绝（6.2.4）", "6.2.4", {"awaiting_customer"},
                            {"awaiting_dispatch", "awaiting_vp"}, TQ + ("sales",),
                            notify=(Notify(("@tq_owner",), when=_state_is("awaiting_dispatch")),
                                    Notify(("vp",), when=_state_is("awaiting_vp")))),
    "vp_decision": _t("分管副总审批（6.2.4）", "6.2.4", {"awaiting_vp"}, {"awaiting_dispatch", "closed"}, ("vp",),
                      notify=TQ_OWNER),
    "dispatch": _t("派出前安排（6.2.5）", "6.2.5", {"awaiting_dispatch"}, {"on_route"}, TQ,
                   notify=(Notify(("@technicians",)),)),
    "arrive": _t("到达现场", "5.1.1.3", {"on_route"}, {"on_site"}, ("@technician",), notify=NOBODY),
    "complete": _t("维修完毕（6.2.6）", "6.2.6", {"on_site"}, {"completed"}, ("@technician",), notify=TQ_OWNER),
    "approve_return": _t("同意返回（6.2.6）", "6.2.6", {"completed"}, {"return_approved"}, TQ,
                         notify=(Notify(("@technicians",)),)),
    "record_return": _t("返回公司（6.2.6）", "6.2.6", {"completed", "return_approved"}, {"awaiting_report"},
                        ("@technician",), notify=TQ_OWNER),
    "report": _t("书面汇报（6.2.7）", "6.2.7", {"awaiting_report"}, {"awaiting_confirmation"}, ("@technician",),
                 notify=(Notify(("@tq_owner", "tq_manager")),)),
    "confirm": _t("确认及费用审核（6.2.8）", "6.2.8", {"awaiting_confirmation"}, {"closed"}, TQ,
                  notify=(Notify(("@technicians",)),)),
    "request_approval": _t("申请交际应酬事先同意（7.4）", "7.4", SENT_STATES, None, ("@technician",), todo=False,
                           extra=True, notify=(Notify(("@approver",)),)),
    "decide_approval": _t("主管领导审批交际应酬（7.4）", "7.4", SENT_STATES, None, ("@approver",),
                          guard=APPROVAL_PENDING, todo=False, extra=True, notify=(Notify(("@technicians",)),)),
    "rule_fine": _t("处理处罚建议", "6.1.4", ANY_STATE, None, ("tq_manager",), guard=HAS_PENDING_FINES,
                    notify=FINE_NOTICES),
    "refer_fine": _t("报总经理裁定（6.2.8 特殊情况）", "6.2.8", ANY_STATE, None, ("tq_manager",),
                     guard=HAS_PENDING_FINES, todo=False, extra=True, notify=FINE_NOTICES),
    "state_fine": _t("对处罚建议提出申辩/说明", None, ANY_STATE, None, ("@fined",), guard=WAITING_FINES, todo=False,
                     extra=True, notify=FINE_NOTICES),
    "gm_rule_fine": _t("总经理裁定处罚（6.2.8）", "6.2.8", ANY_STATE, None, ("gm",), guard=HAS_FINES, todo=False,
                       notify=FINE_NOTICES),
    "propose_fine": _t("提出处罚建议（6.1.5、6.2.9）", "6.1.5", ANY_STATE, None, ("tq_manager",), todo=False,
                       extra=True, notify=FINE_NOTICES),
    "correct": _t("更正登记信息", None, ANY_STATE, ANY_STATE, EARLY_TQ, guard=LIVE, todo=False, extra=True,
                   notify=NOBODY),
    "cancel": _t("作废", None, OPEN_STATES, {"closed"}, EARLY_TQ, guard=NOT_ARRIVED, todo=False, extra=True,
                   notify=NOBODY),
    "merge": _t("合并到其他案例", None, OPEN_STATES, {"closed"}, EARLY_TQ, guard=NOT_ARRIVED, todo=False, extra=True,
                   notify=NOBODY),
    "classify": _t("故障分类（9.3）", "9.3", {"closed"}, None, TQ, guard=CLASSIFIABLE, todo=False, extra=True, notify=NOBODY),
    "restore": _t("恢复已作废的案例", None, {"closed"}, OPEN_STATES, ("tq_manager",), guard=IS_CANCELLED, todo=False,
                  extra=True, notify=NOBODY),
}
# Who takes an action, as the case page names them (a role) when no one person does.
ROLE_LABELS = {"tq_engineer": "技质部", "tq_manager": "技质部经理", "finance": "财务部", "sales": "销售部",
               "vp": "分管副总", "gm": "总经理", "technician": "售后服务技术人员", "receiver": "信息接收人"}


def edges() -> list[tuple[str, str, tuple[str, ...]]]:
    """(from state, action, to states) of every transition of the flow that moves a case, in table
    order (the extra actions, correct / cancel / merge / restore, are not edges of the flow)."""
    out = []
    for name, t in TRANSITIONS.items():
        if t.to is None or t.extra:
            continue
        for state in sorted(t.states, key=list(STATES).index):
            out.append((state, name, tuple(sorted(t.to, key=list(STATES).index))))
    return out


def diagram() -> str:
    """The edges of ``TRANSITIONS`` as text, one line per (from state, action)."""
    return "\n".join(f"    {a} ─{name}─▶ {' | '.join(to)}" for a, name, to in edges())


# --- Who may take an action, and what a case waits for ---------------------------------------------


def _roles(user: dict) -> set[str]:
    return set(user.get("roles") or ())


def _fits(case: dict, user: dict, who: str) -> bool:
    name = user.get("username")
    if who == "@receiver":
        return case.get("received_by") == name
    if who == "@technician":
        return "technician" in _roles(user) and name in technicians(case)
    if who == "@assignee":
        return bool(name) and case.get("reply_assignee") == name
    if who == "@tq_before_decision":
        return bool(_roles(user) & set(TQ_ROLES)) and not decided(case)
    if who == "@fined":
        return bool(name) and any(f.get("person") == name for f in pending(case))
    if who == "@approver":  # the 主管领导 a 7.4 request waits for
        return bool(name) and name in pending_approvers(case)
    return who in _roles(user)


def may(case: dict, user: dict, action: str) -> bool:
    """Whether the user's role (or part in this case) lets them take ``action``, in any state."""
    t = TRANSITIONS.get(action)
    return t is not None and any(_fits(case, user, w) for w in t.who)


def guard_ok(case: dict, action: str) -> bool:
    """Whether the transition's guard (if any) holds for ``case``."""
    guard = TRANSITIONS[action].guard
    return guard is None or guard.ok(case)


def guard_message(action: str) -> str:
    """Why the transition's guard refuses, in words for the user."""
    guard = TRANSITIONS[action].guard
    return guard.message if guard is not None else "当前不能执行该操作"


def allowed_actions(case: dict, user: dict) -> list[str]:
    """The actions of the flow the user may take now (role and state), in workflow order."""
    return [name for name, t in TRANSITIONS.items()
            if not t.extra and case["state"] in t.states and may(case, user, name) and guard_ok(case, name)]


def extra_actions(case: dict, user: dict) -> list[str]:
    """The actions outside the flow (a manager's own fine proposal) the user may take now."""
    return [name for name, t in TRANSITIONS.items()
            if t.extra and case["state"] in t.states and may(case, user, name) and guard_ok(case, name)]


def next_steps(case: dict) -> list[dict]:
    """What the case waits for now, and from whom: [{action, label, users, roles}].

    ``users``: usernames of the people who take it (the receiver, the technicians, the
    assignee); ``roles``: Chinese names of the roles that may (技质部, 财务部, …). Re-editing a
    drafted quote is not a step the case waits for; pending fine proposals are.
    """
    if case.get("state") == "closed" and not pending(case):
        return []
    techs = technicians(case)
    out = []
    for name, t in TRANSITIONS.items():
        if not t.todo or t.extra or case["state"] not in t.states or not guard_ok(case, name):
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


def todo_actions(case: dict, user: dict) -> list[str]:
    """The actions of ``allowed_actions`` that are the user's duty (我的待办)."""
    return [a for a in allowed_actions(case, user) if TRANSITIONS[a].todo]


def may_read(case: dict, user: dict) -> bool:
    """Whether the user may see the case (its page, its 技术服务单): a role of CASE_READERS
    reads every case; anyone else the cases they take part in, as receiver, reply assignee,
    one of the technicians sent, the person concerned by one of its fine proposals, or the 主管领导
    asked for a 7.4 approval."""
    if _roles(user) & set(CASE_READERS):
        return True
    name = user.get("username")
    return bool(name) and (case.get("received_by") == name or case.get("reply_assignee") == name
                            or name in technicians(case) or name in approvers(case)
                            or any(f.get("person") == name for f in case.get("fines") or []))


def log(case: dict, by: str, now: datetime, action: str, text: str) -> None:
    """Add a step to the case's ``timeline``: who, when, which action, what happened (the step's
    ``notified``, who was told of it, is added by ``records.cases.notices.record``)."""
    label = TRANSITIONS[action].label if action in TRANSITIONS else {"intake": "登记来电"}.get(action, action)
    case.setdefault("timeline", []).append({"at": iso_local(now), "by": by, "action": action, "label": label,
                                            "text": text})
