"""The entered items of the external failure cost (9.4) and the quarter's output value.

Table ``failure_cost_entries``: one entered amount of 索赔费用, 退货损失, 诉讼费用 or 降价损失
(GB/T 13339; 保修费用 is computed from the cases, records/reports/failure_costs.py), entered by
技质部 or 财务部 with its evidence (files checked by records.core.uploads, kept by SHA-256)::

    {"item": "claims", "amount": 12000.0, "date": "2026-11-03", "quarter": "2026Q4",
     "case_id": 7 | None, "customer_id": 2 | None, "description": "…",
     "evidence": [{"sha256", "size", "mime", "type", "filename"}], "by": "finance", "at": "…",
     "reversed": None | {"reason", "by", "at"}}

Each entry is linked to a case or a customer (a case brings its customer). A correction is an
audited update (its reason in the audit note); an entry is never deleted: a reversal with its
reason takes it out of the figures and keeps it readable.

Table ``output_values``: the quarter's 工业总产值 entered by 财务部 (one document per quarter,
changes audited), the divisor of the external loss rate (GLOSSARY 外部损失率).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from records.calendar.periods import quarter_label
from records.calendar.workdays import iso_local
from records.cases.expenses import amount as parse_amount
from records.cases.vocab import TABLE as CASES
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.errors import DomainError, RecordNotFound
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction
from records.core.uploads import SCAN, CheckedUpload, check_upload
from records.service_forms.archive import files_dir
from records.users.roles import TQ_ROLES

TABLE = "failure_cost_entries"
OUTPUT_TABLE = "output_values"
# GB/T 13339's five items of the external failure cost; 保修费用 is computed, the others entered.
ITEMS = {"claims": "索赔费用", "returns": "退货损失", "warranty": "保修费用", "litigation": "诉讼费用",
         "price_cuts": "降价损失"}
WARRANTY = "warranty"
ENTERED = ("claims", "returns", "litigation", "price_cuts")
ENTRY_ROLES = (*TQ_ROLES, "finance")  # 技质部 / 财务部 enter and correct
OUTPUT_ROLES = ("finance",)  # 财务部 enters the 工业总产值
READERS = (*TQ_ROLES, "finance", "vp", "gm")
MAX_TEXT = 400
MAX_FILES = 5
MAX_OUTPUT = 10 ** 13
_OUTPUT = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d{1,2})?")


class EntryError(DomainError):
    pass


def _roles(user: dict) -> set:
    return set(user.get("roles") or ())


def may_enter(user: dict) -> bool:
    return bool(_roles(user) & set(ENTRY_ROLES))


def may_enter_output(user: dict) -> bool:
    return bool(_roles(user) & set(OUTPUT_ROLES))


def may_read(user: dict) -> bool:
    return bool(_roles(user) & set(READERS))


def _check(tx: Transaction, data: dict, today: date) -> dict:
    item = data.get("item")
    if item not in ENTERED:
        raise EntryError("请选择项目（索赔费用、退货损失、诉讼费用或降价损失；保修费用由案例计算）", "item")
    try:
        value = parse_amount(data.get("amount"))
    except ValueError as exc:
        raise EntryError(str(exc), "amount") from None
    if not value:
        raise EntryError("请填写大于 0 的金额", "amount")
    day = data.get("date")
    if not isinstance(day, date):
        raise EntryError("请填写日期", "date")
    if day > today:
        raise EntryError("日期不能晚于今天", "date")
    case_id, customer_id = data.get("case_id") or None, data.get("customer_id") or None
    number = str(data.get("case_number") or "").strip().upper()
    if number:
        found = next((c for c in tx.scan(CASES) if (c.get("number") or "").upper() == number), None)
        if found is None:
            raise EntryError(f"没有编号为 {number} 的案例", "case_number")
        case_id = found["id"]
    if case_id:
        case = tx.get(CASES, int(case_id))
        if case is None:
            raise EntryError(f"案例 #{case_id} 不存在", "case_number")
        customer_id = case.get("customer_id") or customer_id
    elif customer_id:
        if tx.get(CUSTOMERS, int(customer_id)) is None:
            raise EntryError("顾客单位不存在", "customer_id")
    else:
        raise EntryError("请关联一个案例（填写案例编号）或一个顾客单位", "case_number")
    text = " ".join(str(data.get("description") or "").split())
    if not text:
        raise EntryError("请写明说明", "description")
    if len(text) > MAX_TEXT:
        raise EntryError(f"说明不能超过 {MAX_TEXT} 个字", "description")
    return {"item": item, "amount": value, "date": day.isoformat(), "quarter": quarter_label(day),
            "case_id": int(case_id) if case_id else None, "customer_id": int(customer_id) if customer_id else None,
            "description": text}


def check_files(files: list[dict]) -> list[CheckedUpload]:
    """The evidence files ``[{"content": bytes, "filename": str}]``, each checked as every upload."""
    files = [f for f in files or [] if f and f.get("content")]
    if len(files) > MAX_FILES:
        raise EntryError(f"最多附 {MAX_FILES} 个证据文件", "evidence")
    out = []
    for f in files:
        try:
            out.append(check_upload(f["content"], str(f.get("filename") or ""), SCAN))
        except DomainError as exc:
            raise EntryError(f"{f.get('filename') or '文件'}：{exc}（请重新选择文件）", "evidence") from None
    return out


def _keep(store: Store, files: list[CheckedUpload]) -> list[dict]:
    out = []
    for f in files:
        name = Path(str(f.filename or "").replace("\\", "/")).name.strip()[:120] or f"证据.{f.ext}"
        out.append({"sha256": put_blob(files_dir(store), f.data), "size": len(f.data), "mime": f.mime,
                    "type": f.kind, "filename": name})
    return out


def add_entry(store: Store, user: dict, data: dict, files: list[dict], now: datetime) -> dict:
    """9.4: a new entry by 技质部 / 财务部, with at least one evidence file; audited."""
    if not may_enter(user):
        raise EntryError("只有技质部和财务部可以录入外部损失成本", None)
    checked = check_files(files)
    if not checked:
        raise EntryError("请附上证据文件（PDF、JPEG 或 PNG）", "evidence")
    with store.transaction(user["username"]) as tx:
        doc = _check(tx, data, now.date())
        evidence = _keep(store, checked)  # the bytes after every check passed
        return tx.insert(TABLE, {**doc, "evidence": evidence, "by": user["username"], "at": iso_local(now),
                                 "reversed": None})


def correct_entry(store: Store, user: dict, entry_id: int, data: dict, files: list[dict], reason: str,
                  now: datetime, expect_rev: int | None = None) -> dict:
    """A correction, with its reason in the audit trail; new evidence files join the old ones."""
    if not may_enter(user):
        raise EntryError("只有技质部和财务部可以更正外部损失成本", None)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise EntryError("请写明更正理由", "reason")
    checked = check_files(files)
    with store.transaction(user["username"]) as tx:
        entry = tx.get(TABLE, int(entry_id))
        if entry is None:
            raise RecordNotFound("该记录不存在")
        if entry.get("reversed"):
            raise EntryError("已冲销的记录不能更正", None)
        doc = _check(tx, data, now.date())
        evidence = [*entry.get("evidence", []), *_keep(store, checked)]
        return tx.update(TABLE, entry["id"], {**doc, "evidence": evidence}, expect_rev=expect_rev,
                         note=f"更正：{reason[:MAX_TEXT]}")


def reverse_entry(store: Store, user: dict, entry_id: int, reason: str, now: datetime) -> dict:
    """A reversal (冲销) with its reason: out of the figures, kept on record, never deleted."""
    if not may_enter(user):
        raise EntryError("只有技质部和财务部可以冲销外部损失成本", None)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise EntryError("请写明冲销理由", "reason")
    with store.transaction(user["username"]) as tx:
        entry = tx.get(TABLE, int(entry_id))
        if entry is None:
            raise RecordNotFound("该记录不存在")
        if entry.get("reversed"):
            raise EntryError("该记录已冲销", None)
        return tx.update(TABLE, entry["id"], {"reversed": {"reason": reason[:MAX_TEXT], "by": user["username"],
                                                            "at": iso_local(now)}}, note=f"冲销：{reason[:MAX_TEXT]}")


def entries(source: Store | Transaction, quarter: str, include_reversed: bool = True) -> list[dict]:
    """The quarter's entries, oldest first."""
    rows = [e for e in source.scan(TABLE) if e.get("quarter") == quarter
            and (include_reversed or not e.get("reversed"))]
    return sorted(rows, key=lambda e: (e["date"], e["id"]))


def evidence_file(store: Store, entry_id: int, number: int) -> tuple[dict, bytes]:
    entry = store.get(TABLE, int(entry_id))
    files = (entry or {}).get("evidence") or []
    if not 0 <= number < len(files):
        raise RecordNotFound("证据文件不存在")
    return files[number], read_blob(files_dir(store), files[number]["sha256"])


def output_amount(raw) -> float:
    """The 工业总产值 as typed (「12,000,000」「¥12000000.50」「１２０００００元」), up to ``MAX_OUTPUT`` 元."""
    text = "".join(unicodedata.normalize("NFKC", str(raw or "")).split()).removeprefix("¥").removesuffix("元")
    if not _OUTPUT.fullmatch(text):
        raise EntryError("请填写大于 0 的工业总产值（数字，如 12,000,000 或 12000000.50）", "amount")
    value = Decimal(text.replace(",", ""))
    if not 0 < value <= MAX_OUTPUT:
        raise EntryError(f"工业总产值须大于 0 且不超过 {MAX_OUTPUT:,} 元", "amount")
    return float(value)


def output_value(source: Store | Transaction, quarter: str) -> dict | None:
    """The quarter's 工业总产值 document, or None when 财务部 has not entered it."""
    return next((d for d in source.scan(OUTPUT_TABLE) if d.get("quarter") == quarter), None)


def set_output_value(store: Store, user: dict, quarter: str, raw, note: str, now: datetime) -> dict:
    """9.4: 财务部 enters (or corrects, audited) the quarter's 工业总产值 (the loss rate's divisor)."""
    if not may_enter_output(user):
        raise EntryError("只有财务部可以录入工业总产值", None)
    value = output_amount(raw)
    note = " ".join(str(note or "").split())[:MAX_TEXT]
    with store.transaction(user["username"]) as tx:
        doc = output_value(tx, quarter)
        fields = {"quarter": quarter, "amount": value, "note": note, "by": user["username"], "at": iso_local(now)}
        if doc is None:
            return tx.insert(OUTPUT_TABLE, fields)
        return tx.update(OUTPUT_TABLE, doc["id"], fields, note=note or "更正工业总产值")
