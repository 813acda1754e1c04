"""供应商索赔: the supplier notice and the compensation claim (3.1 「通知外购件生产厂家」「索赔」).

When a failure is attributed to a bought-in or outsourced part (a cause category of
``categories.SUPPLIER_CAUSES``) within the supplier's warranty (records.materials.warranty),
技质部 drafts a claim, sends the notice with it (the A4 letter is archived then: its SHA-256 in
the claim, so in the audit trail), records the supplier's reply; 财务部 records the money
recovered, each amount with its date (``recoveries``, for the external failure cost of 9.4);
技质部经理 closes it. States and roles: records.materials.claim_flow.

Table ``supplier_claims``::

    {"number": "SC2026-001", "state": "draft", "supplier_id", "case_id", "case_number",
     "inspection_id" (or None), "part_code", "part_text", "failure", "cause_category",
     "warranty": {"months", "basis", "start", "until", "failed_on", "within"},
     "lines": [{"kind": "parts|labour|travel|other", "text", "amount": "120.00"}], "amount": "…",
     "evidence": [{"sha256", "filename", "mime", "size", "at", "by"}],
     "notice_pdf": {"sha256", "size"}, "sent_at", "sent_by", "reply_due": "YYYY-MM-DD",
     "reply": {"on", "text", "outcome", "by", "at"}, "recoveries": [{"amount", "date", "note", "by", "at"}],
     "closed": {"at", "by", "note"}, "created_at", "created_by"}

Materials imports no case module: the caller passes the case's id and number in. Plain Python.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from records import policy
from records.calendar.workdays import iso_local, to_local
from records.catalog import categories
from records.core.errors import DomainError
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction
from records.notifications.inbox import Notice
from records.notifications.outbox import queue
from records.users.accounts import users_with_role

from . import claim_flow as flow
from . import claim_notice, suppliers, warranty

TABLE = "supplier_claims"
LINE_KINDS = claim_notice.LINE_KINDS
OUTCOMES = {"accepted": "同意赔偿（全部或部分）", "refused": "拒绝赔偿"}
MAX_LINES = 20
MAX_EVIDENCE = 20
CENT = Decimal("0.01")


class ClaimError(DomainError):
    pass


def money(value, field: str = "amount", label: str = "金额") -> Decimal:
    """An amount of money ≥ 0 with two decimals, or ClaimError on ``field``."""
    try:
        amount = Decimal(str(value).strip()).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise ClaimError(f"{label}请输入数字", field) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("100000000"):
        raise ClaimError(f"{label}必须在 0–100,000,000 元之间", field)
    return amount


def _text(data: dict, key: str, label: str, max_len: int, required: bool = True) -> str:
    value = (data.get(key) or "").strip()
    if required and not value:
        raise ClaimError(f"请填写{label}", key)
    if len(value) > max_len:
        raise ClaimError(f"{label}不能超过 {max_len} 个字", key)
    return value


def _lines(rows) -> tuple[list[dict], Decimal]:
    out, total = [], Decimal("0.00")
    for index, row in enumerate(rows or [], 1):
        text, raw = (row.get("text") or "").strip(), row.get("amount")
        if not text and raw in (None, ""):
            continue
        kind = row.get("kind") or ""
        if kind not in LINE_KINDS:
            raise ClaimError(f"第 {index} 行：请选择索赔依据的类别", "lines")
        amount = money(raw if raw not in (None, "") else "x", "lines", f"第 {index} 行金额")
        out.append({"kind": kind, "text": text[:200], "amount": str(amount)})
        total += amount
    if not out:
        raise ClaimError("请至少填写一行索赔依据（零部件、人工、差旅或其他损失）及金额", "lines")
    if len(out) > MAX_LINES:
        raise ClaimError(f"索赔依据最多 {MAX_LINES} 行", "lines")
    if total <= 0:
        raise ClaimError("索赔金额合计必须大于 0", "lines")
    return out, total


def _day(value, key: str, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ClaimError(f"{label}格式应为 YYYY-MM-DD", key) from None


def normalise(source: Store | Transaction, data: dict, current: dict | None = None) -> dict:
    """A claim's fields checked (3.1): a supplier, the case, the part, a supplier cause, a
    failure within the supplier's warranty, the basis of the amount claimed."""
    try:
        supplier = suppliers.get(source, int(data.get("supplier_id") or 0))
    except (TypeError, ValueError):
        supplier = None
    if supplier is None or not (supplier.get("active", True) or (current and current["supplier_id"] == supplier["id"])):
        raise ClaimError("请选择供应商", "supplier_id")
    try:
        case_id = int(data.get("case_id") or 0)
    except (TypeError, ValueError):
        case_id = 0
    if not case_id:
        raise ClaimError("请填写服务案例编号", "case_number")
    inspection = data.get("inspection_id")
    part_code = _text(data, "part_code", "零部件代号", 60, required=False)
    part_text = _text(data, "part_text", "零部件名称", 100, required=not part_code)
    cause = data.get("cause_category") or ""
    if cause not in categories.SUPPLIER_CAUSES:
        raise ClaimError("只有原因类别为外购件或外协件的故障才能向供应商索赔", "cause_category")
    categories.check(source, "cause", cause, "cause_category", current=(current or {}).get("cause_category"))
    basis = data.get("warranty_basis") or ""
    try:
        w = warranty.assess(supplier, part_code, part_text, basis,
                            _day(data.get("warranty_start"), "warranty_start", "保修期起算日"),
                            _day(data.get("failed_on"), "failed_on", "故障日期"))
    except warranty.WarrantyError as exc:
        raise ClaimError(str(exc), exc.field) from None
    if not w["within"]:
        raise ClaimError(f"故障日期已超出供应商保修期（{w['months']} 个月，至 {w['until']}），不能索赔", "failed_on")
    lines, total = _lines(data.get("lines"))
    return {"supplier_id": supplier["id"], "case_id": case_id,
            "case_number": _text(data, "case_number", "服务案例编号", 40, required=False),
            "inspection_id": int(inspection) if str(inspection or "").isdigit() else None,
            "part_code": part_code, "part_text": part_text,
            "failure": _text(data, "failure", "故障描述", 2000), "cause_category": cause, "warranty": w,
            "lines": lines, "amount": str(total)}


def get(source: Store | Transaction, claim_id: int) -> dict | None:
    return source.get(TABLE, claim_id)


def _require(tx: Transaction, claim_id: int, user: dict, action: str, expect_rev: int | None) -> dict:
    claim = tx.require(TABLE, claim_id)
    try:
        flow.check(claim, user, action)
    except flow.FlowRefused as exc:
        raise ClaimError(str(exc)) from None
    if expect_rev is not None and claim["_rev"] != expect_rev:
        raise ClaimError("该索赔已被他人修改，请刷新页面后重试")
    return claim


def create(store: Store, data: dict, user: dict, now: datetime) -> dict:
    """技质部 drafts a claim (state 起草)."""
    if not flow.may(user, "edit"):
        raise ClaimError("只有技质部可以起草索赔")
    with store.transaction(user["username"]) as tx:
        clean = normalise(tx, data)
        year = to_local(now).year
        seq = 1 + sum(1 for c in tx.scan(TABLE) if (c.get("number") or "").startswith(f"SC{year}-"))
        return tx.insert(TABLE, {**clean, "number": f"SC{year}-{seq:03d}", "state": flow.DRAFT, "evidence": [],
                                 "recoveries": [], "created_at": iso_local(now), "created_by": user["username"]})


def update(store: Store, claim_id: int, data: dict, user: dict, expect_rev: int | None = None) -> dict:
    with store.transaction(user["username"]) as tx:
        claim = _require(tx, claim_id, user, "edit", expect_rev)
        return tx.update(TABLE, claim_id, normalise(tx, data, claim))


def add_evidence(store: Store, claim_id: int, checked, user: dict, now: datetime) -> dict:
    """Attach a file (``checked``: records.core.uploads.check_upload's result) while drafting."""
    sha = put_blob(store.root / "files", checked.data)
    with store.transaction(user["username"]) as tx:
        claim = _require(tx, claim_id, user, "edit", None)
        if len(claim.get("evidence") or []) >= MAX_EVIDENCE:
            raise ClaimError(f"证据最多 {MAX_EVIDENCE} 个文件", "file")
        item = {"sha256": sha, "filename": (checked.filename or f"证据.{checked.ext}")[:100], "mime": checked.mime,
                "size": len(checked.data), "at": iso_local(now), "by": user["username"]}
        return tx.update(TABLE, claim_id, {"evidence": [*(claim.get("evidence") or []), item]})


def evidence_file(store: Store, claim: dict, index: int) -> tuple[dict, bytes] | None:
    items = claim.get("evidence") or []
    if not 0 <= index < len(items):
        return None
    return items[index], read_blob(store.root / "files", items[index]["sha256"])


def reply_due(sent_on: date, days: int) -> date:
    """The day the supplier's reply is due: ``claim_reply_days`` calendar days after sending (3.1)."""
    return sent_on + timedelta(days=int(days))


def send(store: Store, claim_id: int, user: dict, now: datetime, expect_rev: int | None = None) -> dict:
    """3.1 「通知外购件生产厂家」: the supplier notice is sent with the claim; its PDF is archived
    (immutable; its SHA-256 in the claim and the audit trail) and the reply falls due."""
    with store.transaction(user["username"]) as tx:  # refused early, before the slow PDF
        claim = _require(tx, claim_id, user, "send", expect_rev)
    sent_on = to_local(now).date()
    due = reply_due(sent_on, policy.parameter(store, "claim_reply_days"))
    sent = {**claim, "state": flow.SENT, "sent_at": iso_local(now), "sent_by": user["username"],
            "reply_due": due.isoformat()}
    pdf = claim_notice.render(store, sent)
    sha = put_blob(store.root / "files", pdf)
    with store.transaction(user["username"]) as tx:
        _require(tx, claim_id, user, "send", claim["_rev"])
        return tx.update(TABLE, claim_id, {"state": flow.SENT, "sent_at": sent["sent_at"], "sent_by": user["username"],
                                           "reply_due": sent["reply_due"], "notice_pdf": {"sha256": sha, "size": len(pdf)}},
                         action="send", note=f"供应商通知函已归档，SHA-256 {sha}")


def notice_pdf(store: Store, claim: dict) -> bytes:
    """The supplier notice: as archived once sent, else a draft rendered now."""
    if claim.get("notice_pdf"):
        return read_blob(store.root / "files", claim["notice_pdf"]["sha256"])
    return claim_notice.render(store, claim)


def _since_sent(claim: dict, on: date, now: datetime, field: str, message: str) -> None:
    """A day the supplier answered or paid: from the day the claim was sent up to today."""
    if on < date.fromisoformat(claim["sent_at"][:10]) or on > to_local(now).date():
        raise ClaimError(message, field)


def reply(store: Store, claim_id: int, data: dict, user: dict, now: datetime, expect_rev: int | None = None) -> dict:
    """技质部 records the supplier's answer: it agrees to pay (供应商答复) or refuses (拒绝)."""
    outcome = data.get("outcome") or ""
    if outcome not in OUTCOMES:
        raise ClaimError("请选择供应商的答复结果", "outcome")
    on = _day(data.get("on"), "on", "答复日期")
    if on is None:
        raise ClaimError("请填写答复日期", "on")
    with store.transaction(user["username"]) as tx:
        claim = _require(tx, claim_id, user, "reply", expect_rev)
        _since_sent(claim, on, now, "on", "答复日期应在发出日与今天之间")
        text = _text(data, "text", "答复内容", 2000)
        doc = tx.update(TABLE, claim_id, {
            "state": flow.REPLIED if outcome == "accepted" else flow.REFUSED,
            "reply": {"on": on.isoformat(), "text": text, "outcome": outcome, "by": user["username"], "at": iso_local(now)}})
        if outcome == "accepted":  # 财务部 acts next: the money, when it arrives (9.4)
            _tell(tx, doc, "finance", "replied", f"【供应商索赔】{doc['number']} 供应商同意赔偿，请到账后登记",
                  f"供应商同意赔偿索赔 {doc['number']}（索赔金额 {doc['amount']} 元）；款项到账后请登记追回金额和到账日期。", now)
        else:  # 技质部经理 closes a refused claim
            _tell(tx, doc, "tq_manager", "refused", f"【供应商索赔】{doc['number']} 供应商拒绝赔偿",
                  f"供应商拒绝赔偿索赔 {doc['number']}：{text}。请决定后关闭。", now)
        return doc


def _tell(tx: Transaction, claim: dict, role: str, what: str, subject: str, body: str, now: datetime) -> None:
    """Whoever acts next on a claim hears of it (the inbox, and mail when set up)."""
    queue(tx, [Notice(u["username"], "supplier_claim", subject, body, f"claim:{claim['id']}:{what}:{u['username']}",
                      f"/suppliers/claims/{claim['id']}", {"table": TABLE, "id": claim["id"]})
               for u in users_with_role(tx.store, role)], now)


def recovered_total(claim: dict) -> Decimal:
    return sum((Decimal(r["amount"]) for r in claim.get("recoveries") or []), Decimal("0.00"))


def recover(store: Store, claim_id: int, data: dict, user: dict, now: datetime, expect_rev: int | None = None) -> dict:
    """财务部 records money recovered from the supplier, with the day it was received (9.4)."""
    amount = money(data.get("amount") if data.get("amount") not in (None, "") else "x", "amount", "追回金额")
    if amount <= 0:
        raise ClaimError("追回金额必须大于 0", "amount")
    on = _day(data.get("date"), "date", "到账日期")
    if on is None:
        raise ClaimError("请填写到账日期", "date")
    with store.transaction(user["username"]) as tx:
        claim = _require(tx, claim_id, user, "recover", expect_rev)
        _since_sent(claim, on, now, "date", "到账日期应在索赔发出日与今天之间")
        item = {"amount": str(amount), "date": on.isoformat(), "note": _text(data, "note", "说明", 200, required=False),
                "by": user["username"], "at": iso_local(now)}
        rows = [*(claim.get("recoveries") or []), item]
        done = recovered_total({"recoveries": rows}) >= Decimal(claim["amount"])
        doc = tx.update(TABLE, claim_id, {"recoveries": rows, "state": flow.RECOVERED if done else flow.PARTLY})
        if done:  # 技质部经理 closes it
            _tell(tx, doc, "tq_manager", "recovered", f"【供应商索赔】{doc['number']} 已全部追回",
                  f"索赔 {doc['number']} 已全部追回（{recovered_total(doc)} 元），请关闭。", now)
        return doc


def close(store: Store, claim_id: int, data: dict, user: dict, now: datetime, expect_rev: int | None = None) -> dict:
    """技质部经理 closes the claim (recovered in full or in part, or refused)."""
    with store.transaction(user["username"]) as tx:
        _require(tx, claim_id, user, "close", expect_rev)
        note = _text(data, "note", "关闭说明", 500, required=False)
        return tx.update(TABLE, claim_id, {"state": flow.CLOSED, "closed": {"at": iso_local(now), "by": user["username"],
                                                                            "note": note}})


def recoveries(source: Store | Transaction, start: date, end: date) -> list[dict]:
    """Every amount recovered from a supplier between ``start`` and ``end`` (inclusive), each in
    the period it was recovered (GLOSSARY; 9.4 shows them as a deduction)."""
    out = []
    for c in sorted(source.scan(TABLE), key=lambda c: c["id"]):
        for r in c.get("recoveries") or []:
            day = date.fromisoformat(r["date"])
            if start <= day <= end:
                out.append({"claim_id": c["id"], "case_id": c["case_id"], "supplier_id": c["supplier_id"],
                            "amount": Decimal(r["amount"]), "date": day})
    return sorted(out, key=lambda r: (r["date"], r["claim_id"]))


def register(source: Store | Transaction, supplier_id: int | None = None, state: str = "",
             year: int | None = None) -> list[dict]:
    """The claim register: every claim, newest first, filtered by supplier, state and year."""
    rows = [c for c in source.scan(TABLE)
            if (not supplier_id or c["supplier_id"] == supplier_id) and (not state or c["state"] == state)
            and (not year or (c.get("created_at") or "")[:4] == str(year))]
    return sorted(rows, key=lambda c: c["id"], reverse=True)
