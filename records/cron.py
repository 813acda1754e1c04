"""The scheduled tasks, as plain functions: ``run_overdue`` and ``run_followups``.

Each takes the store, the time to run as of (``now``) and ``dry_run``; each returns a summary
dict (JSON-ready) of what it did (or, with ``dry_run``, would do). Each is idempotent: the
things it makes carry keys (overdue flags, fine proposals, notices, follow-up tasks), and a
second run finds them made. The click commands in ``scripts/cron_commands.py`` add the
overlap lock and the output. Plain Python: no Flask, no click.

``run_overdue`` (6.1.3, 6.2.1, 6.2.2, 5.1.1.3, 6.2.7, 6.2.8):

* every open deadline past due is flagged once (table ``overdue_flags``, one record per
  case and deadline) and its responsible person and every 技质部 manager are notified;
* the fine proposals of 6.1.4 (late hand-over) and 6.2.8 (one per working day late) are made
  with ``records.fines.propose_missed`` (``add_proposal`` / ``confirm_late_proposals``: the very
  functions, persons and keys the workflow steps use), so nothing is proposed twice, whoever
  comes first; each further working day late of a 6.2.8 confirmation is notified once;
* every open deadline due within ``policy.WARN_WITHIN_WORKING_HOURS`` working hours (the same
  test the case pages use for amber) is warned of once to its responsible person;
* then the queued e-mails are sent.

``run_followups`` (8.1, 8.2): creates the call tasks of the current quarter / year, assigns
them (and re-assigns the tasks of engineers who left), reminds the assignee of a new task,
of a task due within ``followups.REMIND_DAYS_BEFORE`` days and of an overdue task, and sends
the queued e-mails.

Speed: a run reads only what changed since the last run. The open cases with an open deadline,
the flag keys and the notices' index (keys, pending mail) come from per-shard digests
(``records.shard_digest``) kept in ``<data>/cache/``; the flags, proposals and notices of a run
are written in one transaction.
"""
from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

from . import cases, fines, followups, notifications, policy
from .calendar_store import current_calendar
from .deadlines import Deadline
from .notifications import Notice
from .shard_digest import ShardDigest
from .store import Store
from .users import display_names, users_with_role
from .worktime import WorkCalendar, to_local

FLAGS = "overdue_flags"
ACTOR = "cron"
MANAGER_ROLE = "tq_manager"
MAIL_BATCH = 500  # messages per run at most; the rest go out on the next run


def _iso(dt: datetime) -> str:
    return to_local(dt).replace(microsecond=0).isoformat()


def _fmt(dt: datetime) -> str:
    return to_local(dt).strftime("%Y-%m-%d %H:%M")


def case_link(case_id: int) -> str:
    return f"/cases/{case_id}"


def followup_link(task_id: int) -> str:
    return f"/followups/{task_id}"


def flag_key(case_id: int, key: str) -> str:
    return f"{case_id}:{key}"


def _label(key: str) -> str:
    return cases.DEADLINE_LABELS.get(key, key)


def _case_title(case: dict) -> str:
    return f"{case.get('number') or '#' + str(case['id'])} {case.get('customer_name', '')}".strip()




def _recipients(responsible: str | None, managers: list[str]) -> list[str]:
    out = [responsible] if responsible else []
    out += [m for m in managers if m not in out]
    return out


# --- overdue ---------------------------------------------------------------------------------


def _open_case(doc: dict):
    """Digest of the cases table: the open cases with a deadline not yet met (whole documents)."""
    if doc.get("state") == "closed":
        return None
    if any(not e.get("done_at") for e in (doc.get("deadlines") or {}).values()):
        return doc
    return None


_open_cases = ShardDigest(cases.TABLE, _open_case, version="1")
_flag_keys = ShardDigest(FLAGS, lambda d: d["key"], version="1", combine=set)


def _managers(store: Store) -> list[str]:
    return sorted(u["username"] for u in users_with_role(store, MANAGER_ROLE))


def _soon(candidates: list[dict], cal: WorkCalendar, now: datetime) -> list[tuple[dict, str, Deadline, dict]]:
    """(case, key, Deadline, stored entry) of open deadlines due within the warning window.

    The test is the case pages' amber (``cases.deadline_status`` == "soon"); a cheap bound on
    the due time first keeps it to the few deadlines that can qualify.
    """
    now = to_local(now)
    limit = max(cal.add_working_hours(now, policy.WARN_WITHIN_WORKING_HOURS),
                now + timedelta(hours=policy.WARN_WITHIN_WORKING_HOURS))
    out = []
    for case in candidates:
        for key, d in cases.open_deadlines(case):
            if d.due <= now or d.due > limit:
                continue
            entry = case["deadlines"][key]
            if cases.deadline_status(entry, cal, now) == "soon":
                out.append((case, key, d, entry))
    return sorted(out, key=lambda x: (x[2].due, x[0]["id"]))


def run_overdue(store: Store, now: datetime, dry_run: bool = False, send_mail: bool = True) -> dict:
    now = to_local(now).replace(microsecond=0)
    persist = not dry_run  # the digests' cache files are written on real runs only
    if persist:
        notifications.keep_index_on_disk(store)
    cal = current_calendar(store)
    candidates = _open_cases.collect(store, persist=persist)
    items = cases.overdue_in(candidates, now)
    managers = _managers(store)
    names = display_names(store)
    flagged = _flag_keys.collect(store, persist=persist)
    known = notifications.existing_keys(store)

    # 1. the fine proposals (6.1.4, 6.2.8), planned on copies of the cases
    planned: dict[tuple[int, str], list[dict]] = {}
    fine_rows = []
    for item in items:
        new = fines.propose_missed(copy.deepcopy(item.case), item.key, item.deadline, cal, now, by=ACTOR)
        if new:
            planned[(item.case["id"], item.key)] = new
            fine_rows += [{"case_id": item.case["id"], "case_number": item.case.get("number"), "deadline": item.key,
                           "key": f["key"], "clause": f["clause"], "person": f["person"], "amount": f["amount"],
                           "day": f["day"]} for f in new]

    # 2. flags and notices
    new_flags, notices, warnings = [], [], []
    for item in items:
        case, key, d = item.case, item.key, item.deadline
        link, title = case_link(case["id"]), _case_title(case)
        who = names.get(item.responsible, item.responsible) if item.responsible else "技质部"
        ref = {"table": cases.TABLE, "id": case["id"]}
        if flag_key(case["id"], key) not in flagged:
            new_flags.append({"key": flag_key(case["id"], key), "case_id": case["id"],
                              "case_number": case.get("number"), "deadline": key, "clause": d.clause,
                              "due": d.due.isoformat(), "responsible": item.responsible, "flagged_at": _iso(now)})
            body = (f"案例 {title} 的「{_label(key)}」已超期（{d.clause}：{d.basis}）。\n"
                    f"期限：{_fmt(d.due)}（起算 {_fmt(d.start)}）；责任人：{who}。")
            proposals = planned.get((case["id"], key)) or []
            if proposals:
                body += f"\n已提出处罚建议 {len(proposals)} 条（{proposals[0]['clause']}），待技质部经理确认或免除。"
            for r in _recipients(item.responsible, managers):
                notices.append(Notice(r, "overdue", f"【超期】{title}：{_label(key)}（{d.clause}）", body,
                                      key=f"overdue:{case['id']}:{key}:{r}", link=link, ref=ref))
        if key == "confirm":  # 6.2.8: each further working day late is told once (the latest day)
            days = fines.late_days(cal, d.due, now)
            if len(days) >= 2:
                k, day = days[-1]
                rule = policy.FINE_CONFIRM_LATE_PER_DAY
                body = (f"案例 {title} 的确认及费用审核已延迟第 {k} 个工作日（{day:%Y-%m-%d}）。\n"
                        f"{rule.clause}：{rule.basis.format(n=rule.value)}。责任人：{who}。")
                for r in _recipients(item.responsible, managers):
                    notices.append(Notice(r, "late_day", f"【延迟第 {k} 个工作日】{title}（{rule.clause}）", body,
                                          key=f"late:{case['id']}:confirm:{k}:{r}", link=link, ref=ref))

    for case, key, d, entry in _soon(candidates, cal, now):
        resp = entry.get("responsible") or cases.responsible(case, key)
        title = _case_title(case)
        recips = [resp] if resp else managers
        warn_keys = [f"warn:{case['id']}:{key}:{d.due.isoformat()}:{r}" for r in recips]
        if all(k in known for k in warn_keys):
            continue
        warnings.append({"case_id": case["id"], "case_number": case.get("number"), "deadline": key,
                         "clause": d.clause, "due": d.due.isoformat(), "responsible": resp})
        body = (f"案例 {title} 的「{_label(key)}」将于 {_fmt(d.due)} 到期（{d.clause}：{d.basis}；"
                f"起算 {_fmt(d.start)}），请在 {policy.WARN_WITHIN_WORKING_HOURS} 个工作小时内完成。")
        for r, k in zip(recips, warn_keys):
            notices.append(Notice(r, "warning", f"【即将到期】{title}：{_label(key)}（{d.clause}）", body,
                                  key=k, link=case_link(case["id"]), ref={"table": cases.TABLE, "id": case["id"]}))

    new_notices = [n for n in notices if n.key not in known]
    fines_added, made = len(fine_rows), len({n.key for n in new_notices})

    # 3. all of it in one transaction: the cases re-read under the lock, every key checked again
    if not dry_run and (planned or new_flags or new_notices):
        fines_added = 0
        with store.transaction(ACTOR) as tx:
            for (cid, key), _ in sorted(planned.items()):
                case = tx.require(cases.TABLE, cid)
                entry = (case.get("deadlines") or {}).get(key)
                if case.get("state") == "closed" or entry is None or entry.get("done_at"):
                    continue  # met meanwhile: the workflow step made its own proposals
                new = fines.propose_missed(case, key, Deadline.from_dict(entry), cal, now, by=ACTOR)
                if new:
                    tx.update(cases.TABLE, cid, {"fines": case["fines"]}, action="fine_proposed",
                              note=f"定时检查：新增 {len(new)} 条处罚建议（{new[0]['clause']}）")
                    fines_added += len(new)
            have = {d["key"] for d in tx.scan(FLAGS)} if new_flags else set()
            for flag in new_flags:
                if flag["key"] not in have:
                    tx.insert(FLAGS, flag)
            made = len(notifications.queue(tx, new_notices, now))

    mail = notifications.deliver(store, now, dry_run=dry_run or not send_mail, limit=MAIL_BATCH, actor=ACTOR)
    if persist:  # bring the cache files up to date with this run's own writes
        _open_cases.collect(store, persist=True)
        _flag_keys.collect(store, persist=True)
    return {
        "command": "overdue", "now": now.isoformat(), "dry_run": dry_run,
        "overdue": len(items),
        "flagged": new_flags,
        "fines_proposed": fines_added,
        "fines": fine_rows,
        "warnings": warnings,
        "notifications": made,
        "mail": mail,
    }


# --- follow-ups --------------------------------------------------------------------------------


def _task_title(task: dict, customer_name: str) -> str:
    return f"{customer_name} {followups.KIND_NAMES[task['kind']]}（{task['clause']}，{task['period']}）"


def run_followups(store: Store, now: datetime, dry_run: bool = False, send_mail: bool = True) -> dict:
    now = to_local(now).replace(microsecond=0)
    today = now.date()
    plans = followups.plan_tasks(store, now)
    moves = followups.plan_reassignments(store)
    managers = _managers(store)
    cust = {c["id"]: c["name"] for c in store.scan("customers")}

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

    known = notifications.existing_keys(store)
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
        with store.transaction(ACTOR) as tx:
            for t, who in moves:
                fresh = tx.get(followups.TABLE, t["id"])
                if fresh and fresh["status"] == followups.OPEN and fresh.get("assignee") == t.get("assignee"):
                    tx.update(followups.TABLE, t["id"], {"assignee": who},
                              note="原负责人已不在技质部工程师之列，自动改派")
                    reassigned.append({"id": t["id"], "key": t["key"], "from": t.get("assignee"), "to": who})
            created = followups.create_tasks(tx, plans, now)
            pairs = open_pairs + [p for task in created for p in notices_for(task, followup_link(task["id"]))]
            kinds = {n.key: kind for kind, n in pairs}
            stored = notifications.queue(tx, [n for _, n in pairs], now)
            for doc in stored:
                reminders[kinds[doc["key"]]] += 1
            made = len(stored)

    mail = notifications.deliver(store, now, dry_run=dry_run or not send_mail, limit=MAIL_BATCH, actor=ACTOR)
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
