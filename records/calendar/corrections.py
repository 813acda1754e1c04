"""The company's corrections of the working calendar, kept in the store (issue 3).

One record per corrected date in the table ``calendar_days``::

    {"date": "2027-02-08", "is_workday": false, "reason": "春节停工", "active": true}

Removing a correction marks its record inactive (the store never deletes); correcting the
same date again reactivates that record, so a date's whole story is one record's history.
Every change is in the audit trail (the store audits each write).

``current_calendar(store)`` is ``WorkCalendar.default()`` with the active corrections and the
working periods set from a date on (``work_periods``, issue 15). It is
called on every page view, so it is kept on the Store (``store.derived``) and rebuilt only
when a ``calendar_days`` or ``work_periods`` shard file changed (checked with one ``stat`` per shard, so another
process's change is seen at once). The calendar returned is shared: do not change it.

Many dates at once (issue 15): ``range_fields`` (every day from–to, one kind, one reason) and
``list_fields`` (a pasted list, one date a line, optionally 班/休 and a note: a year's 调休 in one
go) check every date and every line first and refuse with all the bad lines named
(``CalendarListError.lines``); ``set_corrections_tx`` stores them in one transaction.

A change and the recomputation of every open deadline that depends on the calendar are one
transaction, opened by ``records.cases.calendar_change`` (the layer that knows cases): it calls
``set_correction_tx`` / ``remove_correction_tx`` here, then recomputes the deadlines with
``calendar_in(tx)``, the calendar as it is after the change, so a correction never stands
without its deadlines moved, nor the reverse. This module does not know that cases exist.
Plain Python: no Flask.
"""
from __future__ import annotations

import os
import re
import unicodedata
from datetime import date, datetime, timedelta

from records.core.errors import DomainError
from records.core.store import Store
from records.core.transaction import Transaction

from . import work_periods
from .workdays import Correction, WorkCalendar

TABLE = "calendar_days"
MIN_YEAR, MAX_YEAR = 2000, 2100
MAX_REASON_LENGTH = 200
MAX_DAYS_AT_ONCE = 366  # company practice: a range or a pasted list covers at most a year's days
_DERIVED_KEY = "calendar"  # in store.derived: (signature, WorkCalendar)

class CalendarError(DomainError):
    """A refused calendar correction; ``field`` is the form field it concerns."""


class CalendarListError(CalendarError):
    """A pasted list refused: ``lines`` holds every bad line as (line number, message)."""

    def __init__(self, lines: list[tuple[int, str]]):
        super().__init__(f"清单中有 {len(lines)} 行有误，未保存任何校正", "text")
        self.lines = lines


# --- Reading ---------------------------------------------------------------------------------


def _signature(store: Store) -> tuple:
    """A cheap fingerprint of the table's files: (name, inode, size, mtime) of each shard.

    Every write replaces a shard by renaming a new file over it, so the inode changes with
    every commit even when the size and the mtime tick happen to be the same.
    """
    sig = []
    for path in [*store.shards(TABLE), *store.shards(work_periods.TABLE)]:
        try:
            st = os.stat(path)
        except FileNotFoundError:  # replaced between the listing and the stat: still a change
            sig.append((path.name, None))
            continue
        sig.append((path.name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(sig)


def list_corrections(store: Store, year: int | None = None, include_inactive: bool = False) -> list[dict]:
    """The correction records (copies), by date; only ``year``'s when given."""
    prefix = f"{year:04d}-" if year is not None else ""
    rows = store.find(
        TABLE,
        lambda d: (include_inactive or d.get("active", True)) and str(d.get("date", "")).startswith(prefix),
    )
    return sorted(rows, key=lambda d: d["date"])


def corrections(store: Store) -> dict[date, Correction]:
    """The active corrections as the calendar takes them."""
    return _corrections_of(store.scan(TABLE))


def _corrections_of(docs) -> dict[date, Correction]:
    out: dict[date, Correction] = {}
    for doc in docs:
        if not doc.get("active", True):
            continue
        try:
            out[date.fromisoformat(doc["date"])] = Correction(bool(doc["is_workday"]), str(doc.get("reason", "")))
        except (KeyError, TypeError, ValueError):
            continue  # a damaged record must not take every page down; `verify` reports it
    return out


def current_calendar(store: Store) -> WorkCalendar:
    """The company calendar: policy defaults, China's holidays and the active corrections."""
    sig = _signature(store)
    hit = store.derived.get(_DERIVED_KEY)
    if hit is not None and hit[0] == sig:
        return hit[1]
    # Read after taking the signature: a write in between makes the next call rebuild again.
    cal = WorkCalendar.default(corrections(store), work_periods.schedule_of(store.scan(work_periods.TABLE)))
    store.derived[_DERIVED_KEY] = (sig, cal)
    return cal


# --- Validation ------------------------------------------------------------------------------


def parse_day(day: object) -> date:
    """A date from a ``date`` or an ISO string, else ``CalendarError`` on the field ``day``."""
    if isinstance(day, datetime):
        raise CalendarError("请填写日期（不带时间）", "day")
    if isinstance(day, date):
        d = day
    elif isinstance(day, str) and day.strip():
        try:
            d = date.fromisoformat(day.strip())
        except ValueError:
            raise CalendarError(f"日期格式不正确，应为 YYYY-MM-DD：{day.strip()}", "day") from None
    elif day is None or (isinstance(day, str) and not day.strip()):
        raise CalendarError("请填写日期", "day")
    else:
        raise CalendarError(f"日期格式不正确，应为 YYYY-MM-DD：{day!r}", "day")
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise CalendarError(f"日期须在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间", "day")
    return d


def _check_reason(reason: object) -> str:
    text = " ".join(str(reason or "").split())  # one line: no tabs or line breaks in the list
    if not text:
        raise CalendarError("请填写校正原因（例如：国务院公布的放假安排、公司停工）", "reason")
    if len(text) > MAX_REASON_LENGTH:
        raise CalendarError(f"原因不能超过 {MAX_REASON_LENGTH} 个字", "reason")
    return text


def _check_is_workday(is_workday: object) -> bool:
    if not isinstance(is_workday, bool):
        raise CalendarError("请选择该日是工作日还是休息日", "is_workday")
    return is_workday


def check_actor(actor: object) -> str:
    """The acting user's name, or CalendarError (a correction always has an author)."""
    if not isinstance(actor, str) or not actor.strip():
        raise CalendarError("缺少操作人")
    return actor


# --- Changes ---------------------------------------------------------------------------------


def _record_of(tx, day_iso: str) -> dict | None:
    for doc in tx.scan(TABLE):
        if doc.get("date") == day_iso:
            return doc
    return None


def correction_fields(day: object, is_workday: object, reason: object, actor: object) -> dict:
    """The record of a correction, checked (CalendarError on its field otherwise): callers check
    before they take the write lock."""
    d = parse_day(day)
    is_workday = _check_is_workday(is_workday)
    reason = _check_reason(reason)
    check_actor(actor)
    return {"date": d.isoformat(), "is_workday": is_workday, "reason": reason, "active": True}


def set_correction_tx(tx: Transaction, fields: dict) -> tuple[dict, bool]:
    """Store a checked correction (``correction_fields``) inside ``tx``; return the record and
    whether anything changed.

    Overrides the holiday library and the weekday rule. The deadlines that depend on the
    calendar are the caller's: ``records.cases.calendar_change`` recomputes them in ``tx``.
    """
    existing = _record_of(tx, fields["date"])
    if existing is None:
        return tx.insert(TABLE, fields), True
    if all(existing.get(k) == v for k, v in fields.items()):
        return tx.get(TABLE, existing["id"]), False  # nothing to change or audit
    return tx.update(TABLE, existing["id"], fields, note="工作日历校正"), True


def remove_correction_tx(tx: Transaction, day: date) -> dict:
    """Withdraw the company's correction of ``day`` (checked with ``parse_day``) inside ``tx``
    (the record is kept, marked inactive); the caller recomputes the deadlines in ``tx``."""
    existing = _record_of(tx, day.isoformat())
    if existing is None or not existing.get("active", True):
        raise CalendarError(f"{day.isoformat()} 没有公司校正，无需撤销", "day")
    return tx.update(TABLE, existing["id"], {"active": False}, note="撤销工作日历校正")


def calendar_in(tx: Transaction) -> WorkCalendar:
    """The company calendar as the open transaction ``tx`` sees it (its own changes included)."""
    return WorkCalendar.default(_corrections_of(tx.scan(TABLE)), work_periods.schedule_of(tx.scan(work_periods.TABLE)))


# --- Many dates at once (issue 15) -----------------------------------------------------------

# the words a pasted line may give its kind (the longest first, so 「休息日」 is not read as 「休」)
KIND_WORDS = {"工作日": True, "上班": True, "补班": True, "班": True,
              "休息日": False, "休息": False, "放假": False, "休": False}
_KIND_RE = "|".join(sorted(KIND_WORDS, key=len, reverse=True))
_LINE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?=$|[\s,;:、，；：]|" + _KIND_RE + ")"
                      r"[\s,;:、，；：]*(" + _KIND_RE + r")?[\s,;:、，；：]*(.*)$")


def range_fields(start: object, end: object, is_workday: object, reason: object, actor: object) -> list[dict]:
    """The records correcting every day from ``start`` to ``end`` (both included) the same way."""
    try:
        first = parse_day(start)
    except CalendarError as exc:
        raise CalendarError(str(exc), "start") from None
    try:
        last = parse_day(end)
    except CalendarError as exc:
        raise CalendarError(str(exc), "end") from None
    if last < first:
        raise CalendarError("结束日期不能早于开始日期", "end")
    days = (last - first).days + 1
    if days > MAX_DAYS_AT_ONCE:
        raise CalendarError(f"一次最多校正 {MAX_DAYS_AT_ONCE} 天（所选为 {days} 天）", "end")
    return [correction_fields(first + timedelta(days=n), is_workday, reason, actor) for n in range(days)]


def list_fields(text: object, is_workday: object, reason: object, actor: object) -> list[dict]:
    """The records of a pasted list: one date a line (2026-10-10、2026/10/10 or 2026年10月10日),
    then optionally 班/休 (工作日、上班、休息日、休息…) and a note; a line without them takes
    ``is_workday`` (None: it must say) and ``reason``. Every line is checked; CalendarListError
    names all the bad ones (blank lines are skipped, their numbers still count)."""
    check_actor(actor)
    default_reason = " ".join(str(reason or "").split())
    bad: list[tuple[int, str]] = []
    out: list[dict] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(str(text or "").splitlines(), start=1):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line:
            continue
        m = _LINE_RE.match(line)
        if not m:
            bad.append((number, f"无法识别日期：{line[:30]}（每行以日期开头，如 2026-10-10 班 国庆调休）"))
            continue
        kind = KIND_WORDS[m[4]] if m[4] else is_workday
        if not isinstance(kind, bool):
            bad.append((number, "请注明「班」或「休」，或在上方选择该日为工作日还是休息日"))
            continue
        try:
            fields = correction_fields(f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}", kind,
                                       m[5].strip() or default_reason, actor)
        except CalendarError as exc:
            message = str(exc)
            if exc.field == "day" and "格式" in message:
                message = f"日期不存在：{m[1]}-{m[2]}-{m[3]}"
            bad.append((number, message))
            continue
        if fields["date"] in seen:
            bad.append((number, f"{fields['date']} 与第 {seen[fields['date']]} 行重复"))
            continue
        seen[fields["date"]] = number
        out.append(fields)
    if not bad and not out:
        raise CalendarError("请粘贴日期清单，每行一个日期", "text")
    if not bad and len(out) > MAX_DAYS_AT_ONCE:
        raise CalendarError(f"一次最多校正 {MAX_DAYS_AT_ONCE} 天（清单中有 {len(out)} 天）", "text")
    if bad:
        raise CalendarListError(bad)
    return out


def set_corrections_tx(tx: Transaction, records: list[dict]) -> tuple[list[dict], int]:
    """Store checked corrections (``range_fields`` / ``list_fields``) inside ``tx``; return the
    records and how many changed. The caller recomputes the deadlines in ``tx``."""
    stored, changed = [], 0
    for fields in records:
        record, did = set_correction_tx(tx, fields)
        stored.append(record)
        changed += did
    return stored, changed
