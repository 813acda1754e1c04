"""采购申请: 技质部 buys the service materials in time (3.1 「及时采购售后服务所需材料」) and
inspects what arrives (3.1 「所需材料…的检验」).

One document per request in table ``purchase_requests``::

    {"part_code": "PWR-24V" | None, "text": "电源模块（24V）", "qty": 5, "reason": "…",
     "case_id": 12 | None, "need_by": "2026-12-10", "state": "requested" | "approved" | "partial"
     | "received" | "refused", "requested_by", "requested_at", "decided_by", "decided_at",
     "decision_note", "accepted_qty": 3, "receipts": [{"at", "by", "part_code", "accepted",
     "rejected", "reject_reason", "unit_cost", "inspection", "move_id"}]}

技质部 requests (a catalogue part or free text), 技质部经理 approves or refuses; each delivery is
inspected: the accepted quantity goes into the store (records.materials.stock.receipt_tx, its
unit cost becoming the part's cost), the rejected quantity is recorded with the reason. Partial
deliveries keep the request open; it is done once the accepted quantity reaches the quantity
asked. A request still open after its need-by date is late (我的待办 of the requester and of
技质部经理).
"""
from __future__ import annotations

from datetime import date, datetime

from records.calendar.workdays import iso_local
from records.core.errors import DomainError, StaleRecord
from records.core.store import Store
from records.core.transaction import Transaction
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import users_with_role
from records.users.roles import TQ_MANAGER

from . import parts, stock

TABLE = "purchase_requests"
CASES = "cases"  # the cases' table, read only to check a case id (materials imports no cases code)
STATES = {"requested": "待审批", "approved": "已批准，待到货", "partial": "部分到货", "received": "已到货",
          "refused": "未批准"}
OPEN = ("requested", "approved", "partial")
REQUESTERS = parts.EDITORS  # 技质部
APPROVERS = ("tq_manager",)  # 技质部经理


class PurchaseError(DomainError):
    pass


def _roles(user: dict) -> set[str]:
    return set(user.get("roles") or ())


def _text(data: dict, key: str, label: str, max_len: int, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise PurchaseError(f"请填写{label}", key)
    if len(value) > max_len:
        raise PurchaseError(f"{label}不能超过 {max_len} 个字", key)
    return value


def _count(value, key: str, label: str, minimum: int = 1) -> int:
    try:
        n = int(str(value if value is not None else "").strip())
    except ValueError:
        raise PurchaseError(f"{label}必须是整数", key) from None
    if n < minimum or n > stock.MAX_QTY:
        raise PurchaseError(f"{label}必须是 {minimum}—{stock.MAX_QTY} 的整数", key)
    return n


def request_tx(tx: Transaction, data: dict, user: dict, now: datetime) -> dict:
    """3.1: 技质部 asks to buy a part (from the catalogue, or described) — how many, why, for
    which case if any, needed by when."""
    if not _roles(user) & set(REQUESTERS):
        raise PurchaseError("只有技质部可以提出采购申请", "part_code")
    code = parts.clean_code(data.get("part_code"))
    part = parts.get_by_code(tx, code) if code else None
    if code and part is None:
        raise PurchaseError("请从物料目录中选择", "part_code")
    text = _text(data, "text", "物料名称或说明", 200, required=part is None)
    if part is None and not text:
        raise PurchaseError("请选择目录中的物料，或填写物料名称", "text")
    qty = _count(data.get("qty"), "qty", "数量")
    reason = _text(data, "reason", "采购原因", 1000)
    case_id = int(data.get("case_id") or 0) or None
    if case_id and tx.get(CASES, case_id) is None:
        raise PurchaseError("没有这个案例", "case")
    need_by = data.get("need_by")
    if not isinstance(need_by, date):
        raise PurchaseError("请填写需要日期", "need_by")
    if need_by < now.date():
        raise PurchaseError("需要日期不能早于今天", "need_by")
    doc = tx.insert(TABLE, {"part_code": part["code"] if part else None, "text": text or parts.label(part),
                            "qty": qty, "reason": reason, "case_id": case_id, "need_by": need_by.isoformat(),
                            "state": "requested", "requested_by": user["username"], "requested_at": iso_local(now),
                            "decided_by": None, "decided_at": None, "decision_note": "", "accepted_qty": 0,
                            "receipts": []})
    _tell(tx, doc, [u["username"] for u in users_with_role(tx.store, TQ_MANAGER)], "requested",
          f"【采购审批】{doc['text']} × {qty}", f"{user['username']} 申请采购 {doc['text']} × {qty}，"
          f"需要日期 {doc['need_by']}：{reason}（3.1）", now)
    return doc


def _tell(tx: Transaction, req: dict, to: list[str], what: str, subject: str, body: str, now: datetime) -> None:
    """Whoever acts next on a purchase request hears of it (the inbox, and mail when set up)."""
    queue(tx, [Notice(u, "purchase", subject, body, f"purchase:{req['id']}:{what}:{u}",
                      f"/materials/purchases/{req['id']}", {"table": TABLE, "id": req["id"]}) for u in to], now)


def decide_tx(tx: Transaction, request_id: int, approve: bool, note: str, user: dict, now: datetime,
              expect_rev: int | None = None) -> dict:
    """3.1: 技质部经理 approves the purchase, or refuses it with the reason."""
    if not _roles(user) & set(APPROVERS):
        raise PurchaseError("采购申请由技质部经理审批", "note")
    req = tx.require(TABLE, request_id)
    if req["state"] != "requested":
        raise PurchaseError(f"该申请已处理（{STATES[req['state']]}）", "note")
    note = _text({"note": note}, "note", "审批意见", 1000, required=not approve)
    doc = tx.update(TABLE, request_id, {"state": "approved" if approve else "refused", "decided_by": user["username"],
                                        "decided_at": iso_local(now), "decision_note": note},
                    expect_rev=expect_rev, note="批准采购" if approve else f"不批准采购：{note}")
    word = "已批准，请采购并验收入库" if approve else f"未批准：{note}"
    _tell(tx, doc, [doc["requested_by"]], doc["state"], f"【采购申请】{doc['text']} {word.split('，')[0]}",
          f"采购申请 #{doc['id']}（{doc['text']} × {doc['qty']}）{word}。", now)
    return doc


def receive_tx(tx: Transaction, request_id: int, data: dict, user: dict, now: datetime,
               expect_rev: int | None = None) -> dict:
    """3.1 「所需材料…的检验」: a delivery against an approved request, inspected on arrival:
    the accepted quantity into the store at its unit cost, the rejected one with the reason.
    Partial deliveries are fine; the request is done when the accepted quantity is reached."""
    if not _roles(user) & set(REQUESTERS):
        raise PurchaseError("只有技质部可以验收入库", "accepted")
    req = tx.require(TABLE, request_id)
    if expect_rev is not None and int(expect_rev) != req["_rev"]:
        raise StaleRecord(TABLE, request_id, int(expect_rev), req["_rev"])
    if req["state"] not in ("approved", "partial"):
        raise PurchaseError(f"该申请现在不能验收（{STATES[req['state']]}）", "accepted")
    accepted = _count(data.get("accepted") or 0, "accepted", "合格数量", minimum=0)
    rejected = _count(data.get("rejected") or 0, "rejected", "不合格数量", minimum=0)
    if accepted + rejected == 0:
        raise PurchaseError("请填写到货的合格数量或不合格数量", "accepted")
    inspection = _text(data, "inspection", "检验结果", 1000)
    reject_reason = _text(data, "reject_reason", "不合格原因", 1000, required=rejected > 0)
    code = parts.clean_code(data.get("part_code")) or req.get("part_code")
    move = None
    if accepted:
        if not code:
            raise PurchaseError("合格品入库前请选择目录中的物料（可先在物料目录中新建）", "part_code")
        cost = parts.money(data.get("unit_cost"), "unit_cost", "单位成本")
        try:
            move = stock.receipt_tx(tx, code, accepted, user["username"], now, unit_cost=cost, purchase_id=request_id,
                                    note=f"采购申请 #{request_id} 验收入库")
        except DomainError as exc:
            raise PurchaseError(str(exc), exc.field if exc.field in ("part_code", "unit_cost") else "accepted") from None
    else:
        cost = None
    receipt = {"at": iso_local(now), "by": user["username"], "part_code": code if accepted else None,
               "accepted": accepted, "rejected": rejected, "reject_reason": reject_reason, "unit_cost": cost,
               "inspection": inspection, "move_id": move["id"] if move else None}
    total = req.get("accepted_qty", 0) + accepted
    state = "received" if total >= req["qty"] else ("partial" if total else req["state"])
    text = f"验收：合格 {accepted}，不合格 {rejected}" + (f"（{reject_reason}）" if rejected else "")
    return tx.update(TABLE, request_id, {"receipts": [*req["receipts"], receipt], "accepted_qty": total,
                                         "state": state, "part_code": req.get("part_code") or (code if accepted else None)},
                     note=text)


def is_late(req: dict, today: date) -> bool:
    """Open (not received, not refused) after its need-by date."""
    return req["state"] in OPEN and date.fromisoformat(req["need_by"]) < today


def all_requests(source: Store | Transaction, state: str = "") -> list[dict]:
    rows = [r for r in source.scan(TABLE) if not state or r["state"] == state or (state == "open" and r["state"] in OPEN)]
    return sorted(rows, key=lambda r: -r["id"])


def todo(source: Store | Transaction, user: dict, today: date) -> list[dict]:
    """What waits for ``user``: the late requests (the requester's own; every one for
    技质部经理) and, for 技质部经理, the requests to approve."""
    manager = bool(_roles(user) & set(APPROVERS))
    out = []
    for r in all_requests(source):
        late = is_late(r, today)
        if late and (manager or r["requested_by"] == user["username"]):
            out.append({**r, "late": True})
        elif manager and r["state"] == "requested":
            out.append({**r, "late": False})
    return out


def on_order(source: Store | Transaction) -> dict[str, int]:
    """part code → quantity approved and not yet accepted (shown beside a low stock)."""
    out: dict[str, int] = {}
    for r in source.scan(TABLE):
        if r["state"] in ("approved", "partial") and r.get("part_code"):
            out[r["part_code"]] = out.get(r["part_code"], 0) + r["qty"] - r.get("accepted_qty", 0)
    return out
