"""费用报销单 (GLOSSARY ``expense_claim``): the expense lines of the written report (6.2.7) and
their audit at the confirmation (6.2.8), with the 交际应酬 rule of 7.4.

- ``amount``: an amount in 元 as people type it: 「1860」「1,860」「１８６０」「¥1,860.50」「￥1860」「1860元」;
- ``claim_lines``: the report's lines, each with a date, a category of ``CATEGORIES``, a text,
  an amount and its receipts / 发票 (checked by ``records.core.uploads.check_upload``); every
  bad line is refused at once (``LineErrors``: each message beside its line);
- ``keep_receipts``: the checked receipts' bytes stored as blobs, the line keeping their names;
  ``read_receipt`` gives one back, byte for byte, to whoever may read the case;
- ``audit_lines``: 技质部's approved amount per line (6.2.8): blank = as claimed, another amount
  needs a reason, more than claimed needs the override ticked and a reason; a 交际应酬 line
  without a prior approval of the technician's 主管领导 is approved at 0 citing 7.4, no override.

A stored line (``case["report"]["expenses"]``)::

    {"date": "2026-12-01", "category": "transport", "item": "高铁 北京—酒泉", "amount": 1860.0,
     "receipts": [{"sha256": "…", "size": 1234, "mime": "image/jpeg", "type": "jpeg", "filename": "票.jpg"}]}

Lines stored before the vocabulary (free text) read as category ``other`` with their text kept
and no date (``records.cases.migrations``, cases v3).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from records import policy
from records.core.errors import DomainError, RecordNotFound
from records.core.files import put_blob, read_blob
from records.core.store import Store
from records.core.uploads import SCAN, CheckedUpload, check_upload
from records.service_forms.archive import files_dir

from .conduct import prior_approval
from .flow import may_read
from .vocab import TABLE, CaseError, NotPermitted

# One vocabulary of expense categories; 交际应酬 is the 7.4 one.
TRANSPORT, LODGING, ALLOWANCE, ENTERTAINMENT, OTHER = "transport", "lodging", "allowance", "entertainment", "other"
CATEGORIES = {TRANSPORT: "交通", LODGING: "住宿", ALLOWANCE: "补助",
              ENTERTAINMENT: f"交际应酬（{policy.ENTERTAINMENT.clause}）", OTHER: "其他"}
MAX_AMOUNT = 100_000_000
MAX_ITEM = 100
MAX_REASON = 400
# Company practice (not in the regulation): the receipts / 发票 one line may carry.
MAX_RECEIPTS = 5
MAX_FILENAME = 120

_PLAIN = re.compile(r"\d+(?:\.\d{1,2})?")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?")
AMOUNT_FORMAT = "金额格式不正确：请填写数字，如 1860、1,860.50 或 ¥1860"


class LineErrors(CaseError):
    """Every bad line of a table at once: ``rows`` = [(row index as posted, cell, message)]."""

    def __init__(self, field: str, rows: list[tuple[int, str, str]]):
        lines = sorted({i + 1 for i, _, _ in rows})
        super().__init__(f"第 {'、'.join(map(str, lines))} 行有误，请按各行的提示修改", field)
        self.rows = rows


def amount(value) -> float | None:
    """An amount in 元 as typed (full-width digits, thousands commas, a leading ¥ or ￥, a trailing
    元), to the fen; None when blank. ValueError with a message for the user otherwise."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise ValueError(AMOUNT_FORMAT)
    if isinstance(value, (int, float, Decimal)):
        text = f"{value}"
    else:
        text = unicodedata.normalize("NFKC", str(value))  # １８６０ → 1860, ￥ → ¥, ， → ,
    text = "".join(text.split())
    if not text:
        return None
    text = text.removeprefix("¥").removesuffix("元")
    if text.startswith("-"):
        raise ValueError("金额不能为负数")
    if not (_PLAIN.fullmatch(text) or _GROUPED.fullmatch(text)):
        raise ValueError(AMOUNT_FORMAT)
    number = Decimal(text.replace(",", ""))
    if number > MAX_AMOUNT:
        raise ValueError(f"金额不能超过 {MAX_AMOUNT:,} 元")
    return float(number)


def money(data: dict, field: str, label: str, required: bool = True) -> float | None:
    """A single amount of a form (收费金额, 收款金额) read as ``amount`` reads it; CaseError on ``field``."""
    try:
        value = amount(data.get(field))
    except ValueError as exc:
        raise CaseError(f"{label}：{exc}", field) from None
    if value is None and required:
        raise CaseError(f"请填写{label}", field)
    return value


def _blank(row: dict) -> bool:
    return not row.get("receipts") and not any(str(v or "").strip() for k, v in row.items() if k != "receipts")


def _date(value, earliest: date | None, today: date) -> date:
    if isinstance(value, date):
        day = value
    else:
        text = unicodedata.normalize("NFKC", str(value or "")).strip()
        if not text:
            raise ValueError("请填写日期")
        try:
            day = date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise ValueError("日期格式不正确（如 2026-12-01）") from None
    if day > today:
        raise ValueError("日期不能晚于今天")
    if earliest is not None and day < earliest:
        raise ValueError(f"日期不能早于收到服务请求的日期（{earliest:%Y-%m-%d}）")
    return day


@dataclass
class ClaimLine:
    """One checked line of the claim; ``files`` still to be stored (``keep_receipts``)."""

    date: date
    category: str
    item: str
    amount: float
    files: list[CheckedUpload]

    def stored(self, receipts: list[dict]) -> dict:
        return {"date": self.date.isoformat(), "category": self.category, "item": self.item,
                "amount": self.amount, "receipts": receipts}


def claim_lines(rows: list[dict], today: date, earliest: date | None = None, field: str = "expenses") -> list[ClaimLine]:
    """The report's expense lines, checked; blank rows are left out. Every bad cell of every line is
    refused at once (``LineErrors`` on ``field``). A row: date, category, item, amount and
    ``receipts`` = [{"content": bytes, "filename": str}] (each file checked as every upload is)."""
    out, errors = [], []
    for i, row in enumerate(rows or []):
        if not isinstance(row, dict) or _blank(row):
            continue
        bad = len(errors)
        try:
            day = _date(row.get("date"), earliest, today)
        except ValueError as exc:
            errors.append((i, "date", str(exc)))
        category = row.get("category") or ""
        if category not in CATEGORIES:
            errors.append((i, "category", "请选择费用类别"))
        item = " ".join(str(row.get("item") or "").split())
        if category == OTHER and not item:
            errors.append((i, "item", "类别为「其他」时请写明费用内容"))
        elif len(item) > MAX_ITEM:
            errors.append((i, "item", f"费用内容不能超过 {MAX_ITEM} 个字"))
        try:
            value = amount(row.get("amount"))
            if value is None:
                errors.append((i, "amount", "请填写金额"))
            elif value <= 0:
                errors.append((i, "amount", "金额须大于 0"))
        except ValueError as exc:
            errors.append((i, "amount", str(exc)))
        files = []
        uploads = [f for f in (row.get("receipts") or []) if f and f.get("content")]
        if len(uploads) > MAX_RECEIPTS:
            errors.append((i, "receipts", f"每行最多附 {MAX_RECEIPTS} 个收据或发票文件"))
        for f in uploads[:MAX_RECEIPTS]:
            try:
                files.append(check_upload(f["content"], str(f.get("filename") or ""), SCAN))
            except DomainError as exc:
                errors.append((i, "receipts", f"{f.get('filename') or '文件'}：{exc}（请重新选择文件）"))
        if len(errors) == bad:
            out.append(ClaimLine(day, category, item, value, files))
    if errors:
        raise LineErrors(field, errors)
    return out


def keep_receipts(folder: Path, lines: list[ClaimLine], names: list[list[str]] | None = None) -> list[dict]:
    """The lines as stored: each checked receipt's bytes kept as a blob in ``folder`` (by SHA-256,
    records.core.files.put_blob), the line keeping its name, size and kind."""
    out = []
    for line in lines:
        receipts = []
        for f in line.files:
            name = Path(str(f.filename or "").replace("\\", "/")).name.strip()[:MAX_FILENAME] or f"收据.{f.ext}"
            sha = put_blob(folder, f.data)
            receipts.append({"sha256": sha, "size": len(f.data), "mime": f.mime, "type": f.kind, "filename": name})
        out.append(line.stored(receipts))
    return out


def read_receipt(store: Store, case_id: int, line: int, number: int, user: dict) -> tuple[dict, bytes]:
    """A receipt of an expense line (its stored entry and exact bytes), for a user who may read the
    case. RecordNotFound: no such case, line or receipt; NotPermitted: the user may not read it."""
    case = store.get(TABLE, int(case_id))
    if case is None:
        raise RecordNotFound(f"案例 #{case_id} 不存在")
    if not may_read(case, user):
        raise NotPermitted("只有可以查看该案例的人员可以查看收据和发票")
    lines = (case.get("report") or {}).get("expenses") or []
    receipts = lines[line].get("receipts") or [] if 0 <= line < len(lines) else []
    if not 0 <= number < len(receipts):
        raise RecordNotFound("收据不存在")
    meta = receipts[number]
    return meta, read_blob(files_dir(store), meta["sha256"])


def total(lines: list[dict], key: str = "amount") -> float:
    """The sum of ``key`` over the lines, to the fen."""
    return round(sum(float(x.get(key) or 0) for x in lines), 2)


def label(line: dict) -> str:
    """A claimed line in words: 「2026-12-01 交通 高铁」."""
    parts = [line.get("date") or "", CATEGORIES.get(line.get("category"), ""), line.get("item") or ""]
    return " ".join(p for p in parts if p) or "费用"


def unrecognised(line: dict, approvals: list[dict]) -> bool:
    """Whether a claimed line is a 交际应酬 one without a prior approval of the 主管领导 (7.4)."""
    if line.get("category") != ENTERTAINMENT:
        return False
    day = date.fromisoformat(line["date"]) if line.get("date") else None
    return day is None or prior_approval(approvals, day) is None


def audit_lines(claimed: list[dict], rows: list[dict], approvals: list[dict]) -> list[dict]:
    """6.2.8 (with 7.4): 技质部's approved amount per claimed line; ``rows`` as posted, one per line:
    ``approved`` (blank = as claimed), ``reason``, ``override`` (approve more than claimed).

    Another amount than claimed needs a reason; more than claimed needs the override ticked and a
    reason. A 交际应酬 line without a prior approval of the 主管领导 (``prior_approval``) is
    approved at 0 with 7.4 cited: no other amount, no override. Every bad line at once."""
    out, errors = [], []
    for i, (line, row) in enumerate(zip(claimed, rows)):
        row = row or {}
        claim = float(line["amount"])
        override = bool(row.get("override"))
        reason = " ".join(str(row.get("reason") or "").split())
        if len(reason) > MAX_REASON:
            errors.append((i, "reason", f"理由不能超过 {MAX_REASON} 个字"))
        try:
            value = amount(row.get("approved"))
        except ValueError as exc:
            errors.append((i, "approved", str(exc)))
            continue
        base = {"date": line.get("date"), "category": line.get("category", OTHER), "item": line.get("item", ""),
                "claimed": claim}
        if unrecognised(line, approvals):
            rule = policy.ENTERTAINMENT
            if override or (value not in (None, 0)):
                errors.append((i, "approved", f"{rule.clause}：交际应酬费用未事先征得主管领导同意，不予认可，"
                                              "核准金额只能为 0，不能超额核准"))
                continue
            out.append({**base, "approved": 0.0, "reason": f"{rule.clause}：{policy.rule_text(rule)}",
                        "override": False, "rule": rule.clause})
            continue
        value = claim if value is None else value
        if value > claim and not override:
            errors.append((i, "approved", f"核准金额 {value:.2f} 元超过报销金额 {claim:.2f} 元；"
                                          "确需超额核准的，请勾选「超额核准」并写明理由"))
            continue
        if value != claim and not reason:
            errors.append((i, "reason", "超额核准须写明理由" if value > claim else "核准金额与报销不同，请写明调整理由"))
            continue
        approval = prior_approval(approvals, date.fromisoformat(line["date"])) \
            if line.get("category") == ENTERTAINMENT else None
        out.append({**base, "approved": value, "reason": reason, "override": value > claim,
                    "rule": None, **({"approval": approval["id"]} if approval else {})})
    if errors:
        raise LineErrors("lines", errors)
    return out
