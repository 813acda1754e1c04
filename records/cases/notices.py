"""Who hears of each step of a case, and what they are told (the ``notify`` column of
``records.cases.flow.TRANSITIONS``, ``INTAKE_NOTIFY`` for the call recorded).

``plan`` says who is told of a step: the people of the step's ``notify`` rule (minus the one who
took it: nobody is told of their own action), plus the fine notices of the proposals and rulings
the step made (a proposal: the person concerned and every 技质部经理; a ruling: the person
concerned, and who referred it to the GM; a referral: every GM and the person; a statement:
every 技质部经理, and the GMs once referred), every recipient a reader of the fine
(records.fines.visibility). ``record`` writes it on the case (the step's timeline entry gets ``notified``, a new
proposal its ``notified``), and ``build`` makes the notices (``records.notifications``), queued by
the caller in the step's own transaction. The overdue run tells its own proposals with
``fine_notices`` (the same keys: a proposal is told once, whoever made it).

Each notice names the case (number, unit), the step, what comes next and the next deadline with
its clause, and links to the case. A fine's person and amount are written only in the fine
notices, whose readers may see them (GLOSSARY: the person concerned, 技质部经理); a step notice
says at most that a proposal exists. Plain Python: no Flask.
"""
from __future__ import annotations

from typing import Iterable

from records.calendar.workdays import parse_local, to_local
from records.fines.proposals import fine_amount_text
from records.fines.visibility import may_see_fine
from records.notifications.inbox import Notice
from records.users.accounts import TABLE as USERS
from records.users.roles import TQ_ENGINEER, TQ_MANAGER

from .conduct import latest_request
from .deadlines import open_deadlines
from .expenses import label as expense_label
from .flow import INTAKE_NOTIFY, TRANSITIONS, Notify, next_steps, technicians, tq_owner
from .vocab import DEADLINE_LABELS, TABLE, TYPES

STEP, FINE, RULING = "step", "fine_proposed", "fine_ruled"
REFERRAL, STATEMENT = "fine_referred", "fine_statement"
# The notices that name a fine's person or amount (GLOSSARY 处罚): only their recipient reads them;
# the admin's list of failed mail shows them without their subject.
PRIVATE_KINDS = (FINE, RULING, REFERRAL, STATEMENT, "fine_review")
GM = "gm"
RULED = {"confirmed": "已确认", "waived": "已免除", "gm_ruled": "总经理裁定"}



def case_link(case_id: int) -> str:
    return f"/cases/{case_id}"


def case_title(case: dict) -> str:
    """The case as a notice names it: its number and unit."""
    return f"{case.get('number') or '#' + str(case.get('id'))} {case.get('customer_name', '')}".strip()


def _fmt(value) -> str:
    dt = parse_local(value) if isinstance(value, str) else value
    return to_local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _users(source) -> dict[str, dict]:
    return {u["username"]: u for u in source.scan(USERS)}


def _active(users: dict[str, dict], names: Iterable[str | None]) -> list[str]:
    return [n for n in names if n and n in users and users[n].get("active", True)]


def _with_role(users: dict[str, dict], role: str) -> list[str]:
    return sorted(n for n, u in users.items() if role in (u.get("roles") or ()) and u.get("active", True))


def _people(case: dict, who: str, users: dict[str, dict]) -> list[str]:
    """The usernames one recipient of a ``notify`` rule stands for, on this case (active only)."""
    if who == "@tq_owner":
        owner = _active(users, [tq_owner(case)])
        return owner or _with_role(users, TQ_ENGINEER)  # no owner yet: every 技质部 engineer
    if who == "@receiver":
        return _active(users, [case.get("received_by")])
    if who == "@assignee":
        return _active(users, [case.get("reply_assignee")])
    if who == "@technicians":
        return _active(users, technicians(case))
    if who == "@approver":  # the 主管领导 of the latest 7.4 request
        return _active(users, [(latest_request(case) or {}).get("approver")])
    if who == "@fines":
        return []  # the fine notices tell them (``fine_notices``)
    return _with_role(users, who)


def rule_of(action: str) -> tuple[Notify, ...]:
    """The ``notify`` rule of a step: the row's, or ``INTAKE_NOTIFY`` for the call recorded."""
    if action == "intake":
        return INTAKE_NOTIFY
    return TRANSITIONS[action].notify or ()


def step_recipients(source, case: dict, action: str, by: str, users: dict | None = None) -> list[str]:
    """Who the step notice of ``action`` goes to, on ``case`` as it is after the step."""
    users = users if users is not None else _users(source)
    out: list[str] = []
    for rule in rule_of(action):
        if rule.when is None or rule.when(case):
            out += [p for who in rule.who for p in _people(case, who, users)]
    return [p for p in dict.fromkeys(out) if p != by]


def _ruling(fine: dict) -> tuple:
    return fine.get("status"), fine.get("final_amount"), fine.get("decided_at"), fine.get("gm_at")


RULED_STATUSES = frozenset(RULED)


def fine_events(before: Iterable[dict], case: dict) -> dict[str, list[dict]]:
    """What happened to the fines of ``case`` since ``before`` (its fines earlier), by kind:
    ``FINE`` new proposals (and a 6.2.8 proposal whose count the confirmation stopped: told
    again with its final amount), ``RULING`` those ruled, ``REFERRAL`` those referred to the GM,
    ``STATEMENT`` those the person added a statement to."""
    old = {f["key"]: f for f in before}
    out: dict[str, list[dict]] = {FINE: [], RULING: [], REFERRAL: [], STATEMENT: []}
    for f in case.get("fines") or []:
        was = old.get(f["key"])
        if was is None or (was.get("running") and not f.get("running")):
            out[FINE].append(f)
            continue
        if _ruling(was) != _ruling(f):
            if f["status"] in RULED_STATUSES:
                out[RULING].append(f)
            elif f["status"] == "referred":
                out[REFERRAL].append(f)
        if len(f.get("statements") or []) > len(was.get("statements") or []):
            out[STATEMENT].append(f)
    return out


def fine_changes(before: Iterable[dict], case: dict) -> tuple[list[dict], list[dict]]:
    """The proposals new on ``case`` since ``before`` (its fines earlier), and those ruled since."""
    events = fine_events(before, case)
    return events[FINE], events[RULING]


def fine_recipients(users: dict[str, dict], fine: dict, by: str, ruling: bool = False, kind: str | None = None) -> list[str]:
    """Who hears of an event on a fine, all of them its readers (records.fines.visibility): a
    proposal the person concerned and every 技质部经理; a ruling the person; a referral every
    GM and the person; a statement every 技质部经理 (and every GM once it is referred).

    Nobody is told of their own act (a ruling, a proposal made by hand); but a proposal the
    system made on a step (6.1.4, 6.2.6, 6.2.8) is told to its person even if they took the step.
    """
    kind = kind or (RULING if ruling else FINE)
    person = fine.get("person")
    if kind == STATEMENT:
        out = _with_role(users, TQ_MANAGER) + (_with_role(users, GM) if fine.get("status") == "referred" else [])
    elif kind == REFERRAL:
        out = _with_role(users, GM) + _active(users, [person])
    else:
        out = _active(users, [person])
        if kind == FINE:
            out += _with_role(users, TQ_MANAGER)
        elif fine.get("status") == "gm_ruled" and fine.get("referred_by"):
            out += _active(users, [fine["referred_by"]])  # who referred it hears the GM's ruling
    auto = kind == FINE and not fine.get("manual")
    return [p for p in dict.fromkeys(out) if (p != by or (auto and p == person)) and may_see_fine(users.get(p), fine)]


def plan(source, case: dict, action: str, by: str, fines_before: Iterable[dict] = ()) -> list[tuple]:
    """Who is told of the step ``action`` just taken on ``case`` by ``by``: [(recipient, kind,
    fine or None)], the step notice first, then a notice per new proposal and per ruling."""
    users = _users(source)
    out: list[tuple] = [(p, STEP, None) for p in step_recipients(source, case, action, by, users)]
    for kind, fines in fine_events(fines_before, case).items():
        out += [(p, kind, f) for f in fines for p in fine_recipients(users, f, by, kind=kind)]
    return out


def record(case: dict, entry: dict | None, told: list[tuple]) -> None:
    """Write on ``case`` who was told: the step's timeline ``entry`` (``notified``: those told of
    the step itself; every reader of the case sees it, so never the fine notices' recipients,
    who would say who is fined) and each new proposal (``notified``: who was told of it)."""
    if entry is not None:
        entry["notified"] = list(dict.fromkeys(p for p, kind, _ in told if kind == STEP))
    for p, kind, fine in told:
        if kind == FINE:
            fine.setdefault("notified", [])
            if p not in fine["notified"]:
                fine["notified"].append(p)


# --- The words of the notices -----------------------------------------------------------------


def _head(case: dict) -> str:
    product = " ".join(x for x in (case.get("product_label"), case.get("product_serial")) if x)
    return (f"案例：{case.get('number') or '#' + str(case['id'])}（{TYPES.get(case.get('type'), '')}）"
            f"{case.get('customer_name', '')}" + (f"，{product}" if product else ""))


def _next(case: dict, names: dict[str, str]) -> str:
    steps = next_steps(case)
    if not steps:
        return "下一步：无（已结案）" if case.get("state") == "closed" else "下一步：无"
    parts = []
    for s in steps:
        who = "、".join(names.get(u, u) for u in s["users"]) or "、".join(s["roles"])
        parts.append(f"{s['label']}（{who}）" if who else s["label"])
    return "下一步：" + "；".join(parts)


def deadline_line(case: dict) -> str:
    """The case's next deadline with its clause, or that there is none."""
    open_ = open_deadlines(case)
    if not open_:
        return "下一个期限：无"
    key, d = open_[0]
    return f"下一个期限：{DEADLINE_LABELS.get(key, key)}，{_fmt(d.due)} 前（{d.clause}：{d.basis}）"


def _details(case: dict, action: str) -> list[str]:
    """What the people told of this step need from it (6.2.5 precautions, 6.2.8 expenses)."""
    if action == "dispatch":
        d = case.get("dispatch") or {}
        return [f"服务方案：{d.get('plan', '')}", f"注意事项（6.2.5）：{d.get('precautions', '')}",
                f"技术服务单：{d.get('form_no') or ''}，出发 {_fmt(d.get('departed_at'))}"]
    if action == "confirm":
        audit = case.get("audit") or {}
        lines = [f"{expense_label(x)}：报销 {x['claimed']:.2f} 元，核准 {x['approved']:.2f} 元"
                 + (f"（{x['reason']}）" if x.get("reason") else "") for x in audit.get("lines") or []]
        return ["费用审核（6.2.8）：" + ("；".join(lines) or "无报销项目")
                + f"；核准合计 {audit.get('approved_total', 0):.2f} 元"]
    return []


def _notice(case: dict, recipient: str, kind: str, subject: str, lines: list[str], key: str) -> Notice:
    return Notice(recipient, kind, subject, "\n".join(x for x in lines if x), key=key,
                  link=case_link(case["id"]), ref={"table": TABLE, "id": case["id"]})


def _fine_lines(case: dict, f: dict, names: dict[str, str]) -> list[str]:
    person = names.get(f.get("person"), f.get("person")) if f.get("person") else "技质部"
    return [_head(case), f"处罚建议（{f['clause']}）：{f['basis']}", f"责任人：{person}；建议金额：{fine_amount_text(f, note=True)}"]


def fine_notices(source, case: dict, events: dict[str, list[dict]], by: str,
                 names: dict[str, str] | None = None) -> list[Notice]:
    """The notices of the fines' events (``fine_events``): a new proposal, a ruling, a referral
    to the GM, a statement; each to ``fine_recipients`` of its kind, all of them readers of the
    fine: the only notices that name a fine's person and amount."""
    users = _users(source)
    names = names if names is not None else {n: u.get("display_name") or n for n, u in users.items()}
    title, out = case_title(case), []
    for f in events.get(FINE, ()):
        final = "" if f.get("running") or f.get("days") is None else ":final"
        lines = [*_fine_lines(case, f, names),
                 f"提出：{names.get(f.get('proposed_by'), f.get('proposed_by'))}，{_fmt(f.get('proposed_at'))}",
                 (f"{f['clause']} 的延迟天数计至技质部确认完成为止，确认后方可处理。" if f.get("running") else
                  "待技质部经理确认或免除（特殊情况报总经理裁定，6.2.8）；责任人可在案例页面提出申辩或说明。"),
                 deadline_line(case)]
        for p in fine_recipients(users, f, by, kind=FINE):
            out.append(_notice(case, p, FINE, f"【处罚建议】{title}（{f['clause']}）", lines,
                               f"fine:{case['id']}:{f['key']}{final}:{p}"))
    for f in events.get(RULING, ()):
        gm = f.get("status") == "gm_ruled"
        at, who = (f.get("gm_at"), f.get("gm_by")) if gm else (f.get("decided_at"), f.get("decided_by"))
        result = RULED.get(f["status"], f["status"]) + ("" if f["status"] == "waived" else f" {f.get('final_amount')} 元")
        lines = [_head(case), f"处罚（{f['clause']}）：{f['basis']}", f"结果：{result}",
                 f"理由：{f.get('gm_reason') if gm else f.get('reason')}", f"裁定：{names.get(who, who)}，{_fmt(at)}", deadline_line(case)]
        for p in fine_recipients(users, f, by, kind=RULING):
            out.append(_notice(case, p, RULING, f"【处罚裁定】{title}（{f['clause']}）", lines,
                               f"ruling:{case['id']}:{f['key']}:{at}:{p}"))
    for f in events.get(REFERRAL, ()):
        lines = [*_fine_lines(case, f, names),
                 f"报总经理裁定（6.2.8 特殊情况）：{names.get(f.get('referred_by'), f.get('referred_by'))}，"
                 f"{_fmt(f.get('referred_at'))}；理由：{f.get('referral_reason')}",
                 "请总经理在案例页面或「我的待办」裁定（金额、指示）。", deadline_line(case)]
        for p in fine_recipients(users, f, by, kind=REFERRAL):
            out.append(_notice(case, p, REFERRAL, f"【处罚报总经理】{title}（{f['clause']}）", lines,
                               f"referral:{case['id']}:{f['key']}:{f.get('referred_at')}:{p}"))
    for f in events.get(STATEMENT, ()):
        st = (f.get("statements") or [{}])[-1]
        lines = [*_fine_lines(case, f, names),
                 f"申辩/说明（{names.get(st.get('by'), st.get('by'))}，{_fmt(st.get('at'))}）：{st.get('text', '')}",
                 deadline_line(case)]
        n = len(f.get("statements") or [])
        for p in fine_recipients(users, f, by, kind=STATEMENT):
            out.append(_notice(case, p, STATEMENT, f"【处罚申辩】{title}（{f['clause']}）", lines,
                               f"statement:{case['id']}:{f['key']}:{n}:{p}"))
    return out


def tell_fines(source, case: dict, proposed: list[dict], by: str) -> list[Notice]:
    """The notices of proposals made outside a step (the overdue run), each proposal's
    ``notified`` written on it (``case`` in memory, with its id)."""
    made = fine_notices(source, case, {FINE: proposed}, by)
    record(case, None, [(n.recipient, FINE, f) for f in proposed for n in made
                        if n.key.startswith(f"fine:{case['id']}:{f['key']}:")])
    return made


def build(source, case: dict, action: str, by: str, entry_index: int, told: list[tuple],
          fines_before: Iterable[dict] = ()) -> list[Notice]:
    """The notices of ``plan`` for the stored ``case`` (with its id): the step notice to each
    of its recipients, then the fine notices. ``entry_index``: the step's timeline entry."""
    users = _users(source)
    names = {n: u.get("display_name") or n for n, u in users.items()}
    timeline = case.get("timeline") or []
    entry = timeline[entry_index] if 0 <= entry_index < len(timeline) else {}
    label = TRANSITIONS[action].label if action in TRANSITIONS else entry.get("label", action)
    at = entry.get("at")
    lines = [_head(case), f"{names.get(by, by)} {_fmt(at) if at else ''} 完成「{label}」" +
             (f"：{entry['text']}" if entry.get("text") else ""),
             *_details(case, action), _next(case, names), deadline_line(case)]
    out = [_notice(case, p, STEP, f"【{label}】{case_title(case)}", lines, f"step:{case['id']}:{entry_index}:{action}:{p}")
           for p, kind, _ in told if kind == STEP]
    return out + fine_notices(source, case, fine_events(fines_before, case), by, names)
