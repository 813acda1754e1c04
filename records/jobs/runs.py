"""What the scheduled runs share: who acts, how many mails a run sends, who hears of everything
(the 技质部 managers), and the links their notices carry."""
from __future__ import annotations

from records.core.store import Store
from records.users.accounts import users_with_role
from records.users.roles import TQ_MANAGER

ACTOR = "cron"
MAIL_BATCH = 500  # messages per run at most; the rest go out on the next run


def managers_of(store: Store) -> list[str]:
    """The usernames of the active 技质部 managers, who hear of every overdue step."""
    return sorted(u["username"] for u in users_with_role(store, TQ_MANAGER))


def case_link(case_id: int) -> str:
    return f"/cases/{case_id}"


def followup_link(task_id: int) -> str:
    return f"/followups/{task_id}"
