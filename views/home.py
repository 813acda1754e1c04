"""The start page after login: what waits for me, what is late, and where to go, by role.

Everyone: my work (counts of open, overdue and soon-due items, the most urgent ones), the
cases I recorded that are still open, and the quick links. 技质部 also: cases late anywhere,
calls recorded but not yet handed over (the receivers' duty, 6.1.3: so 技质部 can chase them).
Managers and the GM: the fine proposals waiting for a ruling and this year's total.
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from records import policy
from records.cases import deadlines as case_deadlines
from records.cases import flow, vocab
from records.fines import rulings
from records.users import roles
from records.users.accounts import display_names
from records.users.roles import CASE_READERS as READERS

from .cases import (
    STATUS_CLASSES,
    STATUS_LABELS,
    next_deadline,
    work_rows,
)
from .common import calendar, now, store, user_doc

bp = Blueprint("home", __name__)
SHOW = 8  # rows of each short list


@bp.get("/")
@login_required
def index():
    s = store()
    cal, at = calendar(), now()
    user = user_doc()
    tq = roles.is_tq(user)
    work = work_rows(s, user, cal, at)
    all_cases = s.scan(vocab.TABLE)
    me = current_user.username

    mine_open, waiting_handover, late_cases, pending_fines = [], [], 0, []
    year = f"{at.year:04d}-"
    fines_year_total = 0
    for c in all_cases:
        closed = c.get("state") == "closed"
        if not closed and c.get("received_by") == me:
            mine_open.append(c)
        if not closed and case_deadlines.is_overdue(c, at):
            late_cases += 1
        if tq and c.get("state") == "awaiting_handover":
            waiting_handover.append(c)
        for f in c.get("fines") or []:
            if f["status"] == "proposed":
                pending_fines.append((c, f))
            elif f.get("final_amount") and (f.get("gm_at") or f.get("decided_at") or "").startswith(year):
                fines_year_total += f["final_amount"]

    def with_deadline(rows):
        out = []
        for c in rows:
            dl_row, status = next_deadline(c, cal, at)
            out.append({"case": c, "deadline": dl_row, "status": status})
        return sorted(out, key=lambda r: (r["deadline"]["due"] if r["deadline"] else "9999", r["case"]["id"]))

    counts = {
        "work": len(work),
        "work_overdue": sum(1 for r in work if r["status"] == "overdue"),
        "work_soon": sum(1 for r in work if r["status"] == "soon"),
        "mine_open": len(mine_open),
        "late_cases": late_cases,
        "waiting_handover": len(waiting_handover),
        "pending_fines": len(pending_fines),
        "customers": s.count("customers"),
        "products": s.count("products"),
    }
    names = display_names(s)
    return render_template(
        "home.html", counts=counts, work=work[:SHOW], mine_open=with_deadline(mine_open)[:SHOW],
        waiting_handover=with_deadline(waiting_handover)[:SHOW], pending_fines=pending_fines[:SHOW],
        fines_year_total=fines_year_total, year=at.year, tq=tq,
        overview=tq or current_user.has_any("vp", "gm"),
        reader=current_user.has_any(*READERS), manager=current_user.has_any("tq_manager", "gm"),
        may_sign_forms=current_user.has_any("technician", "tq_engineer", "tq_manager"),
        names=names, warn_hours=policy.WARN_WITHIN_WORKING_HOURS, T=flow.TRANSITIONS, STATES=vocab.STATES, TYPES=vocab.TYPES,
        STATUS_LABELS=STATUS_LABELS, STATUS_CLASSES=STATUS_CLASSES, FINE_STATUSES=rulings.STATUSES)
