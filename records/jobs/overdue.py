"""The scheduled overdue check (6.1.3, 6.1.4, 6.2.1, 6.2.2, 5.1.1.3, 6.2.7, 6.2.8): ``run_overdue``.

Takes the store, the time to run as of (``now``) and ``dry_run``; returns a summary dict
(JSON-ready) of what it did (or, with ``dry_run``, would do). Idempotent: the things it makes
carry keys (overdue flags, fine proposals, notices), and a second run finds them made. The
click command in ``scripts/cron_commands.py`` adds the overlap lock and the output. Plain
Python: no Flask, no click.

* every open deadline past due is flagged once (table ``overdue_flags``, one record per
  case and deadline) and its responsible person and every 技质部 manager are notified;
* the fine proposals of 6.1.4 (late hand-over) and 6.2.8 (one per case, 50 元 × the working
  days late, its count brought up to date each time a further working day has begun; nothing
  before the first one begins, GLOSSARY) are made with ``records.fines.proposals.propose_missed``
  (``add_proposal`` / ``confirm_late_proposal``: the very functions, persons and keys the
  workflow steps use), so nothing is proposed twice, whoever comes first; each proposal is told
  once, by its own notice to the person concerned and the 技质部经理
  (``records.cases.notices.tell_fines``, the keys the steps use); the overdue notice does not
  repeat it;
* every open deadline due within ``policy.WARN_WITHIN_WORKING_HOURS`` working hours (the same
  test the case pages use for amber) is warned of once to its responsible person;
* every step the regulation gives no clock (电话指导中, 编制费用报价, 待财务定价, 待顾客确认费用,
  待分管副总批准) waited past its company limit (``records.cases.idle``) is flagged once and told,
  never fined;
* then the queued e-mails are sent.

Speed: a run reads only what changed since the last run. The open cases with an open deadline,
the flag keys and the notices' index (keys, pending mail) come from per-shard digests
(``records.core.digest``) kept in ``<data>/cache/``; the flags, proposals and notices of a run
are written in one transaction.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta

from records import policy
from records.calendar.corrections import current_calendar
from records.calendar.time_limits import Deadline
from records.calendar.workdays import WorkCalendar, iso_local, to_local
from records.cases import idle
from records.cases.deadlines import deadline_status, open_deadlines, overdue_in, responsible
from records.cases.notices import tell_fines
from records.cases.vocab import DEADLINE_LABELS
from records.cases.vocab import TABLE as CASES
from records.core.digest import ShardDigest
from records.core.store import Store
from records.fines.proposals import propose_missed
from records.notifications.inbox import Notice, existing_keys, keep_index_on_disk
from records.notifications.outbox import deliver, queue
from records.users.accounts import display_names

from .daily import run_daily
from .runs import ACTOR, MAIL_BATCH, case_link, managers_of

FLAGS = "overdue_flags"


def _fmt(dt: datetime) -> str:
    return to_local(dt).strftime("%Y-%m-%d %H:%M")


def flag_key(case_id: int, key: str) -> str:
    return f"{case_id}:{key}"


def _label(key: str) -> str:
    return DEADLINE_LABELS.get(key, key)


def _case_title(case: dict) -> str:
    return f"{case.get('number') or '#' + str(case['id'])} {case.get('customer_name', '')}".strip()




def _recipients(responsible: str | None, managers: list[str]) -> list[str]:
    out = [responsible] if responsible else []
    out += [m for m in managers if m not in out]
    return out


# --- overdue ---------------------------------------------------------------------------------


def _open_case(doc: dict):
    """Digest of the cases table: the open cases with a deadline not yet met, or waiting in a step
    with a company limit (records.cases.idle) (whole documents)."""
    if doc.get("state") == "closed":
        return None
    if doc.get("state") in idle.STATES or any(not e.get("done_at") for e in (doc.get("deadlines") or {}).values()):
        return doc
    return None


_open_cases = ShardDigest(CASES, _open_case, version="2")
_flag_keys = ShardDigest(FLAGS, lambda d: d["key"], version="1", combine=set)


def _soon(candidates: list[dict], cal: WorkCalendar, now: datetime) -> list[tuple[dict, str, Deadline, dict]]:
    """(case, key, Deadline, stored entry) of open deadlines due within the warning window.

    The test is the case pages' amber (``records.cases.deadlines.deadline_status`` == "soon"); a cheap bound on
    the due time first keeps it to the few deadlines that can qualify.
    """
    now = to_local(now)
    limit = max(cal.add_working_hours(now, policy.WARN_WITHIN_WORKING_HOURS),
                now + timedelta(hours=policy.WARN_WITHIN_WORKING_HOURS))
    out = []
    for case in candidates:
        for key, d in open_deadlines(case):
            if d.due <= now or d.due > limit:
                continue
            entry = case["deadlines"][key]
            if deadline_status(entry, cal, now) == "soon":
                out.append((case, key, d, entry))
    return sorted(out, key=lambda x: (x[2].due, x[0]["id"]))


def run_overdue(store: Store, now: datetime, dry_run: bool = False, send_mail: bool = True) -> dict:
    """Flag every passed deadline once (6.1.3, 6.2.1, 6.2.2, 5.1.1.3, 6.2.7, 6.2.8), propose the
    fines of a late hand-over (6.1.4) and of a late confirmation (6.2.8, its running count),
    warn of the deadlines due soon, notify, and send the queued mail."""
    now = to_local(now).replace(microsecond=0)
    persist = not dry_run  # the digests' cache files are written on real runs only
    if persist:
        keep_index_on_disk(store)
    cal = current_calendar(store)
    candidates = _open_cases.collect(store, persist=persist)
    items = overdue_in(candidates, now)
    managers = managers_of(store)
    names = display_names(store)
    flagged = _flag_keys.collect(store, persist=persist)
    known = existing_keys(store)

    # 1. the fine proposals (6.1.4, 6.2.8), planned on copies of the cases
    planned: dict[tuple[int, str], list[dict]] = {}
    fine_rows, fine_told = [], 0
    for item in items:
        planned_case = copy.deepcopy(item.case)
        new = propose_missed(planned_case, item.key, item.deadline, cal, now, responsible(item.case, item.key), by=ACTOR)
        if new:
            planned[(item.case["id"], item.key)] = new
            fine_told += len([n for n in tell_fines(store, planned_case, new, ACTOR) if n.key not in known])
            fine_rows += [{"case_id": item.case["id"], "case_number": item.case.get("number"), "deadline": item.key,
                           "key": f["key"], "clause": f["clause"], "person": f["person"], "amount": f["amount"],
                           "days": f.get("days")} for f in new]

    # 2. flags and notices
    new_flags, notices, warnings = [], [], []
    for item in items:
        case, key, d = item.case, item.key, item.deadline
        link, title = case_link(case["id"]), _case_title(case)
        who = names.get(item.responsible, item.responsible) if item.responsible else "技质部"
        ref = {"table": CASES, "id": case["id"]}
        if flag_key(case["id"], key) not in flagged:
            new_flags.append({"key": flag_key(case["id"], key), "case_id": case["id"],
                              "case_number": case.get("number"), "deadline": key, "clause": d.clause,
                              "due": d.due.isoformat(), "responsible": item.responsible, "flagged_at": iso_local(now)})
            body = (f"案例 {title} 的「{_label(key)}」已超期（{d.clause}：{d.basis}）。\n"
                    f"期限：{_fmt(d.due)}（起算 {_fmt(d.start)}）；责任人：{who}。")
            for r in _recipients(item.responsible, managers):
                notices.append(Notice(r, "overdue", f"【超期】{title}：{_label(key)}（{d.clause}）", body,
                                      key=f"overdue:{case['id']}:{key}:{r}", link=link, ref=ref))

    for case, key, d, entry in _soon(candidates, cal, now):
        resp = entry.get("responsible") or responsible(case, key)
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
                                  key=k, link=case_link(case["id"]), ref={"table": CASES, "id": case["id"]}))

    idle_flags, idle_notices = idle.plan_flags(store, candidates, cal, now, flagged, managers, case_link)
    new_flags += idle_flags
    notices += idle_notices

    new_notices = [n for n in notices if n.key not in known]
    fines_added, made = len(fine_rows), len({n.key for n in new_notices}) + fine_told

    # 3. all of it in one transaction: the cases re-read under the lock, every key checked again
    if not dry_run and (planned or new_flags or new_notices):
        fines_added = 0
        with store.transaction(ACTOR) as tx:
            for (cid, key), _ in sorted(planned.items()):
                case = tx.require(CASES, cid)
                entry = (case.get("deadlines") or {}).get(key)
                if case.get("state") == "closed" or entry is None or entry.get("done_at"):
                    continue  # met meanwhile: the workflow step made its own proposals
                new = propose_missed(case, key, Deadline.from_dict(entry), cal, now, responsible(case, key), by=ACTOR)
                if new:
                    new_notices += tell_fines(tx, case, new, ACTOR)  # who was told is written on each
                    tx.update(CASES, cid, {"fines": case["fines"]}, action="fine_proposed",
                              note=f"定时检查：处罚建议（{new[0]['clause']}）新增或更新 {len(new)} 条")
                    fines_added += len(new)
            have = {d["key"] for d in tx.scan(FLAGS)} if new_flags else set()
            for flag in new_flags:
                if flag["key"] not in have:
                    tx.insert(FLAGS, flag)
            made = len(queue(tx, new_notices, now))

    daily = run_daily(store, now, cal, dry_run)  # the areas' daily tasks (jobs/daily.py), before the mail goes out
    mail = deliver(store, now, dry_run=dry_run or not send_mail, limit=MAIL_BATCH, actor=ACTOR)
    if persist:  # bring the cache files up to date with this run's own writes
        _open_cases.collect(store, persist=True)
        _flag_keys.collect(store, persist=True)
    return {
        "command": "overdue", "now": now.isoformat(), "dry_run": dry_run,
        "overdue": len(items),
        "flagged": [f for f in new_flags if not f.get("idle")],
        "idle_flagged": idle_flags,
        "fines_proposed": fines_added,
        "fines": fine_rows,
        "warnings": warnings,
        "notifications": made,
        "daily": daily,
        "mail": mail,
    }
