"""Rulings on 处罚 proposals: a tq_manager confirms or waives each, with a reason; the GM may
rule otherwise (6.2.8 特殊情况，报总经理指示执行). Pure rules over a case document (in memory)."""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import iso_local

from .proposals import FineError, find

STATUSES = {"proposed": "待处理", "confirmed": "已确认", "waived": "已免除", "gm_ruled": "总经理裁定"}


def _amount(value, field: str = "amount") -> int:
    try:
        amount = int(value)
    except (TypeError, ValueError):
        raise FineError("请输入金额（元，整数）", field) from None
    if amount < 0:
        raise FineError("金额不能为负数", field)
    return amount


def rule(case: dict, key: str, decision: str, amount, reason: str, by: str, now: datetime) -> dict:
    """A tq_manager confirms or waives a proposal (in memory), with a reason."""
    fine = find(case, key)
    if fine is None:
        raise FineError("没有这条处罚建议", "key")
    if fine["status"] != "proposed":
        raise FineError(f"这条处罚建议已处理（{STATUSES[fine['status']]}），不能再次处理", "key")
    reason = (reason or "").strip()
    if not reason:
        raise FineError("请填写理由", "reason")
    if decision == "confirmed":
        if fine["range"]:
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
    fine.update(status=decision, final_amount=final, decided_by=by, decided_at=iso_local(now), reason=reason)
    return fine


def gm_rule(case: dict, key: str, amount, reason: str, by: str, now: datetime) -> dict:
    """The GM rules otherwise (6.2.8 特殊情况，报总经理指示执行), whatever the status."""
    fine = find(case, key)
    if fine is None:
        raise FineError("没有这条处罚建议", "key")
    reason = (reason or "").strip()
    if not reason:
        raise FineError("请填写总经理指示", "reason")
    final = _amount(amount)
    fine.update(status="gm_ruled", final_amount=final, gm_by=by, gm_at=iso_local(now), gm_reason=reason)
    return fine
