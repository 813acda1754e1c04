"""What a supplier claim waits for: the reply reminders (a daily task) and 我的待办 (3.1).

The supplier's reply is due ``claim_reply_days`` (company parameter) calendar days after the
claim was sent; the sender (or, if they left, every 技质部 engineer) is reminded 3 days before
and on the day (``remind``: a task of records.jobs.daily, idempotent through the notices' keys).
``todo`` lists the claims waiting for the user: a draft to send (技质部), a reply past due or
due soon (技质部), money to record (财务部), a claim to close (技质部经理). Plain Python.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from records.calendar.workdays import WorkCalendar, to_local
from records.core.store import Store
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import find_by_username, users_with_role

from . import claim_flow as flow
from . import suppliers
from .claims import TABLE

ACTOR = "cron"  # the scheduled runs' actor (records.jobs.run_log.ACTOR)
BEFORE_DAYS = 3  # company practice: the first reminder 3 days before the reply is due
REMINDERS = (("before", BEFORE_DAYS, "3 天后到期"), ("due", 0, "今天到期"))


def reminders_due(claim: dict, today: date) -> list[tuple[str, str]]:
    """The reminders (kind, words) whose day has come for a claim waiting for its reply (3.1)."""
    if claim.get("state") != flow.SENT or not claim.get("reply_due"):
        return []
    due = date.fromisoformat(claim["reply_due"])
    out = []
    for kind, days, words in REMINDERS:
        if today >= due - timedelta(days=days) and (kind == "due" or today < due):
            out.append((kind, words))
    return out


def recipients(store: Store, claim: dict) -> list[str]:
    sender = find_by_username(store, claim.get("sent_by") or "")
    if sender and sender.get("active", True):
        return [sender["username"]]
    return [u["username"] for u in users_with_role(store, "tq_engineer")]


def remind(store: Store, now: datetime, cal: WorkCalendar, dry_run: bool) -> dict:
    """The daily task (records.jobs.daily): queue the reply reminders whose day has come (3.1);
    run twice the same day it queues nothing new (the notices' keys)."""
    today = to_local(now).date()
    notices = []
    for claim in store.scan(TABLE):
        for kind, words in reminders_due(claim, today):
            supplier = (suppliers.get(store, claim["supplier_id"]) or {}).get("name", "")
            subject = f"供应商索赔 {claim['number']} 的答复{words}（{claim['reply_due']}）"
            body = (f"向 {supplier} 发出的索赔 {claim['number']}（案例 {claim.get('case_number') or claim['case_id']}）"
                    f"应在 {claim['reply_due']} 前得到答复（3.1）。请联系供应商并在系统中记录答复。")
            notices += [Notice(n, "supplier_claim", subject, body, f"claim-reply:{claim['id']}:{kind}:{n}",
                               f"/suppliers/claims/{claim['id']}", {"table": TABLE, "id": claim["id"]})
                        for n in recipients(store, claim)]
    if dry_run or not notices:
        return {"reminders": len(notices), "queued": 0}
    with store.transaction(ACTOR) as tx:
        made = queue(tx, notices, now)
    return {"reminders": len(notices), "queued": len(made)}


def todo(store: Store, user: dict, today: date) -> list[dict]:
    """The claims waiting for ``user``: [{claim, action, status, due}] (status overdue | soon | open)."""
    roles = set(user.get("roles") or ())
    out = []
    for c in store.scan(TABLE):
        state, due = c.get("state"), c.get("reply_due") or ""
        if state == flow.DRAFT and roles & set(flow.TQ) and c.get("created_by") == user.get("username"):
            out.append({"claim": c, "action": "send", "status": "open", "due": c.get("created_at", "")[:10]})
        elif state == flow.SENT and roles & set(flow.TQ) and due:
            d = date.fromisoformat(due)
            if today > d:
                out.append({"claim": c, "action": "reply", "status": "overdue", "due": due})
            elif today >= d - timedelta(days=BEFORE_DAYS):
                out.append({"claim": c, "action": "reply", "status": "soon", "due": due})
        elif state in (flow.REPLIED, flow.PARTLY) and "finance" in roles:
            out.append({"claim": c, "action": "recover", "status": "open", "due": (c.get("reply") or {}).get("on", "")})
        if state in (flow.PARTLY, flow.RECOVERED, flow.REFUSED) and "tq_manager" in roles:
            out.append({"claim": c, "action": "close", "status": "open", "due": (c.get("reply") or {}).get("on", "")})
    return sorted(out, key=lambda r: r["due"])
