"""The company's working periods (作息时间) set from a date on, kept in the store (issue 15).

GLOSSARY 工作小时: 08:30–12:00 and 13:30–17:30 (``policy.WORK_PERIODS``, the default from the
beginning). The company may set other periods from a date on, never retroactively: a setting
starts on a date after today (Asia/Shanghai). A 夏季作息 is two settings (from 06-01 the summer
hours, from 10-01 back). One record per date in the table ``work_periods``::

    {"from": "2027-06-01", "periods": [["08:00", "12:00"], ["14:00", "18:00"]],
     "reason": "夏季作息", "active": true}

Deleting a setting (only one not yet in force) marks it inactive; setting the same date again
reactivates it. Every write is audited by the store. ``schedule_of(docs)`` gives the active
settings as ``WorkCalendar(schedule=…)`` takes them; ``records.calendar.corrections`` builds
the current calendar with them, and ``records.cases.calendar_change`` saves a setting and
recomputes the open deadlines in one transaction. Plain Python: no Flask.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, time

from records import policy
from records.core.errors import DomainError
from records.core.transaction import Transaction

from .day_periods import DayPeriods, format_periods

TABLE = "work_periods"
MAX_PERIODS = 3  # company practice: at most three periods a day on the form
MAX_REASON_LENGTH = 100
_HHMM = re.compile(r"^\s*(\d{1,2})\s*:\s*(\d{2})\s*$")
_DASH = re.compile(r"\s*(?:[-–—~至到]|－)\s*")


class WorkPeriodsError(DomainError):
    """A refused setting; ``field`` is the form field it concerns (``effective_from``, ``period1`` …)."""


def default_text() -> str:
    return format_periods(policy.WORK_PERIODS)


def _parse_time(text: object, field: str, what: str) -> time:
    m = _HHMM.match(str(text or ""))
    if not m:
        raise WorkPeriodsError(f"{what}应为 HH:MM（例如 08:30），收到的是「{str(text or '').strip()}」", field)
    hh, mm = int(m[1]), int(m[2])
    if not (0 <= hh <= 23 and 0 <= mm <= 59):
        raise WorkPeriodsError(f"{what}须在 00:00 至 23:59 之间：{m[1]}:{m[2]}", field)
    return time(hh, mm)


def check_periods(texts: list[object]) -> list[list[str]]:
    """The periods typed as ``HH:MM–HH:MM`` (one a field; blank ones skipped), checked: each time
    within 00:00–23:59, start < end, in order and not overlapping, at least one and at most
    ``MAX_PERIODS``; returns them as stored (``[["08:30", "12:00"], …]``). ``WorkPeriodsError``
    names the field (``period1`` … for the n-th one)."""
    out: list[tuple[time, time]] = []
    for n, text in enumerate(texts, start=1):
        field = f"period{n}"
        raw = unicodedata.normalize("NFKC", str(text or "")).strip()
        if not raw:
            continue
        if n > MAX_PERIODS:
            raise WorkPeriodsError(f"每天最多 {MAX_PERIODS} 个工作时段", field)
        parts = _DASH.split(raw)
        if len(parts) != 2:
            raise WorkPeriodsError(f"第 {n} 个时段应写成「开始–结束」，例如 08:30–12:00，收到的是「{raw}」", field)
        a = _parse_time(parts[0], field, f"第 {n} 个时段的开始")
        b = _parse_time(parts[1], field, f"第 {n} 个时段的结束")
        if not a < b:
            raise WorkPeriodsError(f"第 {n} 个时段的开始须早于结束：{a:%H:%M}–{b:%H:%M}", field)
        if out and a < out[-1][1]:
            raise WorkPeriodsError(f"第 {n} 个时段须在上一个时段结束（{out[-1][1]:%H:%M}）之后开始，且不重叠", field)
        out.append((a, b))
    if not out:
        raise WorkPeriodsError("请至少填写一个工作时段（例如 08:30–12:00）", "period1")
    DayPeriods.of(out)  # the calendar's own check: the same rule
    return [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in out]


def check_start(value: object, today: date) -> date:
    """The first day of a setting: a date after ``today`` (never retroactively)."""
    if isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise WorkPeriodsError("请填写生效日期（YYYY-MM-DD）", "effective_from") from None
    if d <= today:
        raise WorkPeriodsError(f"作息时间不能追溯调整：生效日期须晚于今天（{today.isoformat()}），"
                               f"最早为明天", "effective_from")
    if d.year > 2100:
        raise WorkPeriodsError("生效日期须在 2100 年之前", "effective_from")
    return d


def setting_fields(start: object, texts: list[object], reason: object, actor: object,
                   today: date) -> dict:
    """The record of a setting, checked (``WorkPeriodsError`` on its field otherwise)."""
    d = check_start(start, today)
    periods = check_periods(texts)
    text = " ".join(str(reason or "").split())
    if len(text) > MAX_REASON_LENGTH:
        raise WorkPeriodsError(f"说明不能超过 {MAX_REASON_LENGTH} 个字", "periods_note")
    if not isinstance(actor, str) or not actor.strip():
        raise WorkPeriodsError("缺少操作人")
    return {"from": d.isoformat(), "periods": periods, "reason": text, "active": True}


# --- Reading ---------------------------------------------------------------------------------


def _times(periods) -> tuple[tuple[time, time], ...]:
    return tuple((time.fromisoformat(a), time.fromisoformat(b)) for a, b in periods)


def schedule_of(docs) -> list[tuple[date, tuple[tuple[time, time], ...]]]:
    """The active settings as ``WorkCalendar(schedule=…)`` takes them (a damaged record is skipped:
    it must not take every page down)."""
    out = []
    for doc in docs:
        if not doc.get("active", True):
            continue
        try:
            periods = _times(doc["periods"])
            DayPeriods.of(periods)
            out.append((date.fromisoformat(doc["from"]), periods))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(out)


def list_settings(store, today: date) -> list[dict]:
    """The active settings by date, each with ``text`` (the periods in words), ``in_force``
    (the one holding today), ``planned`` (not yet in force: it may be deleted) and ``past``."""
    rows = sorted((dict(d) for d in store.scan(TABLE) if d.get("active", True)), key=lambda d: d["from"])
    current = max((r["from"] for r in rows if r["from"] <= today.isoformat()), default=None)
    for r in rows:
        r["text"] = format_periods(_times(r["periods"]))
        r["planned"] = r["from"] > today.isoformat()
        r["in_force"] = r["from"] == current
        r["past"] = not r["planned"] and not r["in_force"]
    return rows


# --- Changes (inside the caller's transaction: records.cases.calendar_change) -----------------


def _record_of(tx: Transaction, day_iso: str) -> dict | None:
    return next((doc for doc in tx.scan(TABLE) if doc.get("from") == day_iso), None)


def set_setting_tx(tx: Transaction, fields: dict) -> tuple[dict, bool]:
    """Store a checked setting (``setting_fields``) in ``tx``; the record and whether it changed."""
    existing = _record_of(tx, fields["from"])
    if existing is None:
        return tx.insert(TABLE, fields), True
    if all(existing.get(k) == v for k, v in fields.items()):
        return tx.get(TABLE, existing["id"]), False
    return tx.update(TABLE, existing["id"], fields, note="设置作息时间"), True


def remove_setting_tx(tx: Transaction, start: object, today: date) -> dict:
    """Delete (mark inactive) the setting starting on ``start``: only one not yet in force."""
    try:
        d = date.fromisoformat(str(start))
    except ValueError:
        raise WorkPeriodsError(f"日期格式不正确：{start}", "effective_from") from None
    existing = _record_of(tx, d.isoformat())
    if existing is None or not existing.get("active", True):
        raise WorkPeriodsError(f"{d.isoformat()} 起没有作息时间设置", "effective_from")
    if d <= today:
        raise WorkPeriodsError(f"{d.isoformat()} 起的作息时间已经生效，不能删除（不能追溯调整）；"
                               "请设置一个从明天或以后开始的新作息时间", "effective_from")
    return tx.update(TABLE, existing["id"], {"active": False}, note="删除作息时间设置")
