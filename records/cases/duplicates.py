"""The cases a new call may repeat, named at intake (6.1.1, 6.1.2) so the receiver can look
before recording it twice: an open case for the same product, or a case from the same caller
phone (its digits alone) received in the last ``duplicate_call_days`` days (公司参数, ``policy.parameter``; default
``policy.DUPLICATE_CALL_DAYS``). A warning only: the receiver may still go on.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from records import policy
from records.calendar.workdays import iso_local, to_local
from records.catalog.phones import MIN_SEARCH_DIGITS, case_phone_digits, digits
from records.catalog.products import serial_key

from .vocab import TABLE, is_live


def possible_duplicates(source, serial: str, phone: str, now: datetime) -> list[dict]:
    """[{case, why}] of the cases a call being recorded (6.1.1, 6.1.2) may repeat, newest first (``source``: a Store or an
    open Transaction, anything with ``scan``). ``why``: "product" and/or "phone"."""
    key = serial_key(serial or "")
    wanted = digits(phone)
    since = iso_local(to_local(now) - timedelta(days=policy.parameter(source, "duplicate_call_days")))
    out = []
    for case in source.scan(TABLE):
        if not is_live(case):  # a cancelled or merged case is no longer the call's record
            continue
        why = []
        if key and case.get("state") != "closed" and serial_key(case.get("product_serial") or "") == key:
            why.append("product")
        if len(wanted) >= MIN_SEARCH_DIGITS and (case.get("received_at") or "") >= since:
            if case_phone_digits(case) == wanted:
                why.append("phone")
        if why:
            out.append({"case": case, "why": why})
    out.sort(key=lambda r: (r["case"].get("received_at") or "", r["case"]["id"]), reverse=True)
    return out
