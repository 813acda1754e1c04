"""检验: 技质部's inspection of a faulty part a technician brought back (3.1 「对…返回品的检验」, 6.2.7).

One document per faulty returned-material line in table ``inspections``::

    {"case_id", "case_number", "line": the line's index on the case, "part_code" (or None),
     "part_text", "quantity", "serial", "result", "cause_text", "cause_category" (a code of
     records.catalog.categories, kind "cause"), "state": "pending" | "done",
     "created_at", "created_by", "at", "by" (who finished it, when)}

States: 待检验 (``pending``, made when 技质部 receives the part) → 已检验 (``done``, the result,
the failure cause and its category recorded). A finished inspection is kept as it is; CLAIMS
raises a supplier claim from one whose ``cause_category`` is in ``categories.SUPPLIER_CAUSES``
(``get``). Imports no cases: the caller passes the case's number and id in; the case-side effect
of an inspection finished after the confirmation is records.cases.steps.handin.inspection_cause.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import iso_local
from records.catalog import categories
from records.core.errors import DomainError, StaleRecord
from records.core.store import Store
from records.core.transaction import Transaction

TABLE = "inspections"
STATES = {"pending": "待检验", "done": "已检验"}
RESULTS = {"confirmed_fault": "确认故障", "no_fault": "未发现故障", "damaged_in_use": "使用中损坏"}
MAX_TEXT = 1000


class InspectionError(DomainError):
    pass


def create_tx(tx: Transaction, *, case_id: int, case_number: str, line: int, part_code: str | None,
              part_text: str, quantity: int, by: str, now: datetime) -> dict:
    """A faulty part received (待检验)."""
    return tx.insert(TABLE, {"case_id": case_id, "case_number": case_number, "line": line,
                             "part_code": part_code or None, "part_text": part_text, "quantity": quantity,
                             "serial": "", "result": None, "cause_text": "", "cause_category": None,
                             "state": "pending", "created_at": iso_local(now), "created_by": by,
                             "at": None, "by": None})


def _text(data: dict, field: str, label: str, required: bool, max_len: int = MAX_TEXT) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        raise InspectionError(f"请填写{label}", field)
    if len(value) > max_len:
        raise InspectionError(f"{label}不能超过 {max_len} 个字", field)
    return value


def record_tx(tx: Transaction, inspection_id: int, data: dict, by: str, now: datetime,
              expect_rev: int | None = None) -> dict:
    """3.1: 待检验 → 已检验: the result, the failure cause (text) and its cause category (the one list,
    records.catalog.categories), the part's serial if it has one."""
    doc = tx.require(TABLE, inspection_id)
    if expect_rev is not None and int(expect_rev) != doc["_rev"]:
        raise StaleRecord(TABLE, inspection_id, int(expect_rev), doc["_rev"])
    if doc["state"] != "pending":
        raise InspectionError("该物料已检验，不能再次登记")
    result = data.get("result")
    if result not in RESULTS:
        raise InspectionError("请选择检验结果", "result")
    cause_text = _text(data, "cause_text", "故障原因", required=True)
    category = categories.check(tx, "cause", str(data.get("cause_category") or ""), "cause_category")
    serial = _text(data, "serial", "零部件序列号", required=False, max_len=60)
    return tx.update(TABLE, inspection_id, {"result": result, "cause_text": cause_text, "cause_category": category,
                                            "serial": serial, "state": "done", "at": iso_local(now), "by": by},
                     expect_rev=doc["_rev"], action="inspect", note=f"{doc.get('case_number', '')} 返回物料检验")


def get(source: Store | Transaction, inspection_id: int | None) -> dict | None:
    """One inspection, or None."""
    return source.get(TABLE, inspection_id) if inspection_id else None


def pending(source: Store | Transaction) -> list[dict]:
    """The inspections waiting (待检验), oldest first."""
    return sorted((d for d in source.scan(TABLE) if d["state"] == "pending"), key=lambda d: d["created_at"])


def for_case(source: Store | Transaction, case_id: int) -> list[dict]:
    """A case's inspections, in the order of its lines."""
    return sorted((d for d in source.scan(TABLE) if d["case_id"] == case_id), key=lambda d: (d["line"], d["id"]))


def found_cause(source: Store | Transaction, case_id: int) -> str:
    """The cause category the latest finished inspection of a case's faulty parts found ("" for
    none): what the confirmation's classification starts from when it names no cause yet (3.1)."""
    done = [d for d in for_case(source, case_id) if d.get("state") == "done" and d.get("cause_category")]
    return max(done, key=lambda d: d.get("at") or "", default={}).get("cause_category", "")


def all_inspections(source: Store | Transaction) -> list[dict]:
    """Every inspection, newest first."""
    return sorted(source.scan(TABLE), key=lambda d: d["created_at"], reverse=True)
