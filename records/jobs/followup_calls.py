"""The scheduled follow-up run (8.1, 8.2): ``run_followups``.

Takes the store, the time to run as of (``now``) and ``dry_run``; returns a summary dict
(JSON-ready) of what it did (or would do). Idempotent: the tasks and notices it makes carry
keys, and a second run finds them made. The click command in ``scripts/cron_commands.py`` adds
the overlap lock and the output. Plain Python: no Flask, no click.

``run_followups`` (8.1, 8.2): creates the call tasks of the current quarter / year, assigns
them (and re-assigns the tasks of engineers who left), reminds the assignee of a new task,
of a task due within ``followups.REMIND_DAYS_BEFORE`` days and of an overdue task, and sends
the queued e-mails. 技质部经理 runs the same function from the follow-up page (``actor``: who, in
the audit trail; the app then sends the new notices' mail itself, ``send_mail=False``).
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.workdays import to_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.store import Store
from records.followups import tasks as followups
from records.notifications.inbox import Notice, existing_keys, keep_index_on_disk
from records.notifications.outbox import deliver, queue

from .runs import ACTOR, MAIL_BATCH, followup_link, managers_of


def _task_title(task: dict, customer_name: str) -> str:
    return f"{customer_name} {followups.KIND_NAMES[task['kind']]}（{task['clause']}，{task['period']}）"


def run_followups(store: Store, now: datetime, dry_run: bool = False, send_mail: bool = True,
                  actor: str = ACTOR) -> dict:
    """Create and assign the follow-up calls of the current quarter (8.1) and year (8.2),
    re-assign those of engineers who left, remind the assignees, send the queued mail.
    ``actor``: the scheduled run (default) or the 技质部经理 who pressed the page's button."""
    now = to_local(now).replace(microsecond=0)
    if not dry_run and actor == ACTOR:  # a short-lived process starts from the index's cache file
        keep_index_on_disk(store)
    today = now.date()
    plans = followups.plan_tasks(store, now)
    moves = followups.plan_reassignments(store)
    managers = managers_of(store)
    cust = {c["id"]: c["name"] for c in store.scan(CUSTOMERS)}

    created, reassigned, made = [], [], 0
    reminders = {"assigned": 0, "due": 0, "overdue": 0, "unassigned": 0}

    def notices_for(task: dict, link: str) -> list[Notice]:
        """The notices an open task calls for today (their keys make each one once)."""
        title = _task_title(task, cust.get(task["customer_id"], f"#{task['customer_id']}"))
        due = date.fromisoformat(task["due"])
        rule = followups.KINDS[task["kind"]]
        basis = rule.basis.format(n=rule.value)
        who = task.get("assignee")
        ref = {"table": followups.TABLE, "id": task.get("id")}
        out = []
        if not who:
            for m in managers:
                out.append(("unassigned", Notice(m, "followup", f"【未指派】{title}",
                                                 f"{title} 没有可指派的技质部工程师，请指派。{rule.clause}：{basis}。",
                                                 key=f"followup-unassigned:{task['key']}:{m}", link=link, ref=ref)))
            return out
        out.append(("assigned", Notice(who, "followup", f"【回访任务】{title}",
                                       f"请在 {due:%Y-%m-%d} 前完成{title}。{rule.clause}：{basis}。",
                                       key=f"followup-assigned:{task['key']}:{who}", link=link, ref=ref)))
        if today > due:
            out.append(("overdue", Notice(who, "followup", f"【回访逾期】{title}",
                                          f"{title} 已于 {due:%Y-%m-%d} 到期，尚未记录回访。{rule.clause}：{basis}。",
                                          key=f"followup-overdue:{task['key']}:{who}", link=link, ref=ref)))
        elif (due - today).days <= followups.REMIND_DAYS_BEFORE:
            out.append(("due", Notice(who, "followup", f"【回访即将到期】{title}",
                                      f"{title} 将于 {due:%Y-%m-%d} 到期，请及时电话回访。{rule.clause}：{basis}。",
                                      key=f"followup-due:{task['key']}:{who}", link=link, ref=ref)))
        return out

    known = existing_keys(store)
    moved = {t["id"]: who for t, who in moves}
    open_pairs = []
    for t in store.scan(followups.TABLE):
        if t["status"] == followups.OPEN:
            task = {**t, "assignee": moved.get(t["id"], t.get("assignee"))}
            open_pairs += [p for p in notices_for(task, followup_link(t["id"])) if p[1].key not in known]

    if dry_run:
        created = plans
        reassigned = [{"id": t["id"], "key": t["key"], "from": t.get("assignee"), "to": who} for t, who in moves]
        pairs = open_pairs + [p for plan in plans for p in notices_for(plan, "")]
        for kind, n in pairs:
            reminders[kind] += 1
        made = len(pairs)
    elif plans or moves or open_pairs:
        with store.transaction(actor) as tx:
            for t, who in moves:
                fresh = tx.get(followups.TABLE, t["id"])
                if fresh and fresh["status"] == followups.OPEN and fresh.get("assignee") == t.get("assignee"):
                    tx.update(followups.TABLE, t["id"], {"assignee": who},
                              note="原负责人已不在技质部工程师之列，自动改派")
                    reassigned.append({"id": t["id"], "key": t["key"], "from": t.get("assignee"), "to": who})
            created = followups.create_tasks(tx, plans, now)
            pairs = open_pairs + [p for task in created for p in notices_for(task, followup_link(task["id"]))]
            kinds = {n.key: kind for kind, n in pairs}
            stored = queue(tx, [n for _, n in pairs], now)
            for doc in stored:
                reminders[kinds[doc["key"]]] += 1
            made = len(stored)

    mail = deliver(store, now, dry_run=dry_run or not send_mail, limit=MAIL_BATCH, actor=ACTOR)
    return {
        "command": "followups", "now": now.isoformat(), "dry_run": dry_run,
        "created": [{"key": t["key"], "kind": t["kind"], "clause": t["clause"], "customer_id": t["customer_id"],
                     "period": t["period"], "due": t["due"], "assignee": t.get("assignee"), "id": t.get("id")}
                    for t in created],
        "reassigned": reassigned,
        "reminders": reminders,
        "notifications": made,
        "mail": mail,
    }
