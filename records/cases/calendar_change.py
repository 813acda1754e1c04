"""A correction of the working calendar and the deadlines it moves, in one transaction.

GLOSSARY (工作小时 / 工作日): the company may correct any day. Every open working-time deadline
of an open case (6.1.3, 6.2.1, 6.2.2, 6.2.7, 6.2.8) is recomputed from its stored start with
the calendar as it is after the change, inside the correction's own transaction: a correction
never stands without its deadlines moved, nor the reverse. If the recomputation fails, the
exception leaves the transaction uncommitted and the correction can simply be made again.

The working periods set from a date on (issue 15, ``records.calendar.work_periods``) follow
the same path: a setting starts after today, so only the open deadlines that span its date
move; met ones (``done_at``) are never recomputed.

This sits in ``records.cases`` because it is the layer that knows both the calendar
(``records.calendar.corrections``, which does not know cases exist) and the cases' deadlines.
"""
from __future__ import annotations

from records.calendar import work_periods
from records.calendar.corrections import (
    calendar_in,
    check_actor,
    correction_fields,
    parse_day,
    remove_correction_tx,
    set_correction_tx,
    set_corrections_tx,
)
from records.calendar.workdays import today_local
from records.core.store import Store

from .deadlines import recompute_open_deadlines_tx


def set_correction(store: Store, day: object, is_workday: bool, reason: str, actor: str) -> dict:
    """Mark ``day`` as a working day or a day off for ``reason``; returns the stored record.

    Overrides the holiday library and the weekday rule. Open deadlines are then recomputed.
    """
    fields = correction_fields(day, is_workday, reason, actor)  # refused before taking the lock
    with store.transaction(actor) as tx:
        record, changed = set_correction_tx(tx, fields)
        if changed:
            recompute_open_deadlines_tx(tx, calendar_in(tx))
    return record


def set_corrections(store: Store, records: list[dict], actor: str) -> tuple[list[dict], int]:
    """Store many checked corrections (``corrections.range_fields`` / ``list_fields``) in one
    transaction, all or nothing, and recompute the open deadlines once, as ``set_correction``
    does for one; returns the stored records and how many changed."""
    check_actor(actor)
    with store.transaction(actor) as tx:
        stored, changed = set_corrections_tx(tx, records)
        if changed:
            recompute_open_deadlines_tx(tx, calendar_in(tx))
    return stored, changed


def remove_correction(store: Store, day: object, actor: str) -> dict:
    """Withdraw the company's correction of ``day`` (the record is kept, marked inactive); open
    deadlines are then recomputed."""
    d = parse_day(day)
    check_actor(actor)
    with store.transaction(actor) as tx:
        record = remove_correction_tx(tx, d)
        recompute_open_deadlines_tx(tx, calendar_in(tx))
    return record


def set_work_periods(store: Store, start: object, texts: list[object], reason: str, actor: str,
                     today=None) -> dict:
    """Set the working periods from ``start`` (after ``today``: never retroactively) on; the open
    deadlines that span the date are recomputed in the same transaction. Returns the record."""
    fields = work_periods.setting_fields(start, texts, reason, actor, today or today_local())
    with store.transaction(actor) as tx:
        record, changed = work_periods.set_setting_tx(tx, fields)
        if changed:
            recompute_open_deadlines_tx(tx, calendar_in(tx))
    return record


def remove_work_periods(store: Store, start: object, actor: str, today=None) -> dict:
    """Delete the setting that starts on ``start`` (only one not yet in force); the open deadlines
    are recomputed in the same transaction."""
    check_actor(actor)
    with store.transaction(actor) as tx:
        record = work_periods.remove_setting_tx(tx, start, today or today_local())
        recompute_open_deadlines_tx(tx, calendar_in(tx))
    return record
