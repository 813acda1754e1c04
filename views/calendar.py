"""The working calendar page (issue 3): a year at a glance and the company's corrections.

Anyone logged in may look; only 系统管理员 and 技质部经理 may correct a date (403 otherwise): one
day, a range of days, or a pasted list (issue 15), each in one transaction that also recomputes
the open deadlines (records/cases/calendar_change.py). The section 「作息时间」 (issue 15) lists the
working periods in force and planned; the same editors set periods from a date after today on, or
delete a planned setting, each recomputing the open deadlines that span its date.
"""
from __future__ import annotations

import calendar as pycal
from collections import Counter
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.calendar import (
    CorrectionForm,
    ListCorrectionForm,
    RangeCorrectionForm,
    RemoveCorrectionForm,
    WorkPeriodsForm,
)
from records.calendar import corrections, work_periods
from records.calendar.corrections import CalendarError, CalendarListError
from records.calendar.day_periods import format_periods
from records.calendar.work_periods import WorkPeriodsError
from records.calendar.workdays import MAKEUP_WORKDAY_NAME, WorkCalendar, today_local
from records.cases import calendar_change
from records.users.roles import CALENDAR_EDITORS

from .common import actor, form_errors_to_fields, roles_required, store

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

WEEKDAY_NAMES = "一二三四五六日"
MONTH_NAMES = [f"{m} 月" for m in range(1, 13)]

# kind -> (legend text, short mark printed in the cell so that grey print still tells them apart)
KINDS = {
    "workday": ("工作日", ""),
    "weekend": ("周末休息", ""),
    "holiday": ("法定节假日 / 调休休息", "休"),
    "makeup": ("调休上班", "班"),
    "corr-work": ("公司校正：上班", "校"),
    "corr-off": ("公司校正：休息", "校"),
}

# A correction recomputes the open deadlines in its own transaction (records.cases.calendar_change).
RECOMPUTED_NOTE = "；依赖工作日历的未结期限已按新日历重新计算"


def _year_arg() -> int:
    year = request.args.get("year", type=int)
    if year is None:
        return today_local().year
    if not corrections.MIN_YEAR <= year <= corrections.MAX_YEAR:
        abort(404)
    return year


def _can_edit() -> bool:
    return current_user.is_authenticated and current_user.has_any(*CALENDAR_EDITORS)


def _fmt_periods(cal: WorkCalendar) -> str:
    """The working periods in force today."""
    return format_periods(cal.periods_on(today_local()))


def _cell(cal: WorkCalendar, d: date, days_off: dict[date, str], makeup: set[date], today: date) -> dict:
    weekday = f"周{WEEKDAY_NAMES[d.weekday()]}"
    library = days_off.get(d) or (MAKEUP_WORKDAY_NAME if d in makeup else "")
    correction = cal.corrections.get(d)
    if correction is not None:
        kind = "corr-work" if correction.is_workday else "corr-off"
        title = f"{d.isoformat()} {weekday} · 公司校正为{'工作日' if correction.is_workday else '休息日'}：{correction.reason}"
        if library:
            title += f"（节假日数据：{library}）"
    elif d in makeup:
        kind, title = "makeup", f"{d.isoformat()} {weekday} · {MAKEUP_WORKDAY_NAME}"
    elif d in days_off:
        kind, title = "holiday", f"{d.isoformat()} {weekday} · {days_off[d]} · 休息"
    elif not cal.is_workday(d):
        kind, title = "weekend", f"{d.isoformat()} {weekday} · 休息"
    else:
        kind, title = "workday", f"{d.isoformat()} {weekday} · 工作日"
    return {"date": d, "iso": d.isoformat(), "day": d.day, "kind": kind, "mark": KINDS[kind][1],
            "title": title, "today": d == today, "workday": cal.is_workday(d)}


def year_months(cal: WorkCalendar, overview: dict) -> list[dict]:
    """Twelve month grids of ``cal.year_overview(year)``'s year (weeks Monday first; None pads
    the days of other months)."""
    year = overview["year"]
    days_off = {date.fromisoformat(x["date"]): x["name"] for x in overview["days_off"]}
    makeup = {date.fromisoformat(x["date"]) for x in overview["makeup_workdays"]}
    today = today_local()
    months = []
    for month in range(1, 13):
        weeks = [[_cell(cal, d, days_off, makeup, today) if d.month == month else None for d in week]
                 for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, month)]
        workdays = sum(1 for week in weeks for c in week if c and c["workday"])
        months.append({"month": month, "name": MONTH_NAMES[month - 1], "weeks": weeks, "workdays": workdays})
    return months


def _render_year(year: int, form: CorrectionForm | None = None, status: int = 200,
                 range_form: RangeCorrectionForm | None = None, list_form: ListCorrectionForm | None = None,
                 periods_form: WorkPeriodsForm | None = None):
    cal = corrections.current_calendar(store())
    overview = cal.year_overview(year)
    every = corrections.list_corrections(store())
    this_year = [rec for rec in every if int(rec["date"][:4]) == year]
    other_years = Counter(int(rec["date"][:4]) for rec in every if int(rec["date"][:4]) != year)
    can_edit = _can_edit()
    if can_edit and form is None:
        form = CorrectionForm(formdata=None)
        day = request.args.get("day", "")
        try:
            picked = corrections.parse_day(day) if day else None
        except CalendarError:
            picked = None
        if picked is not None:  # a click on a day: propose the opposite of what it is now
            form.day.data = picked.isoformat()
            form.is_workday.data = "0" if cal.is_workday(picked) else "1"
    return render_template(
        "calendar/year.html",
        year=year, overview=overview, months=year_months(cal, overview), weekday_names=WEEKDAY_NAMES,
        kinds=KINDS, periods=_fmt_periods(cal), corrections=this_year,
        other_years=sorted(other_years.items()), can_edit=can_edit, form=form if can_edit else None,
        remove_form=RemoveCorrectionForm() if can_edit else None,
        range_form=(range_form or RangeCorrectionForm(formdata=None)) if can_edit else None,
        list_form=(list_form or ListCorrectionForm(formdata=None)) if can_edit else None,
        settings=work_periods.list_settings(store(), today_local()), default_periods=work_periods.default_text(),
        periods_form=(periods_form or WorkPeriodsForm(formdata=None)) if can_edit else None,
    ), status


@bp.get("/")
@login_required
def year():
    return _render_year(_year_arg())


@bp.post("/corrections")
@roles_required(*CALENDAR_EDITORS)
def correct():
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            rec = calendar_change.set_correction(store(), form.day.data, form.workday_value,
                                                form.reason.data, actor())
        except CalendarError as exc:
            form_errors_to_fields(form, exc)
        else:
            kind = "工作日" if rec["is_workday"] else "休息日"
            flash(f"已将 {rec['date']} 校正为{kind}{RECOMPUTED_NOTE}", "success")
            return redirect(url_for(".year", year=int(rec["date"][:4])))
    try:
        shown = corrections.parse_day(form.day.data).year
    except CalendarError:
        shown = request.args.get("year", type=int) or today_local().year
    if not corrections.MIN_YEAR <= shown <= corrections.MAX_YEAR:
        shown = today_local().year
    return _render_year(shown, form, 400)


def _saved(records: list[dict], changed: int) -> None:
    days = f"{records[0]['date']} 至 {records[-1]['date']}" if len(records) > 1 else records[0]["date"]
    flash(f"已保存 {len(records)} 天的校正（{days}，其中 {changed} 天有变化）"
          + (RECOMPUTED_NOTE if changed else ""), "success")


def _year_of(value, default: int | None = None) -> int:
    try:
        shown = corrections.parse_day(value).year
    except CalendarError:
        shown = default or request.args.get("year", type=int) or today_local().year
    return shown if corrections.MIN_YEAR <= shown <= corrections.MAX_YEAR else today_local().year


@bp.post("/corrections/range")
@roles_required(*CALENDAR_EDITORS)
def correct_range():
    form = RangeCorrectionForm()
    if form.validate_on_submit():
        try:
            records = corrections.range_fields(form.start.data, form.end.data, form.workday_value,
                                               form.reason.data, actor())
            stored, changed = calendar_change.set_corrections(store(), records, actor())
        except CalendarError as exc:
            form_errors_to_fields(form, exc)
        else:
            _saved(stored, changed)
            return redirect(url_for(".year", year=int(stored[0]["date"][:4])))
    return _render_year(_year_of(form.start.data), status=400, range_form=form)


@bp.post("/corrections/list")
@roles_required(*CALENDAR_EDITORS)
def correct_list():
    form = ListCorrectionForm()
    if form.validate_on_submit():
        try:
            records = corrections.list_fields(form.text.data, form.workday_value, form.reason.data, actor())
            stored, changed = calendar_change.set_corrections(store(), records, actor())
        except CalendarListError as exc:
            form.text.errors = list(form.text.errors) + [str(exc)] + [f"第 {n} 行：{m}" for n, m in exc.lines]
        except CalendarError as exc:
            form_errors_to_fields(form, exc)
        else:
            _saved(stored, changed)
            return redirect(url_for(".year", year=int(stored[0]["date"][:4])))
    first = next((line for line in (form.text.data or "").splitlines() if line.strip()), "")
    return _render_year(_year_of(first.strip()[:10]), status=400, list_form=form)


@bp.post("/corrections/<day>/remove")
@roles_required(*CALENDAR_EDITORS)
def remove(day: str):
    try:
        d = corrections.parse_day(day)
    except CalendarError:
        abort(404)
    if not RemoveCorrectionForm().validate_on_submit():
        abort(400)
    try:
        calendar_change.remove_correction(store(), d, actor())
    except CalendarError as exc:
        flash(str(exc), "warning")
    else:
        flash(f"已撤销 {d.isoformat()} 的公司校正{RECOMPUTED_NOTE}", "success")
    return redirect(url_for(".year", year=d.year))


@bp.post("/work-periods")
@roles_required(*CALENDAR_EDITORS)
def set_periods():
    """作息时间 from a date after today on (never retroactively); the open deadlines spanning it move."""
    form = WorkPeriodsForm()
    if form.validate_on_submit():
        try:
            rec = calendar_change.set_work_periods(store(), form.effective_from.data, form.period_texts,
                                                   form.periods_note.data, actor())
        except WorkPeriodsError as exc:
            form_errors_to_fields(form, exc)
        else:
            text = "、".join(f"{a}–{b}" for a, b in rec["periods"])
            flash(f"已设置自 {rec['from']} 起的作息时间：{text}{RECOMPUTED_NOTE}", "success")
            return redirect(url_for(".year", year=int(rec["from"][:4])) + "#work-periods")
    return _render_year(_year_of(form.effective_from.data), status=400, periods_form=form)


@bp.post("/work-periods/<day>/remove")
@roles_required(*CALENDAR_EDITORS)
def remove_periods(day: str):
    if not RemoveCorrectionForm().validate_on_submit():
        abort(400)
    try:
        rec = calendar_change.remove_work_periods(store(), day, actor())
    except WorkPeriodsError as exc:
        flash(str(exc), "warning")
        return redirect(url_for(".year") + "#work-periods")
    flash(f"已删除自 {rec['from']} 起的作息时间设置{RECOMPUTED_NOTE}", "success")
    return redirect(url_for(".year", year=int(rec["from"][:4])) + "#work-periods")
