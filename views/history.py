"""Each record's change history, read from the audit trail."""
from flask import Blueprint, abort, render_template
from flask_login import login_required

from .common import store

bp = Blueprint("history", __name__, url_prefix="/history")

# Tables whose history any logged-in user may read; users' history is for admins (below).
PUBLIC_TABLES = {"customers": "顾客单位", "products": "产品", "cases": "服务案例"}


@bp.get("/<table>/<int:record_id>")
@login_required
def show(table: str, record_id: int):
    from flask_login import current_user
    if table not in PUBLIC_TABLES and not (table == "users" and current_user.has_any("admin")):
        abort(404)
    record = store().get(table, record_id)
    if record is None:
        abort(404)
    entries = store().history(table, record_id)
    return render_template("common/history.html", table=table, label=PUBLIC_TABLES.get(table, "用户"),
                           record=record, entries=entries)
