"""Import of an existing product list (产品台账) from .xlsx or .csv — all rows or none.

``records.catalog.import_parser.parse`` reads the file into rows; ``validate`` checks every row
against the store and the rest of the file and collects every error as (row, column, reason);
``import_products`` inserts the rows in one transaction (``products.create_many``) only when
there is no error at all.

No Flask here: the view only passes the uploaded bytes through.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from records.calendar.workdays import today_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.uploads import MAX_CELL_CHARS, MAX_ERRORS_SHOWN, shorten

from . import customers, products
from .import_parser import (
    COLUMNS,
    ImportRowError,
    ParsedImport,
    cell_text,
    is_blank,
    parse,
    parse_date,
    parse_flag,
    parse_months,
)


@dataclass
class ImportResult:
    imported: list[dict] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)  # the first MAX_ERRORS_SHOWN
    error_count: int = 0  # all of them
    rows: int = 0  # data rows read
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_FIELD_OF_PRODUCT = {"model": "model", "name": "name", "serial_no": "serial_no", "customer_id": "customer",
                     "delivery_date": "delivery_date", "warranty_months": "warranty_months",
                     "reliability": "reliability", "remarks": "remarks"}
_LIMITS = {"model": 60, "name": 100, "serial_no": 60, "remarks": 1000}


def validate(store: Store, parsed: ParsedImport) -> tuple[list[dict], list[ImportRowError]]:
    """(rows ready for ``products.create_many``, every error found); clean rows only if no error."""
    colname = {f: parsed.columns.get(f) or COLUMNS[f][0] for f in COLUMNS}
    by_name = {c["name"]: c for c in store.scan(customers.TABLE)}
    existing = {products.serial_key(p["serial_no"]): p for p in store.scan(products.TABLE)}
    seen: dict[str, int] = {}  # serial -> first row with it in this file
    today = today_local()
    clean: list[dict] = []
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
            if same in existing:
                err("serial_no", products.clash_message(existing[same]))
            elif same in seen:
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
                clean.append(products.normalise(store, data))
            except DomainError as exc:
                err(_FIELD_OF_PRODUCT.get(exc.field or "", "serial_no"), str(exc))
        if too_long:  # one error for a cell too long to read, instead of what its cut text gave
            row_errors = [e for e in row_errors if e.column not in too_long] + [
                ImportRowError(r.row, c, f"内容超过 {MAX_CELL_CHARS} 个字") for c in sorted(too_long)]
        errors.extend(row_errors)

    return ([] if errors else clean), errors


def import_products(store: Store, filename: str, data: bytes, actor: str) -> ImportResult:
    """Parse, validate, and insert every row in one transaction — or nothing, with the errors.

    Raises ImportFileError when the file itself cannot be used (its ``errors`` may hold
    header problems as (row, column, reason)).
    """
    parsed = parse(filename, data)
    result = ImportResult(rows=len(parsed), ignored_columns=parsed.ignored)
    clean, errors = validate(store, parsed)
    if errors:
        result.errors, result.error_count = errors[:MAX_ERRORS_SHOWN], len(errors)
        return result
    try:
        result.imported = products.create_many(store, clean, actor)
    except products.ProductError:
        # Someone registered one of these serials between the check and the commit: check again.
        _, errors = validate(store, parsed)
        errors = errors or [ImportRowError(parsed.header_row, COLUMNS["serial_no"][0], "导入时产品编号冲突，请重试")]
        result.errors, result.error_count = errors[:MAX_ERRORS_SHOWN], len(errors)
    return result
