"""The start page after login: what waits for me, what is late, and where to go, by role.

Everyone: my work (counts of open, overdue and soon-due items, the most urgent ones), the
cases I took that are still open, and the quick links. 技质部 also: cases late anywhere
(recording a call is its hand-over, 6.1.3: no call waits for one).
Managers and the GM: the fine proposals waiting for a ruling and this year's total.
The GM and the 分管副总: the latest quarterly report (9.2) and the quarter so far.
The counting is records.cases.queries (overview, fines_year_total: from the case index).
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from records import policy
from records.cases import flow, queries, vocab
from records.catalog.customers import TABLE as CUSTOMERS
from records.catalog.products import TABLE as PRODUCTS
from records.fines import rulings
from records.reports import quarterly
from records.users import roles
from records.users.accounts import display_names

from . import todo
from .cases import STATUS_CLASSES, STATUS_LABELS, fill_deadlines, with_deadlines
from .common import calendar, now, store, user_doc

bp = Blueprint("home", __name__)
SHOW = 8  # rows of each short list


@bp.get("/")
@login_required
def index():
    s, cal, at, user = store(), calendar(), now(), user_doc()
    tq = roles.is_tq(user)
    areas = todo.gather(s, user, at, cal)
    work = areas["cases"]
    seen = queries.overview(s, user["username"], at, tq, show=SHOW)
    counts = {**todo.counts(areas), **seen["counts"],
              "customers": s.count(CUSTOMERS), "products": s.count(PRODUCTS)}
    return render_template(
        "home.html", counts=counts, work=fill_deadlines(work[:SHOW], cal, at),
        mine_open=with_deadlines(seen["mine_open"], cal, at),
        pending_fines=seen["pending_fines"], fines_year_total=queries.fines_year_total(s, at.year),
        year=at.year, tq=tq, overview=current_user.has_any(*roles.OVERVIEW_READERS),
        reader=current_user.has_any(*roles.CASE_READERS), manager=current_user.has_any(*roles.FINE_RULERS),
        may_sign_forms=current_user.has_any(*roles.FORM_SIGNERS), names=display_names(s),
        warn_hours=policy.WARN_WITHIN_WORKING_HOURS, T=flow.TRANSITIONS, STATES=vocab.STATES, TYPES=vocab.TYPES,
        STATUS_LABELS=STATUS_LABELS, STATUS_CLASSES=STATUS_CLASSES, FINE_STATUSES=rulings.STATUSES,
        quarterly=quarterly.home_block(s, at) if current_user.has_any(*quarterly.HOME_READERS) else None)
