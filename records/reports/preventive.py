"""Preventive actions (预防措施, 9.3): raised by 技质部 from one case or a group (a cause across a
model), carried out by a department (an improvement requirement to it, 9.3 「对各部门工作提出改进要求」)
under an owner, verified by 技质部 (no recurrence of that cause on that model for a period set
when verifying). States and roles: records.reports.preventive_flow.

Table ``preventive_actions``, one document per action::

    {"cases": [12, 40], "model": "JX-200", "cause_category": "process", "root_cause": "...",
     "action": "...", "department_id": 3, "owner": "li.gong", "due": "2027-01-31",
     "state": "raised", "raised_by": "wang.jingli", "raised_at": "...",
     "evidence": [{"sha256", "filename", "mime", "size", "at", "by"}],
     "submitted_at": null, "verification": {"months", "until", "result", "note", "recurred", "at", "by"},
     "history": [{"at", "by", "step", "text"}], "flagged_due": null}

The owner and the department's members are notified when it is raised; the daily run
(``run_overdue``, records/jobs/daily.py) tells the owner and the 技质部 managers once per due
date when an action is past it. ``report_sections`` hands the quarter's open and closed actions
to the quarterly report (9.2). Plain Python.
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.periods import Period, add_months
from records.calendar.workdays import WorkCalendar, iso_local, now_local, parse_local
from records.cases.index import rows as case_rows
from records.cases.vocab import TABLE as CASES
from records.cases.vocab import is_campaign, is_live
from records.catalog import categories
from records.catalog.products import TABLE as PRODUCTS
from records.core.errors import DomainError
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction
from records.core.uploads import SCAN, check_upload
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users import departments
from records.users.accounts import find_by_username, users_with_role
from records.users.roles import TQ_MANAGER

from . import preventive_flow as flow
from .sections import Section

TABLE = "preventive_actions"
MAX_TEXT = 2000
MAX_EVIDENCE = 20
MONTHS = (1, 24)  # the observation period a verification may set (company practice)
ACTOR = "cron"


class PreventiveError(DomainError):
    pass


def label(action: dict) -> str:
    return f"预防措施 YF-{action['id']:04d}"


def link(action_id: int) -> str:
    return f"/preventive/{action_id}"


def files_dir(store: Store):
    return store.root / "files"


def models(source: Store | Transaction) -> list[str]:
    """The products' models, sorted (the models an action may name)."""
    return sorted({p.get("model") for p in source.scan(PRODUCTS) if p.get("model")})


def _text(data: dict, key: str, label_: str, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise PreventiveError(f"请填写{label_}", key)
    if len(value) > MAX_TEXT:
        raise PreventiveError(f"{label_}不能超过 {MAX_TEXT} 个字", key)
    return value


def _date(value, key: str, label_: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise PreventiveError(f"请填写{label_}（日期）", key) from None


def _model_of_case(tx: Transaction, case: dict) -> str:
    product = tx.get(PRODUCTS, case["product_id"]) if case.get("product_id") else None
    return (product or {}).get("model") or ""


def _log(action: dict, by: str, now: datetime, step: str, text: str) -> None:
    action.setdefault("history", []).append({"at": iso_local(now), "by": by, "step": step, "text": text})


def raise_tx(tx: Transaction, data: dict, user: dict, now: datetime) -> dict:
    """9.3: 技质部 raises a preventive action from cases (``cases``: ids) or a cause across a model:
    root cause, action, department responsible and owner, due date; the owner and the
    department's members are told (an improvement requirement to the department)."""
    if not flow.may_raise(user):
        raise PreventiveError("只有技质部可以提出预防措施", None)
    ids = sorted({int(i) for i in data.get("cases") or []})
    cases = []
    for cid in ids:
        case = tx.get(CASES, cid)
        if case is None:
            raise PreventiveError(f"没有案例 #{cid}", "cases")
        cases.append(case)
    model = str(data.get("model") or "").strip() or next((m for m in map(lambda c: _model_of_case(tx, c), cases) if m), "")
    if not model:
        raise PreventiveError("请选择型号（或从案例提出）", "model")
    if model not in models(tx):
        raise PreventiveError(f"没有型号为 {model} 的产品", "model")
    cause = str(data.get("cause_category") or "").strip() or next(
        ((c.get("classification") or {}).get("cause_category") for c in cases
         if (c.get("classification") or {}).get("cause_category")), "")
    if not cause:
        raise PreventiveError("请选择原因类别", "cause_category")
    cause = categories.check(tx, "cause", cause, "cause_category")
    dept = tx.get(departments.TABLE, int(data.get("department_id") or 0)) if data.get("department_id") else None
    if dept is None or dept.get("removed") or not dept.get("active", True):
        raise PreventiveError("请选择责任部门", "department_id")
    owner = find_by_username(tx, str(data.get("owner") or ""))
    if owner is None or not owner.get("active", True):
        raise PreventiveError("请选择负责人", "owner")
    due = _date(data.get("due"), "due", "完成期限")
    if due < now_local(now).date():
        raise PreventiveError("完成期限不能早于今天", "due")
    doc = tx.insert(TABLE, {
        "cases": ids, "model": model, "cause_category": cause,
        "root_cause": _text(data, "root_cause", "根本原因"), "action": _text(data, "action", "预防措施"),
        "department_id": dept["id"], "owner": owner["username"], "due": due.isoformat(), "state": "raised",
        "raised_by": user["username"], "raised_at": iso_local(now), "evidence": [], "submitted_at": None,
        "verification": None, "history": [], "flagged_due": None})
    _log(doc, user["username"], now, "raise", f"提出：{doc['action'][:60]}；责任部门 {dept['name']}，期限 {doc['due']}")
    doc = tx.update(TABLE, doc["id"], {"history": doc["history"]}, note=f"{label(doc)} 提出")
    told = {owner["username"]} | {u["username"] for u in departments.members(tx, dept["id"]) if u.get("active", True)}
    body = (f"技质部提出{label(doc)}（9.3 对各部门工作提出改进要求）：型号 {model}，原因类别 "
            f"{categories.name_of(tx, 'cause', cause)}。\n根本原因：{doc['root_cause']}\n措施：{doc['action']}\n"
            f"责任部门：{dept['name']}；负责人：{owner.get('display_name') or owner['username']}；期限：{doc['due']}")
    queue(tx, [Notice(u, "preventive", f"【预防措施】{label(doc)} {model}", body, f"preventive:{doc['id']}:raised:{u}",
                      link(doc["id"]), {"table": TABLE, "id": doc["id"]})
               for u in sorted(told) if u != user["username"]], now)
    return doc


def raise_action(store: Store, data: dict, user: dict, now: datetime | None = None) -> dict:
    with store.transaction(user["username"]) as tx:
        return raise_tx(tx, data, user, now_local(now))


def recurrences(source: Store | Transaction, action: dict, start: date, end: date) -> list[dict]:
    """Cases of the action's model whose classification names its cause, received from ``start``
    to ``end`` (inclusive), other than those it was raised from: [{id, number, received_at}]."""
    store = source.store if isinstance(source, Transaction) else source
    products = [p["id"] for p in store.scan(PRODUCTS) if p.get("model") == action["model"]]
    index = case_rows(store)
    ids = [r["id"] for pid in products for r in index.bucket("product_id", pid)
           if r["id"] not in action.get("cases", []) and start.isoformat() <= (r.get("received_at") or "")[:10]
           <= end.isoformat()]
    out = [{"id": c["id"], "number": c.get("number") or f"#{c['id']}", "received_at": c.get("received_at") or ""}
           for c in store.docs(CASES, ids)
           if is_live(c) and not is_campaign(c)  # a cancelled or merged case, or a 技术通报's work, is no recurrence
           and (c.get("classification") or {}).get("final")
           and (c.get("classification") or {}).get("cause_category") == action["cause_category"]]
    return sorted(out, key=lambda r: r["received_at"])


def watch(action: dict, months: int) -> tuple[date, date]:
    """The observation period of a verification: from the hand-in of the evidence, ``months`` long."""
    start = (parse_local(action.get("submitted_at")) or parse_local(action["raised_at"])).date()
    return start, date.fromordinal(add_months(start, months).toordinal() - 1)


def _verify(tx: Transaction, action: dict, user: dict, data: dict, now: datetime) -> str:
    try:
        months = int(data.get("months") or 0)
    except (TypeError, ValueError):
        months = 0
    if not MONTHS[0] <= months <= MONTHS[1]:
        raise PreventiveError(f"观察期应为 {MONTHS[0]}—{MONTHS[1]} 个月", "months")
    result = data.get("result")
    if result not in ("effective", "ineffective"):
        raise PreventiveError("请选择验证结论", "result")
    start, until = watch(action, months)
    recurred = recurrences(tx, action, start, until)
    note = _text(data, "note", "验证意见", required=(result == "ineffective"))
    if result == "effective":
        if now_local(now).date() <= until:
            raise PreventiveError(f"观察期至 {until.isoformat()} 尚未结束，不能判定有效", "months")
        if recurred:
            raise PreventiveError(f"观察期内同型号、同原因又发生 {len(recurred)} 例（"
                                  + "、".join(r["number"] for r in recurred) + "），不能判定有效", "result")
    action["verification"] = {"months": months, "from": start.isoformat(), "until": until.isoformat(),
                              "result": result, "note": note, "recurred": [r["id"] for r in recurred],
                              "at": iso_local(now), "by": user["username"]}
    action["state"] = "closed" if result == "effective" else "ineffective"
    return f"验证：{'有效，关闭' if result == 'effective' else '无效'}（观察期 {months} 个月，至 {until}，复发 {len(recurred)} 例）"


def _start(tx, action, user, data, now) -> str:
    action["state"] = "in_progress"
    return "开始实施"


def _submit(tx, action, user, data, now) -> str:
    if not action.get("evidence"):
        raise PreventiveError("请先上传完成证据（文件）", "file")
    action["state"], action["submitted_at"] = "to_verify", iso_local(now)
    return "提交完成证据，申请验证" + (f"：{_text(data, 'note', '说明', required=False)}" if data.get("note") else "")


def _reopen(tx, action, user, data, now) -> str:
    due = _date(data.get("due"), "due", "新的完成期限")
    if due < now_local(now).date():
        raise PreventiveError("完成期限不能早于今天", "due")
    note = _text(data, "note", "重新实施的要求")
    action["state"], action["due"], action["submitted_at"] = "in_progress", due.isoformat(), None
    return f"重新实施，期限 {due.isoformat()}：{note}"


HANDLERS = {"start": _start, "submit": _submit, "verify": _verify, "reopen": _reopen}


def take(store: Store, action_id: int, step: str, user: dict, data: dict | None = None,
         now: datetime | None = None, expect_rev: int | None = None) -> dict:
    """One step of ``preventive_flow.STEPS`` (roles and state checked), audited, the owner or the
    raiser told."""
    now = now_local(now)
    with store.transaction(user["username"]) as tx:
        action = tx.require(TABLE, action_id)
        if expect_rev is not None and int(expect_rev) != action["_rev"]:
            raise PreventiveError("该预防措施已被他人更新，请刷新后再操作", None)
        s = flow.STEPS[step]
        if not flow.may(action, user, step):
            raise PreventiveError(f"您无权执行「{s.label}」", None)
        if action["state"] not in s.states:
            raise PreventiveError(f"当前状态为「{flow.STATES[action['state']]}」，不能执行「{s.label}」", None)
        text = HANDLERS[step](tx, action, user, data or {}, now)
        assert action["state"] in s.to, step
        _log(action, user["username"], now, step, text)
        stored = tx.update(TABLE, action_id, action, note=f"{label(action)} {s.label}")
        to = action["raised_by"] if step == "submit" else action["owner"]
        if to != user["username"]:
            queue(tx, [Notice(to, "preventive", f"【预防措施】{label(stored)}：{s.label}", text,
                              f"preventive:{action_id}:{step}:{len(action['history'])}:{to}", link(action_id),
                              {"table": TABLE, "id": action_id})], now)
        return stored


def add_evidence(store: Store, action_id: int, user: dict, content: bytes, filename: str,
                 now: datetime | None = None) -> dict:
    """A file of evidence of completion (PDF, JPEG, PNG; records.core.uploads), by the owner or 技质部."""
    now = now_local(now)
    file = check_upload(content or b"", filename or "", SCAN)
    with store.transaction(user["username"]) as tx:
        action = tx.require(TABLE, action_id)
        if not flow.may_add_evidence(action, user):
            raise PreventiveError("只有负责人或技质部可以在实施完成前上传证据", "file")
        if len(action.get("evidence") or []) >= MAX_EVIDENCE:
            raise PreventiveError(f"证据最多 {MAX_EVIDENCE} 个文件", "file")
        sha = put_blob(files_dir(store), file.data)
        name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:120] or f"证据.{file.ext}"
        evidence = [*(action.get("evidence") or []), {"sha256": sha, "filename": name, "mime": file.mime,
                                                      "size": len(file.data), "at": iso_local(now),
                                                      "by": user["username"]}]
        return tx.update(TABLE, action_id, {"evidence": evidence}, note=f"{label(action)} 上传证据 {name}")


def read_evidence(store: Store, action: dict, index: int) -> tuple[dict, bytes]:
    files = action.get("evidence") or []
    if not 0 <= index < len(files):
        raise PreventiveError("没有这个证据文件", None)
    return files[index], read_blob(files_dir(store), files[index]["sha256"])


def is_overdue(action: dict, today: date) -> bool:
    return action.get("state") in flow.RUNNING and action.get("due", "9999") < today.isoformat()


def all_actions(store: Store) -> list[dict]:
    return sorted(store.scan(TABLE), key=lambda a: a["id"], reverse=True)


def todo(store: Store, user: dict, now: datetime) -> list[dict]:
    """我的待办: the open actions the user owns (to carry out), and for 技质部 those to verify or reopen."""
    name = user.get("username")
    return [a for a in all_actions(store)
            if (a["owner"] == name and a["state"] in flow.RUNNING)
            or (a["state"] in ("to_verify", "ineffective") and flow.allowed(a, user))]


def run_overdue(store: Store, now: datetime, cal: WorkCalendar, dry_run: bool) -> dict:
    """9.3, the daily run: an open action past its due date is flagged once per due date, and its
    owner and the 技质部 managers are told (keyed notices: run twice, nothing new)."""
    now = now_local(now)
    today = now.date()
    late = [a for a in store.scan(TABLE) if is_overdue(a, today) and a.get("flagged_due") != a["due"]]
    if dry_run or not late:
        return {"overdue": [a["id"] for a in late], "flagged": 0}
    managers = [u["username"] for u in users_with_role(store, TQ_MANAGER)]
    with store.transaction(ACTOR) as tx:
        notices = []
        for a in late:
            tx.update(TABLE, a["id"], {"flagged_due": a["due"]}, note=f"{label(a)} 逾期（期限 {a['due']}）")
            for u in sorted({a["owner"], *managers}):
                notices.append(Notice(u, "preventive_overdue", f"【预防措施逾期】{label(a)} {a['model']}",
                                      f"{label(a)}（{a['action'][:80]}）的完成期限 {a['due']} 已过，尚未提交完成证据（9.3）。",
                                      f"preventive:{a['id']}:overdue:{a['due']}:{u}", link(a["id"]),
                                      {"table": TABLE, "id": a["id"]}))
        queue(tx, notices, now)
    return {"overdue": [a["id"] for a in late], "flagged": len(late)}


def state_on(action: dict, day: date) -> str | None:
    """The action's state at the end of ``day`` from its history (None: not yet raised)."""
    state = None
    for h in action.get("history") or []:
        if h["at"][:10] > day.isoformat():
            break
        state = {"raise": "raised", "start": "in_progress", "submit": "to_verify", "reopen": "in_progress"}.get(
            h["step"], state)
        if h["step"] == "verify":
            state = "closed" if h["text"].startswith("验证：有效") else "ineffective"
    return state


def report_sections(store: Store, period: Period, cal: WorkCalendar) -> list[Section]:
    """9.3 for the quarterly report (9.2): the actions still open at the period's end, and those
    closed (verified effective) within it."""
    depts = {d["id"]: d["name"] for d in departments.departments(store)}
    cause = categories.names(store, "cause")
    columns = ("编号", "型号", "原因类别", "预防措施", "责任部门", "负责人", "期限", "状态")
    open_rows, closed_rows = [], []
    for a in sorted(store.scan(TABLE), key=lambda a: a["id"]):
        state = state_on(a, period.end)
        row = (label(a), a["model"], cause.get(a["cause_category"], a["cause_category"]), a["action"][:80],
               depts.get(a["department_id"], ""), a["owner"], a["due"], flow.STATES.get(state or "", ""))
        closed_at = (a.get("verification") or {}).get("at", "")[:10]
        if state == "closed" and period.start.isoformat() <= closed_at <= period.end.isoformat():
            closed_rows.append(row)
        elif state in flow.OPEN:
            open_rows.append(row)
    return [Section("preventive_open", "未关闭的预防措施", columns, tuple(open_rows), clause="9.3",
                    note=f"截至 {period.end.isoformat()} 尚未验证关闭的预防措施（9.3）"),
            Section("preventive_closed", "本期关闭的预防措施", columns, tuple(closed_rows), clause="9.3",
                    note=f"{period.start.isoformat()} 至 {period.end.isoformat()} 经技质部验证有效而关闭（9.3）")]
