"""我的待办 gathered from every area: one ``todo(store, user, now)`` per area of records/.

Each area of the records package answers "what waits for this user now" with its own
``todo(store, user, now)`` (records.cases.queries.todo, records.followups.tasks.todo, …); this
module puts them together for the 我的待办 page and the home page's counts. An area is an
``Area``: its key, its heading on the page, its place (``order``), and ``rows(store, user, now,
cal)`` turning its items into rows. Cases keep their own table and register themselves in
views/cases.py (``work_rows``); every other area's rows share one shape, ``Row`` (title, detail,
link, due, status: "overdue" | "soon" | "open"), shown by one table. A later area (preventive
actions, purchases, claims, technical notices) adds itself with ``register(Area(...))``, in its
own view module or below, next to the follow-up calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import url_for

from records.calendar.workdays import WorkCalendar
from records.cases import queries as case_queries
from records.core.store import Store
from records.fines.proposals import fine_amount_text
from records.followups import tasks as followup_tasks
from records.users.accounts import display_names


@dataclass(frozen=True)
class Row:
    title: str
    detail: str
    url: str
    due: str  # ISO date or date-time, for the order and the page
    status: str  # "overdue" | "soon" | "open"

    def __getitem__(self, key):  # rows of every area are read alike (r["status"])
        return getattr(self, key)


@dataclass(frozen=True)
class Area:
    key: str
    label: str
    order: int
    rows: Callable[[Store, dict, datetime, WorkCalendar], list]


AREAS: dict[str, Area] = {}


def register(area: Area) -> Area:
    AREAS[area.key] = area
    return area


def gather(store: Store, user: dict, now: datetime, cal: WorkCalendar) -> dict[str, list]:
    """{area key: its rows} for every registered area, in their order."""
    return {a.key: a.rows(store, user, now, cal) for a in sorted(AREAS.values(), key=lambda a: a.order)}


def counts(rows_by_area: dict[str, list]) -> dict[str, int]:
    """How many items wait in all, how many are overdue, how many are due soon."""
    rows = [r for rows in rows_by_area.values() for r in rows]
    status = [r["status"] for r in rows]
    return {"work": len(rows), "work_overdue": status.count("overdue"), "work_soon": status.count("soon")}


# --- the areas ---------------------------------------------------------------------------------


def _followup_rows(store, user, now, cal):
    return [Row(title=f"{followup_tasks.KIND_NAMES.get(t['kind'], t['kind'])}（{t['period']}）",
                detail=t["customer_name"], url=url_for("followups.show", task_id=t["id"]), due=t["due"],
                status="overdue" if t["state"] == "overdue" else "open")
            for t in followup_tasks.todo(store, user, now)]


register(Area("followups", "跟踪回访", 20, _followup_rows))


def _referred_fine_rows(store, user, now, cal):
    """待总经理裁定的处罚 (6.2.8 特殊情况，报总经理指示执行): for the GM, the proposals referred to him."""
    if "gm" not in (user.get("roles") or ()):
        return []
    names = display_names(store)  # the GM reads every fine (GLOSSARY 处罚): whose, and how much
    return [Row(title=(f"{f['clause']} {c.get('number') or '#' + str(c['id'])}：{names.get(f.get('person'), f.get('person') or '')} "
                       f"{fine_amount_text(f, note=True)}（报总经理裁定）"),
                detail=(f"{c.get('customer_name', '')}；{(f.get('referred_at') or '')[:16].replace('T', ' ')} 报总经理："
                        f"{f.get('referral_reason') or ''}"),
                url=url_for("cases.show", case_id=c["id"]) + "#action-gm_rule_fine", due="",  # no time limit
                status="open")
            for c, f in case_queries.referred_fines(store)]


register(Area("gm_fines", "待总经理裁定的处罚", 15, _referred_fine_rows))
