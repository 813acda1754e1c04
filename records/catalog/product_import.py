"""Import of the company's product list (产品台账, .xlsx or .csv), which is cumulative: a preview,
then the new rows imported and, when asked, the changed ones updated — all or nothing.

``records.catalog.import_parser.parse`` reads the file into rows; ``check_rows`` checks every row
against the customers and the rest of the file and collects every error as (row, column, reason)
(a serial already in the store is no error: the ledger is re-sent whole); ``preview`` sorts the
clean rows into new, unchanged and changed (which fields, old → new) by the serial (6.2.2: a
product's warranty is read from it; cases keep the warranty fixed at their intake, a product
update never touches them). ``confirm`` re-reads the same file (kept server-side by its SHA-256:
``keep_upload`` / ``kept_upload``, never rows sent back by the browser), sorts it again inside one
audited transaction, refuses if anything moved since the preview (``token``), then inserts the new
rows and, with ``update_changed``, updates the changed products.

No Flask here: the view only passes the uploaded bytes through.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from records.calendar.workdays import today_local
from records.core.errors import DomainError
from records.core.files import StorageError, put_blob, read_blob
from records.core.store import Store
from records.core.transaction import Transaction
from records.core.uploads import MAX_CELL_CHARS, MAX_ERRORS_SHOWN, shorten

from . import customers, products
from .import_parser import (
    COLUMNS,
    ImportFileError,
    ImportRowError,
    ParsedImport,
    cell_text,
    is_blank,
    parse,
    parse_date,
    parse_flag,
    parse_months,
)

# Company practice (not regulation numbers): how much of a preview the page lists, how long an
# uploaded ledger waits for its confirmation.
PREVIEW_ROWS_SHOWN = 200
KEPT_UPLOAD_HOURS = 24
PENDING_DIR = ("cache", "imports")  # under the data folder; "cache" is left out of backups

COMPARED = ("customer_id", "model", "name", "delivery_date", "warranty_months", "reliability", "remarks")
LABELS = {"customer_id": "顾客单位", "model": "型号", "name": "产品名称", "delivery_date": "交付日期",
          "warranty_months": "质保期（月）", "reliability": "可靠性产品", "remarks": "备注"}


class ImportChanged(DomainError):
    """The store (or the kept file) changed between the preview and the confirmation."""


@dataclass
class Change:
    row: int
    product: dict  # as stored
    new: dict  # the row, checked (``products.normalise``)
    fields: list[tuple[str, str, str]]  # (label, old, new) as shown


@dataclass
class ImportResult:
    rows: int = 0  # data rows read
    header_row: int = 1
    ignored_columns: list[str] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)  # the first MAX_ERRORS_SHOWN
    error_count: int = 0  # all of them
    new: list[tuple[int, dict]] = field(default_factory=list)  # (row, checked row)
    unchanged: list[tuple[int, dict]] = field(default_factory=list)  # (row, stored product)
    changed: list[Change] = field(default_factory=list)
    token: str = ""  # what the preview showed, for the confirmation
    imported: list[dict] = field(default_factory=list)  # after ``confirm``: inserted
    updated: list[dict] = field(default_factory=list)  # after ``confirm``: updated

    @property
    def ok(self) -> bool:
        return not self.errors


_FIELD_OF_PRODUCT = {"model": "model", "name": "name", "serial_no": "serial_no", "customer_id": "customer",
                     "delivery_date": "delivery_date", "warranty_months": "warranty_months",
                     "reliability": "reliability", "remarks": "remarks"}
_LIMITS = {"model": 60, "name": 100, "serial_no": 60, "remarks": 1000}


def check_rows(reader: Store | Transaction, parsed: ParsedImport) -> tuple[list[tuple[int, dict]], list[ImportRowError]]:
    """([(row, checked row)], every error found); the rows only if there is no error at all."""
    colname = {f: parsed.columns.get(f) or COLUMNS[f][0] for f in COLUMNS}
    by_name = {c["name"]: c for c in reader.scan(customers.TABLE)}
    known = {c["id"] for c in by_name.values()}
    seen: dict[str, int] = {}  # serial -> first row with it in this file
    today = today_local()
    clean: list[tuple[int, dict]] = []
    errors: list[ImportRowError] = []

    for r in parsed:
        row_errors: list[ImportRowError] = []

        def err(f: str, reason: str) -> None:
            row_errors.append(ImportRowError(r.row, colname[f], reason))

        v = r.values
        too_long = {colname[f] for f, x in v.items() if isinstance(x, str) and len(x) > MAX_CELL_CHARS}
        text = {f: cell_text(v.get(f)) for f in ("customer", "model", "name", "serial_no", "remarks")}
        for f in ("customer", "model", "name", "serial_no"):
            if not text[f]:
                err(f, "不能为空")
        for f, limit in _LIMITS.items():
            if len(text[f]) > limit:
                err(f, f"不能超过 {limit} 个字")

        customer = None
        if text["customer"]:
            customer = by_name.get(text["customer"])
            if customer is None:
                err("customer", f"顾客单位不存在：{shorten(text['customer'])}（请先在“顾客单位”中创建，名称须完全一致）")

        serial = text["serial_no"]
        if serial:
            same = products.serial_key(serial)
            if same in seen:
                err("serial_no", f"产品编号 {shorten(serial)} 与本文件第 {seen[same]} 行重复")
            else:
                seen[same] = r.row

        delivery = None
        if is_blank(v.get("delivery_date")):
            err("delivery_date", "不能为空")
        else:
            try:
                delivery = parse_date(v["delivery_date"])
            except ValueError as exc:
                err("delivery_date", str(exc))
            else:
                if delivery > today:
                    err("delivery_date", f"交付日期 {delivery:%Y-%m-%d} 晚于今天")
                    delivery = None

        months = None
        if is_blank(v.get("warranty_months")):
            err("warranty_months", "不能为空")
        else:
            try:
                months = parse_months(v["warranty_months"])
            except ValueError as exc:
                err("warranty_months", str(exc))
            else:
                if not 0 <= months <= 240:
                    err("warranty_months", "质保期必须在 0–240 个月之间")

        reliability = False
        try:
            reliability = parse_flag(v.get("reliability"))
        except ValueError as exc:
            err("reliability", str(exc))

        if not row_errors:
            data = {"model": text["model"], "name": text["name"], "serial_no": serial,
                    "customer_id": customer["id"], "delivery_date": delivery, "warranty_months": months,
                    "reliability": reliability, "remarks": text["remarks"]}
            try:  # the same rules as the form, so an imported product is like a registered one
                clean.append((r.row, products.normalise(reader, data, known)))
            except DomainError as exc:
                err(_FIELD_OF_PRODUCT.get(exc.field or "", "serial_no"), str(exc))
        if too_long:  # one error for a cell too long to read, instead of what its cut text gave
            row_errors = [e for e in row_errors if e.column not in too_long] + [
                ImportRowError(r.row, c, f"内容超过 {MAX_CELL_CHARS} 个字") for c in sorted(too_long)]
        errors.extend(row_errors)

    return ([] if errors else clean), errors


def validate(store: Store | Transaction, parsed: ParsedImport) -> tuple[list[dict], list[ImportRowError]]:
    """(the checked rows, every error found); the rows only if there is no error at all."""
    rows, errors = check_rows(store, parsed)
    return [c for _, c in rows], errors


def _stored(product: dict, f: str):
    """A stored product's field as a checked row has it (older records may lack the optional ones)."""
    value = product.get(f)
    if f == "remarks":
        return value or ""
    if f == "reliability":
        return bool(value)
    return value


def _shown(f: str, value, names: dict[int, str]) -> str:
    if f == "customer_id":
        return names.get(value, f"#{value}")
    if f == "reliability":
        return "是" if value else "否"
    return "" if value is None else str(value)


def _sort(reader: Store | Transaction, parsed: ParsedImport) -> ImportResult:
    """Check every row, then sort the clean ones by the stored products (indexed by serial once)."""
    result = ImportResult(rows=len(parsed), header_row=parsed.header_row, ignored_columns=parsed.ignored)
    rows, errors = check_rows(reader, parsed)
    if errors:
        result.errors, result.error_count = errors[:MAX_ERRORS_SHOWN], len(errors)
        return result
    existing = {products.serial_key(p["serial_no"]): p for p in reader.scan(products.TABLE)}
    names = {c["id"]: c["name"] for c in reader.scan(customers.TABLE)}
    for row, new in rows:
        old = existing.get(products.serial_key(new["serial_no"]))
        if old is None:
            result.new.append((row, new))
            continue
        diff = [f for f in COMPARED if _stored(old, f) != new[f]]
        if not diff:
            result.unchanged.append((row, old))
        else:
            result.changed.append(Change(row, old, new, [(LABELS[f], _shown(f, _stored(old, f), names),
                                                          _shown(f, new[f], names)) for f in diff]))
    plan = [["new", new] for _, new in result.new] + [
        ["changed", c.product["id"], c.product["_rev"], c.new] for c in result.changed]
    result.token = hashlib.sha256(json.dumps(plan, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return result


def preview(store: Store, filename: str, data: bytes) -> ImportResult:
    """What importing the file would do: its errors, or its new, unchanged and changed rows.

    Raises ImportFileError when the file itself cannot be used (its ``errors`` may hold
    header problems as (row, column, reason))."""
    return _sort(store, parse(filename, data))


def confirm(store: Store, filename: str, data: bytes, actor: str, token: str | None = None,
            update_changed: bool = False) -> ImportResult:
    """Insert the new rows and, with ``update_changed``, update the changed products, in one
    audited transaction — or nothing (the errors, or ImportChanged when ``token`` is given and the
    preview it names is no longer what the file would do)."""
    parsed = parse(filename, data)
    with store.transaction(actor) as tx:
        result = _sort(tx, parsed)
        if not result.ok:
            return result
        if token is not None and token != result.token:
            raise ImportChanged("预览之后系统中的产品或顾客单位有了变化，请重新核对下面的预览后再确认")
        result.imported = [tx.insert(products.TABLE, new) for _, new in result.new]
        if update_changed:
            result.updated = [tx.update(products.TABLE, c.product["id"], {f: c.new[f] for f in COMPARED},
                                        expect_rev=c.product["_rev"], note=f"产品台账导入（第 {c.row} 行）")
                              for c in result.changed]
    return result


def import_products(store: Store, filename: str, data: bytes, actor: str,
                    update_changed: bool = False) -> ImportResult:
    """Preview and confirm at once (scripts and tests): every new row, all or nothing."""
    return confirm(store, filename, data, actor, update_changed=update_changed)


# --- the uploaded file between the preview and the confirmation -------------------------------
def _pending_dir(store: Store) -> Path:
    return store.root.joinpath(*PENDING_DIR)


def keep_upload(store: Store, data: bytes) -> str:
    """Keep the uploaded bytes until the confirmation; returns their SHA-256 (older ones go)."""
    folder = _pending_dir(store)
    if folder.is_dir():
        old = time.time() - KEPT_UPLOAD_HOURS * 3600
        for path in folder.iterdir():
            try:
                if path.stat().st_mtime < old:
                    os.unlink(path)
            except OSError:
                pass
    return put_blob(folder, data)


def kept_upload(store: Store, sha256: str) -> bytes:
    """The bytes kept under ``sha256`` by ``keep_upload``; ImportFileError if they are gone."""
    try:
        return read_blob(_pending_dir(store), sha256)
    except (OSError, ValueError, StorageError):
        raise ImportFileError(f"上传的文件已失效（超过 {KEPT_UPLOAD_HOURS} 小时或已被清理），请重新上传") from None
