"""Who sees a fine (GLOSSARY 处罚): the person concerned, 技质部经理, the GM and 财务部 see its
name, amount and ruling; everyone else sees only that a proposal exists (``HIDDEN_TEXT``).

One rule for every surface: the case page, the timeline, history pages, notifications, exports,
dossiers, assessment PDFs and the penalty register. Pure functions over a user dict and a fine
dict (records/fines/proposals.py): no store, no Flask.
"""
from __future__ import annotations

from collections.abc import Iterable

# The roles that see every fine (GLOSSARY 处罚): 技质部经理 rules, the GM rules otherwise (6.2.8),
# 财务部 pays them out with the payroll.
ALL_FINES_READERS = ("tq_manager", "gm", "finance")
# What everyone else reads where a fine would be.
HIDDEN_TEXT = "有处罚建议（不公开）"
# What a step's timeline text says when it made a proposal: that one exists, never whose or under
# which clause (the clause and the step's actor would name the person); details in the fines table.
PROPOSED_TEXT = "已提出处罚建议（见处罚一栏）"


def sees_all_fines(user: dict | None) -> bool:
    """Whether ``user`` reads every fine (names, amounts, rulings): 技质部经理, the GM, 财务部."""
    return bool(user) and bool(set(user.get("roles") or ()) & set(ALL_FINES_READERS))


def may_see_fine(user: dict | None, fine: dict) -> bool:
    """Whether ``user`` reads this fine's person, amount and ruling: one of the readers of every
    fine, or the person concerned."""
    if not user:
        return False
    return sees_all_fines(user) or fine.get("person") == user.get("username")


def visible_fines(user: dict | None, fines: Iterable[dict]) -> tuple[list[dict], int]:
    """The fines ``user`` may read, and how many others exist (shown as ``HIDDEN_TEXT``)."""
    shown, hidden = [], 0
    for fine in fines:
        if may_see_fine(user, fine):
            shown.append(fine)
        else:
            hidden += 1
    return shown, hidden
