"""Looking a case up (6.1.1: any employee may take a customer's call, and so may find where
the customer's earlier call stands), and the cases of one customer or product.

``lookup``: by the case's exact number (or its 技术服务单 number), by at least
``MIN_PHONE_DIGITS`` digits of the caller's phone (digits only: spaces, dashes and full-width
digits do not matter), or by a part of the unit's name. Any logged-in user may; each row says
only where the case stands (number, unit, status, next step, who acts, the most urgent
deadline), and links to the case only for those who may read it today (``flow.may_read``).

``cases_of``: the cases of a customer or a product, with the same link rule, and
``parts_replaced``: the parts the technicians' reports say were replaced (6.2.7).
``undecided_of``: the open cases of some products still awaiting the 6.2.2 decision (the
product ledger import lists them beside the products it would change).

The matching is a predicate over ``store.page`` (a full scan): an index can replace the scan
without changing the rules.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from records.calendar.workdays import WorkCalendar
from records.catalog import phones
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.errors import DomainError
from records.core.store import Store
from records.service_forms.fields import form_no_of
from records.users.accounts import display_names

from . import index
from .deadlines import next_deadline_row, state_label
from .flow import may_read, next_steps
from .vocab import OUTCOMES, STATES, TABLE, TYPES

# Not regulation numbers (the company's choice, set with issue 10): how many digits of a phone
# a lookup needs (fewer would list strangers' calls), and how many rows it shows.
MIN_PHONE_DIGITS = phones.MIN_SEARCH_DIGITS
MAX_ROWS = 20
MIN_UNIT_CHARS = 2
# The case fields a unit name is matched in (a free-text unit of an unknown caller goes here too).
UNIT_FIELDS = ("customer_name",)

# What a row shows of the most urgent deadline (the case page's deadline cell).
DUE_KEYS = ("label", "clause", "basis", "start", "due", "status", "left")
NUMBER_RE = re.compile(r"^[A-Z]{2}\d{4}-\d+$")
REFUSED = (f"请输入完整的案例编号（如 FW2026-0001）、电话号码中至少 {MIN_PHONE_DIGITS} 位数字，"
           "或顾客单位名称（6.1.1）")


class LookupRefused(DomainError):
    """The query is neither a number, nor enough digits of a phone, nor a unit's name."""


def normal(text: str | None) -> str:
    """``text`` with full-width characters made plain (NFKC) and spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


@dataclass
class Lookup:
    """What a lookup found: how it read the query, its rows (at most ``MAX_ROWS``) and how many matched."""

    kind: str  # "number" | "phone" | "unit"
    query: str
    rows: list[dict] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> bool:
        return self.total > len(self.rows)


def _unit_ids(store: Store, wanted: str) -> set[int]:
    return {c["id"] for c in store.scan(CUSTOMERS) if wanted in normal(c.get("name")).casefold()}


def _unit_match(store: Store, text: str):
    wanted = text.casefold()
    ids = _unit_ids(store, wanted)
    return lambda c: c.get("customer_id") in ids or any(wanted in normal(c.get(k)).casefold() for k in UNIT_FIELDS)


def matcher(store: Store, query: str) -> tuple[str, str, object]:
    """How ``query`` is read: (kind, the normalised query, a predicate over case documents).

    Raises LookupRefused with a Chinese message when it is none of a number, at least
    ``MIN_PHONE_DIGITS`` digits of a phone, or a unit's name.
    """
    q = normal(query)
    if not q:
        raise LookupRefused(REFUSED, "q")
    upper = q.upper()
    if NUMBER_RE.match(upper):
        return "number", upper, lambda c: (c.get("number") or "").upper() == upper or form_no_of(c).upper() == upper
    if phones.is_phone(q):
        d = phones.digits(q)
        if len(d) >= MIN_PHONE_DIGITS:
            return "phone", d, lambda c: d in phones.case_phone_digits(c)
        if d and _unit_ids(store, q.casefold()):  # a unit whose name has these digits ("5702厂")
            return "unit", q, _unit_match(store, q)
        raise LookupRefused(f"电话号码至少输入 {MIN_PHONE_DIGITS} 位数字（现在是 {len(d)} 位）；"
                            "或输入完整的案例编号、顾客单位名称", "q")
    if len(q) < MIN_UNIT_CHARS:
        raise LookupRefused(f"顾客单位名称至少输入 {MIN_UNIT_CHARS} 个字", "q")
    return "unit", q, _unit_match(store, q)


def status_label(case: dict, now: datetime | None = None) -> str:
    """The case's state in words; a closed case says how it ended; with ``now``, a dispatched
    case says 待出发 or 已出发 (6.2.5, ``deadlines.state_label``)."""
    if case.get("state") == "closed" and case.get("outcome"):
        return f"{STATES['closed']}（{OUTCOMES.get(case['outcome'], case['outcome'])}）"
    return state_label(case, now) if now is not None else STATES.get(case.get("state"), case.get("state") or "")


def status_row(case: dict, user: dict, cal: WorkCalendar, now: datetime, names: dict[str, str]) -> dict:
    """Where the case stands, and nothing more: number, unit, status, next steps, who acts,
    the most urgent open deadline; ``case_id`` only when ``user`` may read the case."""
    steps = next_steps(case)
    who = []
    for s in steps:
        for person in [names.get(u, u) for u in s["users"]] + s["roles"]:
            if person not in who:
                who.append(person)
    due = next_deadline_row(case, cal, now)
    return {
        "number": case.get("number") or "",
        "unit": case.get("customer_name") or "",
        "status": status_label(case, now),
        "next_steps": [s["label"] for s in steps],
        "who": who,
        "due": {k: due.get(k) for k in DUE_KEYS} if due else None,
        "case_id": case["id"] if may_read(case, user) else None,
    }


def lookup(store: Store, query: str, user: dict, cal: WorkCalendar, now: datetime) -> Lookup:
    """The cases ``query`` names (newest first, at most ``MAX_ROWS``), each as ``status_row``: any
    employee who takes a call (6.1.1) may ask where the customer's case stands."""
    kind, q, pred = matcher(store, query)
    cases, total = store.page(TABLE, pred, key=lambda c: (c.get("received_at") or "", c["id"]), reverse=True,
                              per_page=MAX_ROWS)
    names = display_names(store) if cases else {}
    return Lookup(kind, q, [status_row(c, user, cal, now, names) for c in cases], total)


def cases_of(store: Store, user: dict, *, customer_id: int | None = None, product: dict | None = None) -> list[dict]:
    """The cases of a customer, or of a product (by its id, or its serial number for a case that
    names it without the id), newest first: [{number, date, type, status, case_id, parts}],
    ``case_id`` only when ``user`` may read the case; ``parts`` as ``parts_replaced``."""
    table = index.rows(store)  # the case index: only this customer's or product's documents are read
    if product is not None:
        serial = (product.get("serial_no") or "").lower()
        rows = table.bucket("product_id", product["id"])
        named = [r for r in table.bucket("product_id", None) if serial and r["serial"] == serial]
        if named:  # cases that name the serial without the product's id (待核实 before it was linked)
            rows = sorted(rows + named, key=lambda r: (r["received_at"], r["id"]), reverse=True)
    else:
        rows = table.bucket("customer_id", customer_id) if customer_id else []
    cases = store.docs(TABLE, [r["id"] for r in rows])  # the index's order: newest first
    return [{"number": c.get("number") or "", "date": (c.get("received_at") or "")[:10],
             "type": TYPES.get(c.get("type"), c.get("type") or ""), "status": status_label(c),
             "case_id": c["id"] if may_read(c, user) else None, "parts": parts_replaced(c)} for c in cases]


def parts_replaced(case: dict) -> list[dict]:
    """The parts replaced on site, as the written report's 技术服务单 lists them (6.2.7):
    [{part, quantity}]; none before the report."""
    form = (case.get("report") or {}).get("service_form") or {}
    return [{"part": p.get("part") or "", "quantity": p.get("quantity")} for p in form.get("parts") or []]


def undecided_of(store: Store, product_ids) -> list[dict]:
    """The open cases of these products still without their 6.2.2 decision (待确定解决方案), oldest
    first: [{case_id, number, product_id, serial, received}]. Their warranty stays the one fixed at
    intake; 技质部 reads them again when a product's data changes (the ledger import's preview)."""
    wanted = set(product_ids)
    table = index.rows(store)
    rows = [r for pid in wanted for r in table.bucket("product_id", pid) if r["state"] == "awaiting_decision"]
    rows.sort(key=lambda r: (r["received_at"], r["id"]))
    return [{"case_id": c["id"], "number": c.get("number") or "", "product_id": c.get("product_id"),
             "serial": c.get("product_serial") or "", "received": (c.get("received_at") or "")[:16].replace("T", " ")}
            for c in store.docs(TABLE, [r["id"] for r in rows])]
