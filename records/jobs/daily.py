"""The daily tasks of the areas, run by the overdue run (``overdue.run_overdue``) before it sends
the queued mail: supplier-claim reminders (3.1), preventive actions past due (9.3), the draft of
the quarterly report on a quarter's first working day (9.2), technical notices not acknowledged
(issue 18). (Late purchase requests and low stock show in 我的待办, not as a daily task.)

Each task is a plain function ``(store, now, cal, dry_run) -> dict`` (its summary for the run's
log and the command's output). It must be idempotent: run twice the same day it changes nothing
the second time (notices carry keys, records carry what was done). It opens its own
transaction(s) under ``runs.ACTOR`` and queues its notices; the overdue run then delivers them.
An area adds itself with one line in ``TASKS`` below (name → function), in the area's own module.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from records.calendar.workdays import WorkCalendar
from records.core.store import Store
from records.materials import claim_reminders
from records.reports import preventive, quarterly
from records.technical_notices import deliveries as technical_notice_deliveries

Task = Callable[[Store, datetime, WorkCalendar, bool], dict]

TASKS: dict[str, Task] = {
    "supplier_claim_reminders": claim_reminders.remind,
    "quarterly_report_draft": quarterly.draft_task,  # 9.2
    "preventive_overdue": preventive.run_overdue,  # 9.3: preventive actions past their due date
    "technical_notice_acknowledgements": technical_notice_deliveries.make_followups,
}


def run_daily(store: Store, now: datetime, cal: WorkCalendar, dry_run: bool) -> dict:
    """Each task's summary by name, in the order of ``TASKS``."""
    return {name: task(store, now, cal, dry_run) for name, task in TASKS.items()}
