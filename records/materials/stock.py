"""库存: service materials per location (3.1 「及时采购」; 6.2.5 issue to the technician's kit).

Locations: ``"store"`` (the store) and ``"kit:<username>"`` (a technician's kit). Table
``stock_moves`` is append-only; each movement takes ``qty`` (a positive whole number) of one part
from ``from_loc`` and/or to ``to_loc``::

    {"kind": "receipt" | "issue" | "kit_return" | "return" | "adjust" | "consume",
     "part_code", "qty", "from_loc", "to_loc", "case_id", "unit_cost", "purchase_id", "reason",
     "by", "at"}

A balance is the sum of what came in minus what went out, computed from the moves. Stock never
goes negative: a movement out of a location beyond its balance is refused with the quantity
available — inside the caller's ``store.transaction`` (which holds the cross-process write lock),
re-reading the moves there, so two processes cannot both issue the last unit. The one exception
is ``consume_tx`` (the consumption posted at the confirmation): it takes what the kit holds and
records the rest as a 库存差异 (table ``stock_discrepancies``) for 技质部 to resolve, never raising.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from records.calendar.workdays import iso_local, now_local
from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction
from records.users.accounts import find_by_username

from . import parts

MOVES = "stock_moves"
DISCREPANCIES = "stock_discrepancies"
STORE = "store"
KIT = "kit:"
KINDS = {"receipt": "入库", "issue": "发放到工具包", "kit_return": "工具包退回仓库", "return": "案例未用物料退库",
         "adjust": "盘点调整", "consume": "现场消耗"}
DISCREPANCY_KINDS = {"consume_shortfall": "消耗超出工具包库存", "return_unissued": "退回物料不在工具包中",
                     "return_unknown": "退回物料编码不在物料目录中"}
ADJUSTERS = ("tq_manager",)  # 盘点调整: 技质部经理 only
MAX_QTY = 99_999


class StockError(DomainError):
    pass


def kit_of(username: str) -> str:
    return KIT + username


def location_label(loc: str | None, names: dict[str, str] | None = None) -> str:
    if not loc:
        return ""
    if loc == STORE:
        return "仓库"
    user = loc.removeprefix(KIT)
    return f"{(names or {}).get(user, user)} 的工具包"


def quantity(value, field: str = "qty", label: str = "数量") -> int:
    try:
        qty = int(str(value).strip())
    except (TypeError, ValueError):
        raise StockError(f"{label}必须是正整数", field) from None
    if qty <= 0 or qty > MAX_QTY:
        raise StockError(f"{label}必须是 1—{MAX_QTY} 的整数", field)
    return qty


# --- reading --------------------------------------------------------------------------------


def all_balances(source: Store | Transaction) -> dict[str, dict[str, int]]:
    """location → {part code → quantity} (zeros left out), computed from every move."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in source.scan(MOVES):
        if m.get("to_loc"):
            out[m["to_loc"]][m["part_code"]] += m["qty"]
        if m.get("from_loc"):
            out[m["from_loc"]][m["part_code"]] -= m["qty"]
    clean = {loc: {c: q for c, q in codes.items() if q} for loc, codes in out.items()}
    return {loc: codes for loc, codes in clean.items() if codes}


def balances(source: Store | Transaction, location: str = STORE) -> dict[str, int]:
    """part code → quantity held at ``location``."""
    return all_balances(source).get(location, {})


def balance(source: Store | Transaction, location: str, code: str) -> int:
    code = parts.clean_code(code)
    total = 0
    for m in source.scan(MOVES):
        if m["part_code"] == code:
            total += m["qty"] if m.get("to_loc") == location else 0
            total -= m["qty"] if m.get("from_loc") == location else 0
    return total


def kit(source: Store | Transaction, username: str) -> list[dict]:
    """What a technician's kit holds: ``[{"part_code", "qty", "part"}]`` by code (6.2.5)."""
    catalogue = {p["code"]: p for p in source.scan(parts.TABLE)}
    return [{"part_code": c, "qty": q, "part": catalogue.get(c)}
            for c, q in sorted(balances(source, kit_of(username)).items()) if q > 0]


def holder(source: Store | Transaction, usernames: list[str], code: str, qty) -> str:
    """Whose kit a case's part line posts to (6.2.7), of the technicians sent: the first whose kit
    holds the whole quantity, else the first holding some, else the first sent (a shortfall then)."""
    held = [(u, balance(source, kit_of(u), code)) for u in usernames]
    want = int(qty or 0)
    return (next((u for u, q in held if q >= want > 0), None) or next((u for u, q in held if q > 0), None)
            or usernames[0])


def kits(source: Store | Transaction) -> dict[str, dict[str, int]]:
    """username → its kit's balances, for every kit that holds something."""
    return {loc.removeprefix(KIT): codes for loc, codes in all_balances(source).items()
            if loc.startswith(KIT) and any(q > 0 for q in codes.values())}


def moves(source: Store | Transaction, code: str | None = None, location: str | None = None,
          case_id: int | None = None) -> list[dict]:
    """The movements, newest first, of one part / location / case when named."""
    rows = [m for m in source.scan(MOVES)
            if (code is None or m["part_code"] == code)
            and (location is None or location in (m.get("from_loc"), m.get("to_loc")))
            and (case_id is None or m.get("case_id") == case_id)]
    return sorted(rows, key=lambda m: m["id"], reverse=True)


def _per_code(rows) -> list[dict]:
    total: dict[str, int] = defaultdict(int)
    for m in rows:
        total[m["part_code"]] += m["qty"]
    return [{"part_code": c, "qty": q} for c, q in sorted(total.items()) if q]


def consumed(source: Store | Transaction, case_id: int) -> list[dict]:
    """6.2.7: what was consumed on a case (from the kits), ``[{"part_code", "qty"}]``."""
    return _per_code(m for m in source.scan(MOVES) if m.get("case_id") == case_id and m["kind"] == "consume")


def issued(source: Store | Transaction, case_id: int) -> list[dict]:
    """6.2.5: what was issued to the kits for a case, ``[{"part_code", "qty"}]``."""
    return _per_code(m for m in source.scan(MOVES) if m.get("case_id") == case_id and m["kind"] == "issue")


def low_stock(source: Store | Transaction) -> list[dict]:
    """3.1 「及时采购」: the parts in use whose store balance is below their minimum stock."""
    held = balances(source, STORE)
    return [{"part": p, "qty": held.get(p["code"], 0), "min_stock": p["min_stock"]}
            for p in parts.all_parts(source) if p.get("min_stock") and held.get(p["code"], 0) < p["min_stock"]]


# --- moving ---------------------------------------------------------------------------------


def _part(source, code, field: str) -> dict:
    part = parts.get_by_code(source, code)
    if part is None:
        raise StockError(f"物料目录中没有编码 {parts.clean_code(code) or '（空）'}", field)
    return part


def _location(source, loc: str, field: str) -> str:
    if loc == STORE:
        return loc
    if loc.startswith(KIT) and find_by_username(source, loc.removeprefix(KIT)):
        return loc
    raise StockError("没有这个库位", field)


def _move(tx: Transaction, kind: str, part: dict, qty: int, from_loc: str | None, to_loc: str | None,
          by: str, now: datetime | None, field: str = "qty", **extra) -> dict:
    if from_loc:
        available = balance(tx, from_loc, part["code"])  # re-read under the write lock
        if qty > available:
            raise StockError(f"库存不足：可用 {max(available, 0)} {part.get('unit') or '件'}", field)
    return tx.insert(MOVES, {"kind": kind, "part_code": part["code"], "qty": qty, "from_loc": from_loc,
                             "to_loc": to_loc, "case_id": extra.pop("case_id", None), "by": by,
                             "at": iso_local(now or now_local()), **extra})


def receipt_tx(tx: Transaction, code: str, qty, by: str, now: datetime | None = None, unit_cost=None,
               purchase_id: int | None = None, note: str = "") -> dict:
    """3.1: parts accepted into the store (after the incoming inspection); the unit cost, when
    given, becomes the part's cost."""
    part = _part(tx, code, "part_code")
    if part.get("retired"):
        raise StockError("该物料已停用", "part_code")
    qty = quantity(qty)
    cost = parts.money(unit_cost, "unit_cost", "单位成本")
    move = _move(tx, "receipt", part, qty, None, STORE, by, now, unit_cost=cost, purchase_id=purchase_id,
                 reason=(note or "").strip())
    if cost is not None:
        parts.set_cost_from_receipt_tx(tx, part["code"], cost)
    return move


def issue_tx(tx: Transaction, code: str, qty, username: str, by: str, now: datetime | None = None,
             case_id: int | None = None, note: str = "", field: str = "qty") -> dict:
    """6.2.5: parts from the store into a technician's kit (for a case when named); refused
    beyond the store's stock, with the quantity available."""
    part = _part(tx, code, "part_code")
    loc = _location(tx, kit_of(username), "username")
    return _move(tx, "issue", part, quantity(qty, field), STORE, loc, by, now, field=field, case_id=case_id,
                 reason=(note or "").strip())


def issue_lines_tx(tx: Transaction, username: str, lines: list[dict], by: str, now: datetime | None = None,
                   case_id: int | None = None) -> list[dict]:
    """6.2.5: several lines ``{"part_code", "qty"}`` into a kit at once: all or none."""
    out = []
    for line in lines:
        try:
            out.append(issue_tx(tx, line["part_code"], line["qty"], username, by, now, case_id=case_id,
                                field="lines"))
        except StockError as exc:
            raise StockError(f"{parts.clean_code(line['part_code'])}：{exc}", "lines") from None
    if not out:
        raise StockError("请至少填写一行物料和数量", "lines")
    return out


def kit_return_tx(tx: Transaction, code: str, qty, username: str, by: str, now: datetime | None = None,
                  note: str = "") -> dict:
    """Parts from a technician's kit back to the store; refused beyond what the kit holds."""
    part = _part(tx, code, "part_code")
    loc = _location(tx, kit_of(username), "username")
    return _move(tx, "kit_return", part, quantity(qty), loc, STORE, by, now, reason=(note or "").strip())


def adjust_tx(tx: Transaction, location: str, code: str, counted, reason: str, user: dict,
              now: datetime | None = None) -> dict | None:
    """3.1 盘点调整: the counted quantity replaces the balance (技质部经理, with a reason, audited)."""
    if not set(user.get("roles") or ()) & set(ADJUSTERS):
        raise StockError("盘点调整只能由技质部经理进行", "reason")
    part = _part(tx, code, "part_code")
    loc = _location(tx, location, "location")
    try:
        counted = int(str(counted).strip())
    except (TypeError, ValueError):
        raise StockError("盘点数量必须是整数", "counted") from None
    if counted < 0 or counted > MAX_QTY:
        raise StockError(f"盘点数量必须在 0—{MAX_QTY} 之间", "counted")
    reason = (reason or "").strip()
    if not reason:
        raise StockError("请填写调整原因", "reason")
    delta = counted - balance(tx, loc, part["code"])
    if delta == 0:
        return None
    src, dst = (None, loc) if delta > 0 else (loc, None)
    return _move(tx, "adjust", part, abs(delta), src, dst, user["username"], now, reason=reason,
                 counted=counted, delta=delta)


def _lines(lines) -> list[tuple[str, int]]:
    """(code, qty) of the lines that name a catalogue code and a positive quantity."""
    out = []
    for line in lines or ():
        code = parts.clean_code(line.get("part_code") or line.get("code"))
        try:
            qty = int(str(line.get("qty", line.get("quantity")) or 0).strip())
        except (TypeError, ValueError):
            qty = 0
        if code and qty > 0:
            out.append((code, qty))
    return out


def _discrepancy(tx, kind: str, case_id, loc: str, code: str, qty: int, wanted: int, available: int,
                 by: str, now) -> dict:
    return tx.insert(DISCREPANCIES, {"kind": kind, "case_id": case_id, "location": loc, "part_code": code,
                                     "qty": qty, "wanted": wanted, "available": available, "by": by,
                                     "at": iso_local(now or now_local()), "state": "open",
                                     "resolution": "", "resolved_by": None, "resolved_at": None})


def consume_tx(tx: Transaction, case_id: int, username: str, lines: list[dict], by: str,
               now: datetime | None = None) -> list[dict]:
    """6.2.7: the parts used on a case, posted from the technician's kit at the confirmation.

    Consumes what the kit holds; the rest is a shortfall recorded as a 库存差异 for 技质部 —
    never a refusal. ``lines``: ``[{"part_code", "qty"}]`` (lines without a code: free text,
    skipped). Returns the shortfalls ``[{"part_code", "qty", "wanted", "available", "discrepancy_id"}]``.
    """
    loc, short = kit_of(username), []
    for code, qty in _lines(lines):
        part = parts.get_by_code(tx, code) or {"code": code, "unit": "件"}
        have = max(balance(tx, loc, code), 0)
        if have:
            _move(tx, "consume", part, min(have, qty), loc, None, by, now, case_id=case_id)
        if qty > have:
            d = _discrepancy(tx, "consume_shortfall", case_id, loc, code, qty - have, qty, have, by, now)
            short.append({"part_code": code, "qty": qty - have, "wanted": qty, "available": have,
                          "discrepancy_id": d["id"]})
    return short


def return_tx(tx: Transaction, case_id: int, username: str, lines: list[dict], by: str,
              now: datetime | None = None) -> list[dict]:
    """6.2.7: unused parts of a case back from the technician's kit to the store, after
    checking. What the kit does not hold still goes into the store (it is there) and is
    recorded as a 库存差异; a code not in the catalogue is only a 库存差异 (no stock made up);
    never raises. Returns those lines as ``consume_tx`` does."""
    loc, odd = kit_of(username), []
    for code, qty in _lines(lines):
        part = parts.get_by_code(tx, code)
        if part is None:  # a code not in the catalogue: no stock is made up, 技质部 looks into it
            d = _discrepancy(tx, "return_unknown", case_id, loc, code, qty, qty, 0, by, now)
            odd.append({"part_code": code, "qty": qty, "wanted": qty, "available": 0, "discrepancy_id": d["id"]})
            continue
        have = max(balance(tx, loc, code), 0)
        if have:
            _move(tx, "return", part, min(have, qty), loc, STORE, by, now, case_id=case_id)
        if qty > have:
            _move(tx, "return", part, qty - have, None, STORE, by, now, case_id=case_id, reason="工具包中无此物料")
            d = _discrepancy(tx, "return_unissued", case_id, loc, code, qty - have, qty, have, by, now)
            odd.append({"part_code": code, "qty": qty - have, "wanted": qty, "available": have,
                        "discrepancy_id": d["id"]})
    return odd


# --- 库存差异 -----------------------------------------------------------------------------------


def discrepancies(source: Store | Transaction, open_only: bool = False) -> list[dict]:
    rows = [d for d in source.scan(DISCREPANCIES) if not open_only or d["state"] == "open"]
    return sorted(rows, key=lambda d: (d["state"] != "open", -d["id"]))


def resolve_discrepancy_tx(tx: Transaction, discrepancy_id: int, note: str, user: dict,
                           now: datetime | None = None) -> dict:
    """3.1: 技质部 resolves a stock discrepancy with a note (what was found, what was done)."""
    if not set(user.get("roles") or ()) & set(parts.EDITORS):
        raise StockError("只有技质部可以处理库存差异", "note")
    d = tx.require(DISCREPANCIES, discrepancy_id)
    if d["state"] != "open":
        raise StockError("该差异已处理", "note")
    note = (note or "").strip()
    if not note:
        raise StockError("请填写处理说明", "note")
    if len(note) > 1000:
        raise StockError("处理说明不能超过 1000 个字", "note")
    return tx.update(DISCREPANCIES, discrepancy_id, {"state": "resolved", "resolution": note,
                                                     "resolved_by": user["username"],
                                                     "resolved_at": iso_local(now or now_local())})
