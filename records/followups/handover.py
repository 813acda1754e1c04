"""Disabling a person, with the hand-over of their open work in the same audited transaction.

The open work (``open_work``): the case work of ``records.cases.reassign`` (case owner, reply
assignments of 6.2.1, technicians sent and not yet arrived, deadline responsibles) plus the
open follow-up calls assigned to them (8.1, 8.2). The admin picks one successor per kind (or one
for all); ``disable_and_hand_over`` disables the person and moves all of it at once, or
nothing, and tells each successor in the inbox (and by mail) what they now hold. Fines are never
moved: a proposal or ruling stays with whom it concerns.
"""
from __future__ import annotations

from datetime import datetime

from records.cases.notices import case_link
from records.cases.reassign import CASE_KINDS, check_successor, hand_over_cases_tx, open_case_work
from records.core.errors import DomainError
from records.core.store import Store
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import TABLE as USERS
from records.users.accounts import set_active_tx

from .tasks import KIND_NAMES, OPEN, TABLE

KINDS = {**CASE_KINDS, "followup": "未完成的跟踪回访（8.1、8.2）"}


class HandoverError(DomainError):
    pass


def _followups(source, username: str) -> list[dict]:
    return [{"task_id": t["id"], "what": f"{KIND_NAMES.get(t['kind'], t['kind'])}（{t.get('clause', '')}）"
                                          f" {t.get('period', '')}", "customer_id": t.get("customer_id")}
            for t in source.scan(TABLE) if t["status"] == OPEN and t.get("assignee") == username]


def open_work(source, username: str) -> dict[str, list[dict]]:
    """kind (``KINDS``) → rows of ``username``'s open work (``source``: a Store or an open Transaction)."""
    return {**open_case_work(source, username), "followup": _followups(source, username)}


def has_open_work(work: dict[str, list[dict]]) -> bool:
    return any(work.values())


def _notices(username: str, name: str, work: dict, to: dict[str, str], stamp: str) -> list[Notice]:
    lines: dict[str, list[str]] = {}
    first_case: dict[str, int] = {}
    for kind, rows in work.items():
        for r in rows:
            who = to[kind]
            label = r.get("number") or f"#{r.get('case_id', r.get('task_id'))}"
            lines.setdefault(who, []).append(f"{KINDS[kind]}：{label} {r.get('what', '')}".rstrip())
            if "case_id" in r:
                first_case.setdefault(who, r["case_id"])
    out = []
    for who, items in lines.items():
        link = case_link(first_case[who]) if who in first_case else "/followups"
        out.append(Notice(who, "handover", f"工作交接：{name} 已停用，以下工作转交给您",
                          "\n".join([f"{name}（{username}）已停用，以下工作由您接手：", *items]),
                          key=f"handover:{username}:{who}:{stamp}", link=link))
    return out


def disable_and_hand_over(store: Store, user_id: int, successors: dict[str, str], by: str,
                          now: datetime) -> dict[str, list[dict]]:
    """Disable the user and move their open work to ``successors`` (kind → username; every kind
    with open work needs one), in one audited transaction: all of it, or nothing (a refusal
    names the kind's field ``to_<kind>``). Each successor gets one notice listing what they now
    hold. Returns the work moved, as ``open_work``."""
    with store.transaction(by) as tx:
        user = tx.require(USERS, user_id)
        username = user["username"]
        tasks = _followups(tx, username)
        # the follow-up successor: a 技质部工程师 (cases.reassign.SUCCESSOR_ROLES), asked only when there are tasks
        followup_to = check_successor(tx, "followup", username, successors.get("followup")) if tasks else None
        work = hand_over_cases_tx(tx, username, successors, by, now)
        for row in tasks:
            tx.update(TABLE, row["task_id"], {"assignee": followup_to["username"]},
                      note=f"{username} 停用，改派回访任务")
        work["followup"] = tasks
        set_active_tx(tx, user_id, False)
        to = {k: successors[k] for k, rows in work.items() if rows}
        queue(tx, _notices(username, user.get("display_name") or username, work, to, tx.ts), now)
    return work
