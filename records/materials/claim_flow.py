"""The supplier claim's states and who may take each step, as one table (3.1 「向…索赔」).

Shaped like records.cases.flow: each transition names the states it starts from, the states it
may end in and who may take it (roles)::

    draft ─edit─▶ draft                  技质部 (the claim, its basis, its evidence)
    draft ─send─▶ sent                   技质部 (the supplier notice is archived, the reply falls due)
    sent ─reply─▶ replied | refused      技质部 records the supplier's answer
    replied | partly_recovered ─recover─▶ partly_recovered | recovered   财务部 records money received
    partly_recovered | recovered | refused ─close─▶ closed                技质部经理

The reply is due ``claim_reply_days`` (a company parameter) calendar days after the sending.
Plain Python.
"""
from __future__ import annotations

from dataclasses import dataclass

from records.users.roles import TQ_ROLES

DRAFT, SENT, REPLIED, PARTLY, RECOVERED, REFUSED, CLOSED = (
    "draft", "sent", "replied", "partly_recovered", "recovered", "refused", "closed")
STATES = {DRAFT: "起草", SENT: "已发出", REPLIED: "供应商答复", PARTLY: "部分追回", RECOVERED: "全部追回",
          REFUSED: "拒绝", CLOSED: "关闭"}
OPEN_STATES = frozenset(STATES) - {CLOSED}

TQ = tuple(TQ_ROLES)
FINANCE = ("finance",)
MANAGER = ("tq_manager",)
READERS = (*TQ_ROLES, "finance")  # who sees suppliers and claims
EDITORS = TQ  # who keeps the suppliers and drafts claims


@dataclass(frozen=True)
class Transition:
    label: str
    states: frozenset[str]
    to: frozenset[str]
    who: tuple[str, ...]


def _t(label, states, to, who) -> Transition:
    return Transition(label, frozenset(states), frozenset(to), who)


TRANSITIONS: dict[str, Transition] = {
    "edit": _t("修改索赔", {DRAFT}, {DRAFT}, TQ),
    "send": _t("发出通知和索赔", {DRAFT}, {SENT}, TQ),
    "reply": _t("记录供应商答复", {SENT}, {REPLIED, REFUSED}, TQ),
    "recover": _t("记录追回款", {REPLIED, PARTLY}, {PARTLY, RECOVERED}, FINANCE),
    "close": _t("关闭索赔", {PARTLY, RECOVERED, REFUSED}, {CLOSED}, MANAGER),
}


class FlowRefused(Exception):
    """Not this person, or not in this state."""


def may(user: dict, action: str) -> bool:
    """Whether the user's roles let them take ``action`` (in some state)."""
    t = TRANSITIONS.get(action)
    return t is not None and bool(set(user.get("roles") or ()) & set(t.who))


def allowed(claim: dict, user: dict) -> list[str]:
    """The actions the user may take on the claim now, in table order."""
    return [a for a, t in TRANSITIONS.items() if claim.get("state") in t.states and may(user, a)]


def check(claim: dict, user: dict, action: str) -> Transition:
    """The transition, or FlowRefused with the reason in words."""
    t = TRANSITIONS[action]
    if not may(user, action):
        raise FlowRefused(f"您无权执行「{t.label}」")
    if claim.get("state") not in t.states:
        raise FlowRefused(f"索赔当前状态为「{STATES.get(claim.get('state'), claim.get('state'))}」，不能{t.label}")
    return t


def diagram() -> str:
    return "\n".join(f"{' | '.join(sorted(t.states))} ─{a}─▶ {' | '.join(sorted(t.to))}"
                     for a, t in TRANSITIONS.items())
