"""One record of what happened on site (6.2.6, 6.2.7, 6.2.9): the time rules every path shares,
the signed form's fields read as the report keeps them, and the differences between the two.

The tablet form, 维修完毕 and the written report all check their times with ``time_problem``;
a value entered after the customer signed that differs from the signed form is a *difference*
(``differences``): it needs a reason, and whoever confirms (6.2.8) sees it. Pure functions on
plain values: the callers raise their own errors.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import to_local

from .fields import ASPECTS, CHARGES, RATINGS

REASON_FIELD = "difference_reason"
FIELD_LABELS = {"arrived_at": "到达时间", "completed_at": "完成时间", "fault_found": "故障现象", "cause": "故障原因",
                "work_done": "处理情况", "parts": "更换零部件", "charge": "服务性质", "amount": "收费金额",
                **{f"ratings.{key}": f"顾客评价·{label}" for key, label in ASPECTS}, "remarks": "顾客意见与建议"}
_RATING_LABELS = dict(RATINGS)


def _minute(dt: datetime) -> datetime:
    return to_local(dt).replace(second=0, microsecond=0)


def time_problem(*, now: datetime, arrived: datetime | None, completed: datetime | None,
                 departed: datetime | None = None, returned: datetime | None = None) -> tuple[str, str] | None:
    """The first broken time rule of an on-site record (6.2.6, 6.2.7) as (field, message), or None.

    The same on every path (tablet form, 维修完毕, report): nothing in the future; arrived not before
    the departure; completed not before the arrival nor after the return to the company. Times
    are typed to the minute, so they are compared to the minute. A naive time is local.
    """
    def fmt(dt: datetime) -> str:
        return f"{to_local(dt):%Y-%m-%d %H:%M}"

    for field, label, value in (("arrived_at", "到达时间", arrived), ("completed_at", "完成时间", completed)):
        if value is None:
            continue
        if to_local(value).year < 2000:
            return field, f"{label}不合理"
        if _minute(value) > to_local(now):
            return field, f"{label}不能晚于当前时间"
    if arrived is not None and departed is not None and _minute(arrived) < _minute(departed):
        return "arrived_at", f"到达时间不能早于出发时间（{fmt(departed)}）"
    if completed is not None and arrived is not None and _minute(completed) < _minute(arrived):
        return "completed_at", f"完成时间不能早于到达时间（{fmt(arrived)}）"
    if completed is not None and returned is not None and _minute(completed) > _minute(returned):
        return "completed_at", f"完成时间不能晚于返回公司时间（{fmt(returned)}）"
    return None


# --- the signed form as the report keeps it -------------------------------------------------
def _time(value) -> datetime | None:
    if isinstance(value, datetime):
        return to_local(value)
    if not value:
        return None
    try:
        return to_local(datetime.fromisoformat(str(value).strip()))
    except ValueError:
        return None


def _amount(value) -> float | None:
    try:
        return round(float(value), 2) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def signed_record(fields: dict) -> dict:
    """The fields of a tablet-signed form (``forms.service_forms.TabletForm.to_data``) in the shape
    of the report's ``service_form``: times as datetimes, parts as {part, quantity}, the amount a
    number (None when free), the ratings by aspect."""
    parts = []
    for p in fields.get("parts") or []:
        name = " ".join(x for x in (str(p.get("name") or "").strip(), str(p.get("spec") or "").strip()) if x)
        if name:  # a part picked from the kit keeps its catalogue code (consumption at 6.2.8)
            code = str(p.get("code") or "").strip()
            parts.append({"part": name, "quantity": p.get("qty") or "", **({"part_code": code} if code else {})})
    charge = fields.get("charge") if fields.get("charge") in CHARGES else ""
    return {
        "arrived_at": _time(fields.get("arrived_at")), "completed_at": _time(fields.get("completed_at")),
        "fault_found": str(fields.get("fault_found") or "").strip(), "cause": str(fields.get("cause") or "").strip(),
        "work_done": str(fields.get("work_done") or "").strip(), "parts": parts, "charge": charge,
        "amount": _amount(fields.get("amount")) if charge == "paid" else None,
        "ratings": {k: v for k, v in (fields.get("ratings") or {}).items() if k in dict(ASPECTS) and v in _RATING_LABELS},
        "remarks": str(fields.get("remarks") or "").strip(),
    }


def _text(value) -> str:
    return "\n".join(line.rstrip() for line in str(value or "").replace("\r\n", "\n").strip().split("\n"))


def shown(record: dict) -> dict[str, str]:
    """Every field of a record (``signed_record``'s shape, or the report's with ISO times) as the
    pages show it: the values compared, one per ``FIELD_LABELS`` key present in the record."""
    out: dict[str, str] = {}
    for key in ("arrived_at", "completed_at"):
        if key in record:
            t = _time(record[key])
            out[key] = f"{t:%Y-%m-%d %H:%M}" if t else ""
    for key in ("fault_found", "cause", "work_done", "remarks"):
        if key in record:
            out[key] = _text(record[key])
    if "parts" in record:
        out["parts"] = "；".join(f"{p.get('part')} × {p.get('quantity')}" for p in record["parts"] or []) or "无"
    if "charge" in record:
        out["charge"] = CHARGES.get(record["charge"] or "", "")
    if "amount" in record:
        amount = _amount(record["amount"])
        out["amount"] = f"{amount:.2f} 元" if amount is not None and record.get("charge", "paid") == "paid" else ""
    if "ratings" in record:
        for key, _label in ASPECTS:
            out[f"ratings.{key}"] = _RATING_LABELS.get((record["ratings"] or {}).get(key), "")
    return out


def differences(signed: dict, reported: dict) -> list[dict]:
    """The fields whose reported value differs from the signed one, in the form's order:
    [{field, label, signed, reported}]. Only the fields present in ``reported`` are compared."""
    a, b = shown(signed), shown(reported)
    return [{"field": key, "label": label, "signed": a.get(key, ""), "reported": b[key]}
            for key, label in FIELD_LABELS.items() if key in b and a.get(key, "") != b[key]]


def with_reason(diffs: list[dict], reason: str) -> list[dict]:
    """The differences with the reason given for them (the caller refuses them without one)."""
    return [{**d, "reason": reason} for d in diffs]
