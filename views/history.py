"""Each record's change history, read from the audit trail, in the users' words
(views/history_words.py: state labels, display names, local times, deadlines per clause, fines
as their reader may see them)."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from records.cases import flow
from records.materials.claim_flow import READERS as CLAIM_READERS
from records.reports import preventive_flow
from records.users.accounts import display_names
from records.users.roles import ADMINS, FOLLOWUP_ROLES

from .common import store
from .history_words import Words, action_label, describe

bp = Blueprint("history", __name__, url_prefix="/history")


def _anyone(record) -> bool:
    return True


def _case_reader(record) -> bool:
    return flow.may_read(record, current_user.doc)  # the same rule as the case page


def _roles(*roles):
    return lambda record: current_user.has_any(*roles)


# Whose history may be read, and by whom: the same people who may see the record itself.
TABLES = {
    "customers": ("顾客单位", _anyone),
    "products": ("产品", _anyone),
    "calendar_days": ("工作日历调整", _anyone),
    "work_periods": ("作息时间", _anyone),
    "cases": ("服务案例", _case_reader),
    "followups": ("跟踪回访", _roles(*FOLLOWUP_ROLES)),
    "users": ("用户", _roles(*ADMINS)),
    "departments": ("部门", _roles(*ADMINS)),
    "category_lists": ("类别表", _anyone),
    "preventive_actions": ("预防措施", lambda record: preventive_flow.may_read(record, current_user.doc)),
    "suppliers": ("供应商", _roles(*CLAIM_READERS)),
    "supplier_claims": ("供应商索赔", _roles(*CLAIM_READERS)),
}
TITLES = {"cases": "number", "customers": "name", "products": "serial_no", "users": "display_name",
          "departments": "name", "calendar_days": "date", "followups": "customer_name",
          "work_periods": "from", "category_lists": "kind", "preventive_actions": "model",
          "suppliers": "name", "supplier_claims": "number"}


@bp.get("/<table>/<int:record_id>")
@login_required
def show(table: str, record_id: int):
    label, may_see = TABLES.get(table, (None, None))
    s = store()
    record = s.get(table, record_id) if label else None
    if record is None or not may_see(record):
        abort(404)  # not 403: whether such a record exists is not for this user to learn
    words = Words(reader=current_user.doc, users=display_names(s),
                  departments={d["id"]: d.get("name", "") for d in s.scan("departments")} if table == "users" else {},
                  customers={c["id"]: c.get("name", "") for c in s.scan("customers")} if table in ("products", "followups") else {},
                  case=record if table == "cases" else None)
    rows = [{"seq": e["seq"], "ts": e["ts"], "actor": words.who(e.get("actor")), "action": action_label(e["action"]),
             "note": e.get("note") or "", "changes": describe(e, words)} for e in reversed(s.history(table, record_id))]
    return render_template("common/history.html", table=table, label=label, record=record,
                           title=record.get(TITLES.get(table, "")) or f"#{record_id}", rows=rows)
