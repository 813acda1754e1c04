"""The products a 技术通报 (technical notice) covers, and so every customer holding one.

The notice names a model; the products of that model are chosen by one of ``MODES``:

- ``model``: every product of the model;
- ``range``: a serial range, ``serial_from`` to ``serial_to``: the same prefix, a numeric tail,
  inclusive. The prefix is everything before the trailing digits and must match (case aside:
  ``records.catalog.products.serial_key``); tails compare as numbers, so leading zeros and tail
  widths do not matter (JX-0099 … JX-0101 covers JX-100 and JX-0100);
- ``delivery``: delivered from ``delivered_from`` to ``delivered_to`` (ISO dates, inclusive);
- ``list``: a pasted list of serials (one per line, or separated by commas, spaces, 、 or ；);
  the serials not found in the ledger are reported, and those of another model.

``covered_serials`` gives, for the statistics of section 9 (the STATS page marks the faults on
products covered by a notice), every serial covered by an issued notice. Plain Python: no Flask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.catalog.products import serial_key
from records.core.errors import DomainError

from .vocab import LIVE, TABLE

MODES = {"model": "该型号全部产品", "range": "按产品编号范围", "delivery": "按交付日期", "list": "按粘贴的产品编号清单"}
MAX_LIST = 2000
_TAIL = re.compile(r"^(.*?)(\d+)$")
_SPLIT = re.compile(r"[\s,，;；、]+")


class SelectionError(DomainError):
    pass


def split_serial(serial: str) -> tuple[str, int] | None:
    """(prefix case-folded, numeric tail) of a serial, or None without trailing digits."""
    m = _TAIL.match(serial_key(serial))
    return (m.group(1), int(m.group(2))) if m else None


def in_range(serial: str, first: str, last: str) -> bool:
    """Whether ``serial`` lies in ``first`` … ``last`` (same prefix, numeric tail, inclusive)."""
    s, a, b = split_serial(serial), split_serial(first), split_serial(last)
    if s is None or a is None or b is None or not (s[0] == a[0] == b[0]):
        return False
    return a[1] <= s[1] <= b[1]


def pasted(text: str) -> list[str]:
    """The serials of a pasted list, in order, each once (case aside)."""
    out, seen = [], set()
    for part in _SPLIT.split(text or ""):
        part = part.strip()
        if part and serial_key(part) not in seen:
            seen.add(serial_key(part))
            out.append(part)
    return out


def _date(data: dict, key: str, label: str) -> str:
    value = data.get(key)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise SelectionError(f"{label}格式应为 YYYY-MM-DD", key) from None


def clean(data: dict) -> dict:
    """The selection's fields checked (the field in error named): mode and what it needs."""
    mode = data.get("mode") or "model"
    if mode not in MODES:
        raise SelectionError("请选择受影响产品的选择方式", "mode")
    out = {"mode": mode, "serial_from": "", "serial_to": "", "delivered_from": "", "delivered_to": "", "serials": ""}
    if mode == "range":
        first, last = (str(data.get(k) or "").strip() for k in ("serial_from", "serial_to"))
        for key, value, label in (("serial_from", first, "起始产品编号"), ("serial_to", last, "截止产品编号")):
            if not value:
                raise SelectionError(f"请输入{label}", key)
            if split_serial(value) is None:
                raise SelectionError(f"{label}须以数字结尾（前缀相同、尾部为数字）", key)
        a, b = split_serial(first), split_serial(last)
        if a[0] != b[0]:
            raise SelectionError("起止产品编号的前缀不同", "serial_to")
        if a[1] > b[1]:
            raise SelectionError("截止产品编号小于起始产品编号", "serial_to")
        out.update(serial_from=first, serial_to=last)
    elif mode == "delivery":
        start = _date(data, "delivered_from", "交付日期（起）")
        end = _date(data, "delivered_to", "交付日期（止）")
        if not start and not end:
            raise SelectionError("请输入交付日期范围（起、止至少一项）", "delivered_from")
        if start and end and start > end:
            raise SelectionError("交付日期（止）早于交付日期（起）", "delivered_to")
        out.update(delivered_from=start, delivered_to=end)
    elif mode == "list":
        serials = pasted(str(data.get("serials") or ""))
        if not serials:
            raise SelectionError("请粘贴产品编号清单", "serials")
        if len(serials) > MAX_LIST:
            raise SelectionError(f"产品编号清单最多 {MAX_LIST} 个", "serials")
        out["serials"] = "\n".join(serials)
    return out


def describe(sel: dict) -> str:
    """The selection in words (the notice page and its PDF)."""
    mode = sel.get("mode") or "model"
    if mode == "range":
        return f"产品编号 {sel['serial_from']} 至 {sel['serial_to']}（含）"
    if mode == "delivery":
        return f"交付日期 {sel.get('delivered_from') or '…'} 至 {sel.get('delivered_to') or '…'}（含）"
    if mode == "list":
        return f"清单所列产品编号 {len(pasted(sel.get('serials', '')))} 个"
    return "该型号全部产品"


@dataclass
class Selection:
    products: list[dict] = field(default_factory=list)  # the ledger's products covered, by serial
    customers: dict[int, str] = field(default_factory=dict)  # id → name, of the customers holding one
    not_found: list[str] = field(default_factory=list)  # pasted serials not in the ledger
    other_model: list[str] = field(default_factory=list)  # pasted serials of another model


def select(source, model: str, sel: dict) -> Selection:
    """The products of ``model`` the selection covers, the customers holding them, and (pasted
    list) the serials not found or of another model. ``source``: a Store or an open Transaction."""
    want = (model or "").strip().casefold()
    mode = sel.get("mode") or "model"
    products = list(source.scan(PRODUCTS))
    out = Selection()
    if mode == "list":
        by_key = {serial_key(p["serial_no"]): p for p in products}
        chosen = []
        for s in pasted(sel.get("serials", "")):
            p = by_key.get(serial_key(s))
            if p is None:
                out.not_found.append(s)
            elif p["model"].strip().casefold() != want:
                out.other_model.append(s)
            else:
                chosen.append(p)
    else:
        chosen = [p for p in products if p["model"].strip().casefold() == want and _covers(p, mode, sel)]
    out.products = sorted(({**p} for p in chosen), key=lambda p: serial_key(p["serial_no"]))
    names = {c["id"]: c["name"] for c in source.scan(CUSTOMERS)}
    for p in out.products:
        out.customers[p["customer_id"]] = names.get(p["customer_id"], f"#{p['customer_id']}")
    return out


def _covers(p: dict, mode: str, sel: dict) -> bool:
    if mode == "range":
        return in_range(p["serial_no"], sel["serial_from"], sel["serial_to"])
    if mode == "delivery":
        day = p.get("delivery_date") or ""
        return (not sel.get("delivered_from") or day >= sel["delivered_from"]) and \
            (not sel.get("delivered_to") or day <= sel["delivered_to"])
    return True


def covered_serials(source) -> dict[str, list[str]]:
    """{serial: [numbers of the issued notices covering it]} (section 9's statistics mark the
    faults on these products); the products frozen at each notice's issue."""
    out: dict[str, list[str]] = {}
    for n in source.scan(TABLE):
        if n.get("state") in LIVE:
            for p in n.get("affected") or []:
                out.setdefault(p["serial_no"], []).append(n["number"])
    return out
