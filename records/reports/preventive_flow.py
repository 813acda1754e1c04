"""The states of a preventive action (预防措施, 9.3) and who takes each step, as one table.

    raised ─start─▶ in_progress ─submit─▶ to_verify ─verify─▶ closed | ineffective
    ineffective ─reopen─▶ in_progress

提出 (技质部 raises it, records.reports.preventive.raise_tx) → 实施中 (the owner starts it) →
待验证 (the owner hands in the evidence of completion) → 已关闭 (技质部 verified it effective:
no recurrence of the cause on the model during the period it set), or 无效 (not effective),
which 技质部 reopens with a new due date (back to 实施中). Evidence may be added while the
action is open (``EVIDENCE_STATES``) by its owner or 技质部.

Who (``who``): a role, or "@owner" (the action's owner user). Plain Python.
"""
from __future__ import annotations

from dataclasses import dataclass

from records.users.roles import TQ_MANAGER, TQ_ROLES

STATES = {"raised": "提出", "in_progress": "实施中", "to_verify": "待验证", "closed": "已关闭", "ineffective": "无效"}
OPEN = frozenset({"raised", "in_progress", "to_verify", "ineffective"})
RUNNING = frozenset({"raised", "in_progress"})  # the due date runs: the owner's work (overdue after it)
EVIDENCE_STATES = frozenset({"raised", "in_progress"})
RAISERS = TQ_ROLES  # 9.3: 技质部 analyses and raises preventive actions
READERS = (*TQ_ROLES, "vp", "gm")  # every action; others read those they own or their department's


@dataclass(frozen=True)
class Step:
    label: str
    states: frozenset[str]
    to: frozenset[str]
    who: tuple[str, ...]


STEPS: dict[str, Step] = {
    "start": Step("开始实施", frozenset({"raised"}), frozenset({"in_progress"}), ("@owner", TQ_MANAGER)),
    "submit": Step("提交完成证据，申请验证", frozenset({"in_progress"}), frozenset({"to_verify"}), ("@owner",)),
    "verify": Step("验证有效性（9.3）", frozenset({"to_verify"}), frozenset({"closed", "ineffective"}), TQ_ROLES),
    "reopen": Step("无效，重新实施", frozenset({"ineffective"}), frozenset({"in_progress"}), TQ_ROLES),
}


def _fits(action: dict, user: dict, who: str) -> bool:
    if who == "@owner":
        return bool(user.get("username")) and action.get("owner") == user.get("username")
    return who in (user.get("roles") or ())


def may(action: dict, user: dict, step: str) -> bool:
    """Whether ``user`` may take ``step`` on ``action`` (role or part, whatever the state)."""
    return any(_fits(action, user, w) for w in STEPS[step].who)


def allowed(action: dict, user: dict) -> list[str]:
    """The steps ``user`` may take now, in table order."""
    return [name for name, s in STEPS.items() if action.get("state") in s.states and may(action, user, name)]


def may_add_evidence(action: dict, user: dict) -> bool:
    return action.get("state") in EVIDENCE_STATES and (
        action.get("owner") == user.get("username") or bool(set(user.get("roles") or ()) & set(TQ_ROLES)))


def may_raise(user: dict) -> bool:
    return bool(set(user.get("roles") or ()) & set(RAISERS))


def may_read(action: dict, user: dict) -> bool:
    """技质部, 分管副总 and 总经理 read every action; the owner theirs; a member the department's."""
    if set(user.get("roles") or ()) & set(READERS):
        return True
    name = user.get("username")
    return bool(name) and (action.get("owner") == name
                           or (bool(user.get("department_id")) and user.get("department_id") == action.get("department_id")))
