"""Rulings on 处罚 proposals, one fine at a time: a tq_manager confirms or waives each, with a
reason, or refers it to the GM (6.2.8 特殊情况，报总经理指示执行); the GM rules (amount, reason),
on a referral or of his own accord; the person concerned may add a statement (申辩/说明) before
the ruling.

Every function is pure over one fine dict (records/fines/proposals.py), changed in memory, and
takes ``(fine, actor, now, amount, reason)`` (``actor``: the user dict, its roles checked here),
so that the case page (records/cases/steps/fine_decisions.py) and the penalty register's ruling
of many fines at once call the very same rules. The caller writes the case in a transaction.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import iso_local
from records.users.roles import TQ_MANAGER

from .proposals import FineError, is_running

GM = "gm"
STATUSES = {"proposed": "待处理", "referred": "已报总经理", "confirmed": "已确认", "waived": "已免除",
            "gm_ruled": "总经理裁定"}
DECISIONS = {"confirmed": "确认处罚", "waived": "免除"}
MAX_TEXT = 1000


def _amount(value, field: str = "amount") -> int:
    try:
        amount = int(str(value).strip())
    except (TypeError, ValueError):
        raise FineError("请输入金额（元，整数）", field) from None
    if amount < 0:
        raise FineError("金额不能为负数", field)
    return amount


def _has_role(actor: dict, role: str) -> bool:
    return role in (actor.get("roles") or ())


def _text(value, field: str, missing: str) -> str:
    text = (value or "").strip()
    if not text:
        raise FineError(missing, field)
    if len(text) > MAX_TEXT:
        raise FineError(f"不能超过 {MAX_TEXT} 个字", field)
    return text


def _not_running(fine: dict) -> None:
    if is_running(fine):
        raise FineError(f"{fine['clause']} 的延迟天数仍在累计（目前 {fine.get('days') or 0} 个工作日）："
                        "须在技质部完成确认及费用审核后才能处理", "key")


def confirm(fine: dict, actor: dict, now: datetime, amount, reason: str) -> dict:
    """A tq_manager confirms a proposal: its amount (a range's within it; a fixed amount as
    proposed, else the GM decides, 6.2.8), with a reason."""
    return decide(fine, actor, now, "confirmed", amount, reason)


def waive(fine: dict, actor: dict, now: datetime, amount, reason: str) -> dict:
    """A tq_manager waives a proposal (0 元), with a reason (``amount`` is not read)."""
    return decide(fine, actor, now, "waived", amount, reason)


def _open_to_manager(fine: dict, actor: dict, not_manager: str, already: str) -> None:
    """What 技质部经理 may still do to a proposal: only theirs, not referred to the GM, not ruled,
    not still counting (6.2.8); FineError on "key" otherwise."""
    if not _has_role(actor, TQ_MANAGER):
        raise FineError(not_manager, "key")
    if fine["status"] == "referred":
        raise FineError("这条处罚建议已报总经理，等待总经理裁定", "key")
    if fine["status"] != "proposed":
        raise FineError(f"这条处罚建议已处理（{STATUSES[fine['status']]}），{already}", "key")
    _not_running(fine)


def decide(fine: dict, actor: dict, now: datetime, decision: str, amount, reason: str) -> dict:
    """A tq_manager confirms or waives a proposal not yet ruled nor referred, with a reason."""
    _open_to_manager(fine, actor, "只有技质部经理可以确认或免除处罚建议", "不能再次处理")
    reason = _text(reason, "reason", "请填写理由")
    if decision == "confirmed":
        if fine.get("range"):
            lo, hi = fine["range"]
            final = _amount(amount)
            if not lo <= final <= hi:
                raise FineError(f"{fine['clause']} 的金额应在 {lo}—{hi} 元之间", "amount")
        else:
            final = fine["amount"] if amount in (None, "") else _amount(amount)
            if final != fine["amount"]:
                raise FineError(f"{fine['clause']} 规定金额为 {fine['amount']} 元；如需变更请报总经理裁定", "amount")
    elif decision == "waived":
        final = 0
    else:
        raise FineError("请选择确认或免除", "decision")
    fine.update(status=decision, final_amount=final, decided_by=actor["username"], decided_at=iso_local(now),
                reason=reason)
    return fine


def refer(fine: dict, actor: dict, now: datetime, amount, reason: str) -> dict:
    """A tq_manager refers a proposal to the GM (6.2.8 特殊情况，报总经理指示执行), with the
    reason; it then waits for the GM (nobody else may confirm or waive it). ``amount`` is not read."""
    _open_to_manager(fine, actor, "只有技质部经理可以报总经理裁定", "不能再报总经理")
    reason = _text(reason, "reason", "请写明报总经理的理由（特殊情况）")
    fine.update(status="referred", referred_by=actor["username"], referred_at=iso_local(now), referral_reason=reason)
    return fine


def gm_rule(fine: dict, actor: dict, now: datetime, amount, reason: str) -> dict:
    """The GM rules (6.2.8 特殊情况，报总经理指示执行): the amount (0 = no fine) and his
    instruction, on a referral or of his own accord, whatever the status (not while a 6.2.8
    count still runs)."""
    if not _has_role(actor, GM):
        raise FineError("只有总经理可以裁定", "key")
    _not_running(fine)
    reason = _text(reason, "reason", "请填写总经理指示")
    final = _amount(amount)
    fine.update(status="gm_ruled", final_amount=final, gm_by=actor["username"], gm_at=iso_local(now), gm_reason=reason)
    return fine


def add_statement(fine: dict, actor: dict, now: datetime, amount, reason: str) -> dict:
    """The person concerned adds a statement (申辩/说明, ``reason``) to their own proposal before
    it is ruled; kept on the fine (``statements``), read by the fine's readers. ``amount`` is not read."""
    if fine.get("person") != actor.get("username"):
        raise FineError("只有被处罚人本人可以提交申辩或说明", "key")
    if fine["status"] not in ("proposed", "referred"):
        raise FineError(f"这条处罚已处理（{STATUSES[fine['status']]}），不能再提交申辩或说明", "key")
    text = _text(reason, "text", "请填写申辩或说明")
    entry = {"by": actor["username"], "at": iso_local(now), "text": text}
    fine["statements"] = [*(fine.get("statements") or []), entry]
    return entry
