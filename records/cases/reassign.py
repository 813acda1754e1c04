"""A person's open work on the cases, and its hand-over to successors (when the admin disables them).

The kinds of open work (``CASE_KINDS``), on cases not closed:

- ``owner``       the case's 技质部 owner (``flow.tq_owner``): the 6.2.2 / 6.2.8 deadlines and the
                  steps' notices answer to this person
- ``reply``       the person 技质部 asked to answer a consultation (6.2.1, ``reply_assignee``)
- ``technician``  a technician sent (6.2.5) who has not arrived on site yet (``flow.arrived``), or
                  who has arrived and whose 维修完毕, return or report is still open: who has
                  arrived did the work and stays on the record, the successor joins to finish it
- ``deadline``    the person answerable for an open deadline (``deadlines.responsible``) that
                  the moves above do not already move
- ``approval``    a technician's 7.4 request waiting for this person as 主管领导 (only the approver
                  may decide it: without a successor it would wait for ever)

Never the person of a fine: a fine proposal or ruling stays with whom it concerns. The follow-up
calls (8.1, 8.2) are a layer up (records/followups/handover.py), which disables the person and
hands over everything in one transaction.
"""
from __future__ import annotations

from datetime import datetime

from records.core.transaction import Transaction
from records.users.accounts import TABLE as USERS
from records.users.accounts import display_name
from records.users.roles import TQ_ENGINEER, TQ_ROLES

from .conduct import REQUESTED
from .deadlines import responsible
from .flow import arrived, technicians
from .timeline import add
from .vocab import DEADLINE_LABELS, TABLE, CaseError, is_live

# The states whose next step only a technician sent may take (6.2.6, 6.2.7): 维修完毕, the
# return, the report.
TECHNICIAN_STEPS = ("on_site", "completed", "return_approved", "awaiting_report")
CASE_KINDS = {
    "owner": "负责的案例（技质部负责人）",
    "reply": "待答复的咨询（6.2.1）",
    "technician": "已派出、尚未到达现场（6.2.5）",
    "deadline": "负责的时限",
    "approval": "待审批的交际应酬申请（7.4，主管领导）",
}


def _left_alone(case: dict, username: str) -> bool:
    """Whether ``username`` is the only technician sent who could take the case's next step
    (维修完毕, the return, the report: ``TECHNICIAN_STEPS``) after the arrival."""
    return (case.get("state") in TECHNICIAN_STEPS and technicians(case) == [username])


def _open(case: dict) -> bool:
    return case.get("state") != "closed" and is_live(case)


def _open_deadline_keys(case: dict) -> list[str]:
    return [k for k, e in (case.get("deadlines") or {}).items() if not e.get("done_at")]


def _deadline_route(case: dict, username: str, key: str) -> str | None:
    """Which move takes ``username``'s open deadline ``key`` along (a kind of ``CASE_KINDS``), or
    None when they do not answer for it."""
    entry = case["deadlines"][key]
    if (entry.get("responsible") or responsible(case, key)) != username:
        return None
    if key == "consult_reply" and case.get("state") == "awaiting_reply" and case.get("reply_assignee") == username:
        return "reply"
    if key in ("decision", "confirm", "arrival", "consult_reply") and case.get("tq_owner") == username:
        return "owner"
    if key == "arrival" and username in technicians(case) and not arrived(case):
        return "technician"
    return "deadline"


def open_case_work(source, username: str) -> dict[str, list[dict]]:
    """kind → rows ``{case_id, number, what}`` of ``username``'s open work on the cases
    (``source``: a Store or an open Transaction)."""
    out: dict[str, list[dict]] = {k: [] for k in CASE_KINDS}
    for case in source.scan(TABLE):
        if not _open(case):
            continue
        row = {"case_id": case["id"], "number": case.get("number", ""), "customer": case.get("customer_name", "")}
        if case.get("tq_owner") == username:
            out["owner"].append({**row, "what": "技质部负责人"})
        if case.get("state") == "awaiting_reply" and case.get("reply_assignee") == username:
            out["reply"].append({**row, "what": "答复咨询"})
        if username in technicians(case) and not arrived(case):
            out["technician"].append({**row, "what": "派出，未到达"})
        elif _left_alone(case, username):
            out["technician"].append({**row, "what": "已到达，现场或汇报未完成：接替者加入完成，本人仍留在记录上"})
        for key in _open_deadline_keys(case):
            if _deadline_route(case, username, key) == "deadline":
                out["deadline"].append({**row, "key": key, "what": DEADLINE_LABELS.get(key, key)})
        if any(a.get("approver") == username for a in waiting_approvals(case)):
            out["approval"].append({**row, "what": "交际应酬事先同意（7.4）"})
    return out


def waiting_approvals(case: dict) -> list[dict]:
    """The case's 7.4 requests still waiting for their 主管领导's answer."""
    return [a for a in case.get("approvals") or [] if a.get("state") == REQUESTED]


# 停用: who may take over each kind of open work (any active user for a kind not named here), and
# what a wrong one is told; records/followups/handover.py adds the kind "followup" to the cases'.
SUCCESSOR_ROLES = {"owner": TQ_ROLES, "technician": ("technician",), "followup": (TQ_ENGINEER,)}
SUCCESSOR_REFUSED = {"owner": "案例负责人须为技质部人员", "technician": "接手的须为售后服务技术人员",
                     "followup": "跟踪回访只能交给在职的技质部工程师"}


def may_succeed(kind: str, user: dict) -> bool:
    """Whether ``user`` has a role that may take over open work of ``kind`` (``SUCCESSOR_ROLES``)."""
    roles = SUCCESSOR_ROLES.get(kind)
    return not roles or bool(set(user.get("roles") or ()) & set(roles))


def check_successor(tx: Transaction, kind: str, username: str, successor: str | None) -> dict:
    """The successor's user document, if they may take over work of ``kind``; CaseError on ``to_<kind>``."""
    field = f"to_{kind}"
    if not successor:
        raise CaseError("请选择接手人", field)
    if successor == username:
        raise CaseError("接手人不能是被停用的人", field)
    user = next((u for u in tx.scan(USERS) if u["username"] == successor), None)
    if user is None or not user.get("active", True):
        raise CaseError(f"没有在职的用户 {successor}", field)
    if not may_succeed(kind, user):
        raise CaseError(SUCCESSOR_REFUSED[kind], field)
    return user


def hand_over_cases_tx(tx: Transaction, username: str, successors: dict[str, str], by: str,
                       now: datetime) -> dict[str, list[dict]]:
    """Move ``username``'s open case work (as ``open_case_work`` finds it inside ``tx``) to
    ``successors`` (kind → username, checked by ``check_successor`` for each kind with work);
    each case changed gets one timeline entry. Returns the work moved, as ``open_case_work``."""
    work = open_case_work(tx, username)
    names = {k: check_successor(tx, k, username, successors.get(k)) for k, rows in work.items() if rows}
    to = {k: u["username"] for k, u in names.items()}
    touched = sorted({r["case_id"] for rows in work.values() for r in rows})
    for case_id in touched:
        case = tx.require(TABLE, case_id)
        routes = {k: _deadline_route(case, username, k) for k in _open_deadline_keys(case)}
        done = []
        if "owner" in to and case.get("tq_owner") == username:
            case["tq_owner"] = to["owner"]
            done.append(f"技质部负责人改为 {display_name(names['owner'])}")
        if "reply" in to and case.get("state") == "awaiting_reply" and case.get("reply_assignee") == username:
            case["reply_assignee"] = to["reply"]
            done.append(f"答复人改为 {display_name(names['reply'])}")
        if "technician" in to and arrived(case) and _left_alone(case, username):
            # who arrived did the work and stays on the record; the successor joins to finish it
            case["dispatch"]["technicians"] = list(dict.fromkeys([*technicians(case), to["technician"]]))
            done.append(f"加派技术人员 {display_name(names['technician'])} 完成现场及汇报")
        elif "technician" in to and username in technicians(case) and not arrived(case):
            # the successor takes the leaver's place: the first technician stays the team's lead
            # (deadlines.responsible reads it for 6.2.7)
            techs = [to["technician"] if t == username else t for t in technicians(case)]
            case["dispatch"]["technicians"] = list(dict.fromkeys(techs))
            done.append(f"派出的技术人员改为 {display_name(names['technician'])}")
        if "approval" in to:
            for a in waiting_approvals(case):
                if a.get("approver") == username:
                    a["approver"] = to["approval"]
                    done.append(f"交际应酬申请改由 {display_name(names['approval'])} 审批（7.4）")
        for key, route in routes.items():
            entry = case["deadlines"][key]
            if route is None or (route != "deadline" and entry.get("responsible") is None):
                continue  # not theirs, or answers to whoever now holds the role on the case
            entry["responsible"] = to[route]
            if route == "deadline":
                done.append(f"时限「{DEADLINE_LABELS.get(key, key)}」责任人改为 {display_name(names['deadline'])}")
        add(case, "step", by, now, "handover", f"{username} 停用，工作交接：" + "；".join(done))
        tx.update(TABLE, case_id, case, action="handover", note=f"{username} 停用，工作交接")
    return work


