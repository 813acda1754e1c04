"""产品: delivered units, their warranty (5.1, 6.2.2) and the reliability flag (8.2)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from records.calendar.periods import add_months
from records.calendar.workdays import today_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

from .customers import TABLE as CUSTOMERS

TABLE = "products"


class ProductError(DomainError):
    pass


@dataclass(frozen=True)
class Warranty:
    """Warranty status on a given day: in warranty through ``last_day`` inclusive."""

    in_warranty: bool
    last_day: date
    on: date

    @property
    def label(self) -> str:
        if self.in_warranty:
            return f"质保期内（至 {self.last_day:%Y-%m-%d}）"
        return f"已过质保期（{self.last_day:%Y-%m-%d} 到期）"


def warranty(product: dict, on: date) -> Warranty:
    """5.1 / 6.2.2: in warranty from the delivery date for ``warranty_months`` months."""
    delivered = date.fromisoformat(product["delivery_date"])
    end = add_months(delivered, int(product["warranty_months"]))  # first day out of warranty
    last_day = date.fromordinal(end.toordinal() - 1)
    return Warranty(delivered <= on <= last_day, last_day, on)


def normalise(store: Store | Transaction, data: dict, customer_ids: set[int] | None = None) -> dict:
    """The product's fields checked; ``customer_ids``: the customers known to exist (a caller
    checking many rows at once reads them once), else each is looked up in ``store``."""
    model = (data.get("model") or "").strip()
    name = (data.get("name") or "").strip()
    serial = (data.get("serial_no") or "").strip()
    if not model:
        raise ProductError("请输入型号", "model")
    if not name:
        raise ProductError("请输入产品名称", "name")
    if not serial:
        raise ProductError("请输入产品编号", "serial_no")
    if len(serial) > 60:
        raise ProductError("产品编号不能超过 60 个字符", "serial_no")
    try:
        customer_id = int(data.get("customer_id"))
    except (TypeError, ValueError):
        raise ProductError("请选择顾客单位", "customer_id") from None
    if (customer_id not in customer_ids) if customer_ids is not None else store.get(CUSTOMERS, customer_id) is None:
        raise ProductError("顾客单位不存在", "customer_id")
    delivery = data.get("delivery_date")
    if isinstance(delivery, str):
        try:
            delivery = date.fromisoformat(delivery.strip())
        except ValueError:
            raise ProductError("交付日期格式应为 YYYY-MM-DD", "delivery_date") from None
    if not isinstance(delivery, date):
        raise ProductError("请输入交付日期", "delivery_date")
    if delivery > today_local():
        raise ProductError("交付日期不能晚于今天", "delivery_date")
    try:
        months = int(data.get("warranty_months"))
    except (TypeError, ValueError):
        raise ProductError("质保期必须是整数（月）", "warranty_months") from None
    if not 0 <= months <= 240:
        raise ProductError("质保期必须在 0–240 个月之间", "warranty_months")
    return {
        "model": model,
        "name": name,
        "serial_no": serial,
        "customer_id": customer_id,
        "delivery_date": delivery.isoformat(),
        "warranty_months": months,
        "reliability": bool(data.get("reliability")),
        "remarks": (data.get("remarks") or "").strip(),
    }


def serial_key(serial: str) -> str:
    """What makes two serials the same unit: "jx200-001" and "JX200-001" are one plate read
    twice, not two units."""
    return serial.strip().casefold()


def _clash(docs, serial: str, exclude_id: int | None = None) -> dict | None:
    wanted = serial_key(serial)
    return next((p for p in docs if serial_key(p["serial_no"]) == wanted and p["id"] != exclude_id), None)


def clash_message(p: dict) -> str:
    return f"产品编号已存在：{p['serial_no']}（{p['model']} {p['name']}，记录编号 {p['id']}）"


def create_product(store: Store, data: dict, actor: str) -> dict:
    with store.transaction(actor) as tx:
        return insert_product(tx, data)


def insert_product(tx: Transaction, data: dict) -> dict:
    """Check and insert one product inside an open transaction (also 技质部 creating the unit of
    a call recorded as 待核实, records.cases.steps.unknown)."""
    clean = normalise(tx, data)
    clash = _clash(tx.scan(TABLE), clean["serial_no"])
    if clash:
        raise ProductError(clash_message(clash), "serial_no")
    return tx.insert(TABLE, clean)


def create_many(store: Store, rows: list[dict], actor: str) -> list[dict]:
    """Insert already-validated rows in one transaction: all or nothing."""
    with store.transaction(actor) as tx:
        existing = {serial_key(p["serial_no"]): p for p in tx.scan(TABLE)}
        for row in rows:
            clash = existing.get(serial_key(row["serial_no"]))
            if clash:
                raise ProductError(clash_message(clash), "serial_no")
        return [tx.insert(TABLE, row) for row in rows]


def update_product(store: Store, product_id: int, data: dict, actor: str, expect_rev: int | None = None) -> dict:
    clean = normalise(store, data)
    with store.transaction(actor) as tx:
        clash = _clash(tx.scan(TABLE), clean["serial_no"], exclude_id=product_id)
        if clash:
            raise ProductError(clash_message(clash), "serial_no")
        return tx.update(TABLE, product_id, clean, expect_rev=expect_rev)


def by_serial(store: Store, serial: str) -> dict | None:
    wanted = serial_key(serial)
    return store.first(TABLE, lambda p: serial_key(p["serial_no"]) == wanted)


def search(store: Store, q: str = "", customer_id: int | None = None, page: int = 1, per_page: int = 50):
    q = q.strip().lower()

    def match(p):
        if customer_id and p["customer_id"] != customer_id:
            return False
        return not q or q in f"{p['serial_no']} {p['model']} {p['name']} {p.get('remarks', '')}".lower()

    return store.page(TABLE, match, key=lambda p: p["serial_no"], page=page, per_page=per_page)
