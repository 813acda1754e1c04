"""技质部 verifies a unit or serial recorded as 待核实 (6.1.1, 6.1.2, 6.2.2): ``resolve_unknown``.

The receiver could record a call from a unit, or about a serial, not in the system (free text,
``case["unverified"]``). Before the decision 技质部 links the case to an existing customer and
product, or creates them; the warranty is then the product's on the day of the call (6.2.2,
GLOSSARY) and the 5.1.1.3 arrival clock of a free service starts at the call's time (set at
the decision, ``decision.go_onsite``).
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.customers import insert_customer
from records.catalog.products import TABLE as PRODUCTS
from records.catalog.products import insert_product, serial_key
from records.core.errors import DomainError
from records.core.transaction import Transaction

from .. import input as checked
from ..flow import log
from ..vocab import UNVERIFIED, CaseError
from .decision import warranty_of

# The fields of a new customer / product as the resolution form names them.
NEW_CUSTOMER_FIELDS = {"name": "new_customer_name", "distance_km": "new_customer_distance_km",
                       "address": "new_customer_address", "contacts": "new_customer_name"}
NEW_PRODUCT_FIELDS = {"model": "new_model", "name": "new_product_name", "serial_no": "product_serial",
                      "delivery_date": "new_delivery_date", "warranty_months": "new_warranty_months",
                      "customer_id": "customer_id"}


def _created(make, fields: dict[str, str]):
    """Run a catalog insert; its refusal becomes a CaseError beside the resolution form's field."""
    try:
        return make()
    except DomainError as exc:
        raise CaseError(str(exc), fields.get(exc.field or "", None)) from None


def _customer(tx: Transaction, case: dict, data: dict) -> dict:
    try:
        customer_id = int(data.get("customer_id") or 0)
    except (TypeError, ValueError):
        raise CaseError("请选择顾客单位", "customer_id") from None
    if customer_id:
        customer = tx.get(CUSTOMERS, customer_id)
        if customer is None:
            raise CaseError("顾客单位不存在", "customer_id")
        return customer
    name = checked.text(data, "new_customer_name", "新顾客单位名称", max_len=100)
    new = {"name": name, "distance_km": data.get("new_customer_distance_km"),
           "address": data.get("new_customer_address") or "",
           "contacts": [{"name": case.get("caller_name"), "phone": case.get("caller_phone")}]}
    return _created(lambda: insert_customer(tx, new), NEW_CUSTOMER_FIELDS)


def _product(tx: Transaction, data: dict, customer: dict) -> dict:
    serial = checked.text(data, "product_serial", "产品编号", max_len=60)
    if data.get("new_product"):
        new = {"model": data.get("new_model"), "name": data.get("new_product_name"), "serial_no": serial,
               "customer_id": customer["id"], "delivery_date": data.get("new_delivery_date"),
               "warranty_months": data.get("new_warranty_months")}
        return _created(lambda: insert_product(tx, new), NEW_PRODUCT_FIELDS)
    key = serial_key(serial)
    product = next((p for p in tx.scan(PRODUCTS) if serial_key(p["serial_no"]) == key), None)
    if product is None:
        raise CaseError(f"没有产品编号为 {serial} 的产品（不在系统中的，请勾选「新建产品」并填写）", "product_serial")
    if product["customer_id"] != customer["id"]:
        raise CaseError(f"产品 {product['serial_no']} 不属于 {customer['name']}", "product_serial")
    return product


def resolve_unknown(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """6.2.2: 技质部 links the 待核实 unit and serial of a service request (6.1.2) to a customer and a
    product (existing, or created here), so that the warranty can be judged and the solution
    decided; the warranty is the product's on the day of the call."""
    by = user["username"]
    note = checked.text(data, "note", "核实情况", required=False, max_len=400)
    customer = _customer(tx, case, data)
    product = _product(tx, data, customer)
    was = case["unverified"]
    w = warranty_of(product, parse_local(case["received_at"]))
    case.update({
        "customer_id": customer["id"], "customer_name": customer["name"],
        "product_id": product["id"], "product_serial": product["serial_no"],
        "product_label": f"{product['model']} {product['name']}",
        "warranty": w,
        "unverified": None,
        "verified": {"was": was, "by": by, "at": iso_local(now), "note": note,
                     "created": [k for k, made in (("customer", not data.get("customer_id")),
                                                   ("product", bool(data.get("new_product")))) if made]},
    })
    case["tq_owner"] = case.get("tq_owner") or by
    typed = "，".join(f"{k}「{v}」" for k, v in (("单位", was.get("unit")), ("产品编号", was.get("serial"))) if v)
    text = f"已核实（{UNVERIFIED}：{typed or '—'}）→ {customer['name']}，{product['serial_no']}；{w['label']}"
    log(case, by, now, "resolve_unknown", text + (f"；{note}" if note else ""))


HANDLERS = {"resolve_unknown": resolve_unknown}
