"""返回物料: what a technician brings back from a service (3.1, 6.2.7), and the parts of their kit.

At the report the technician lists each line (``case["returned_materials"]``, written by
records.cases.steps.report)::

    {"part_code": a catalogue code or None, "part": the name as written, "quantity": int,
     "condition": "unused" | "damaged", "received_at": None | ISO, "received_by": None | username,
     "outcome": None | "restocked" | "inspection", "inspection_id": None | int, "note": ""}

技质部 receives them (``receive_tx``): an unused part, checked, goes back to the store
(``back_to_store``: STOCK's ``stock.return_tx`` once it is merged); a removed faulty part goes to
inspection (records.materials.inspections, 待检验). The hand-in rule that waits on the receipt
(6.2.7) is the cases' (records.cases.steps.handin); this module imports no cases.

The tablet form's parts used are picked from the technician's kit (``kit_choices``): the caller
passes the kit as (code, name, qty) triples (STOCK's ``stock.kit(source, username)`` once merged).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from records.calendar.workdays import iso_local
from records.core.transaction import Transaction

from . import inspections, stock

UNUSED, FAULTY = "unused", "damaged"  # the kinds of a line (records.cases.vocab.CONDITIONS names them)
OUTCOMES = {"restocked": "检查后退回库房", "inspection": "转检验"}
MAX_NOTE = 200


# --- The technician's kit, for the parts used on the tablet form ------------------------------


def kit_choices(kit: Iterable[tuple[str, str, float]]) -> list[tuple[str, str]]:
    """(code, label) of every part in the kit with a quantity left, for the tablet form's select."""
    return [(str(code), f"{code} {name}（随身 {qty:g}）") for code, name, qty in kit if code and qty and qty > 0]


def kit_names(kit: Iterable[tuple[str, str, float]]) -> dict[str, str]:
    """code → name of the kit's parts (a part picked by its code is named as the catalogue names it)."""
    return {str(code): str(name) for code, name, _ in kit if code}


# --- Receiving the returned materials (技质部) --------------------------------------------------


def pending(lines: Iterable[dict]) -> list[int]:
    """The indexes of the lines not yet received."""
    return [i for i, line in enumerate(lines) if not line.get("received_at")]


def back_to_store(tx: Transaction, *, case_id: int, line: dict, usernames: list[str], by: str,
                  now: datetime) -> list[dict]:
    """An unused part, checked, back to the store from the kit of the technician sent who holds it
    (``stock.holder``, ``stock.return_tx``);
    a free-text part (no ``part_code``) has no stock to return to. Returns the discrepancies
    (the kit did not hold it: the part is in the store all the same)."""
    if not line.get("part_code") or not usernames:
        return []
    qty = line.get("quantity") or line.get("qty") or 1
    owner = stock.holder(tx, usernames, line["part_code"], qty)
    return stock.return_tx(tx, case_id, owner, [{"part_code": line["part_code"], "qty": qty}], by, now)


def receive_tx(tx: Transaction, *, case_id: int, case_number: str, lines: list[dict], notes: list[str] | None,
               by: str, at: datetime, now: datetime, usernames: list[str] | None = None) -> list[dict]:
    """技质部 receives the returned materials (3.1 「返回品的检验」, 6.2.7): every line not yet received; returns the new lines (the caller stores them on the
    case). ``notes`` (one per line, may be shorter) is 技质部's remark on each; ``at`` the time
    the materials were handed over; ``usernames`` the technicians sent (whose kits the unused parts left)."""
    notes = list(notes or [])
    out = []
    for i, line in enumerate(lines):
        line = dict(line)
        if not line.get("received_at"):
            note = str(notes[i] if i < len(notes) else "").strip()[:MAX_NOTE]
            line.update(received_at=iso_local(at), received_by=by, note=note)
            if line.get("condition") == UNUSED:
                odd = back_to_store(tx, case_id=case_id, line=line, usernames=list(usernames or []), by=by, now=now)
                line["outcome"] = "restocked"
                if odd:  # not in the kit's stock: the part is in the store, a 库存差异 says why
                    line["discrepancy_ids"] = [d["discrepancy_id"] for d in odd if d.get("discrepancy_id")]
            else:
                doc = inspections.create_tx(tx, case_id=case_id, case_number=case_number, line=i,
                                            part_code=line.get("part_code"), part_text=line.get("part") or "",
                                            quantity=int(line.get("quantity") or 1), by=by, now=now)
                line.update(outcome="inspection", inspection_id=doc["id"])
        out.append(line)
    return out
