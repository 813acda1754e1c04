"""The receipts and 发票 of a report's expense lines (6.2.7): downloaded byte for byte by whoever
may read the case (403 for anyone else). The report and its confirmation themselves are actions
of the case page (views/cases.py, forms/case_report.py)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import login_required

from records.cases import conduct, expenses
from records.cases.vocab import NotPermitted
from records.core.errors import RecordNotFound
from records.core.files import StorageError
from records.core.uploads import EXT

from .common import file_response, store, user_doc

bp = Blueprint("case_report", __name__, url_prefix="/cases")


@bp.get("/<int:case_id>/expenses/<int:line>/receipts/<int:number>")
@login_required
def receipt(case_id: int, line: int, number: int):
    try:
        meta, data = expenses.read_receipt(store(), case_id, line, number, user_doc())
    except RecordNotFound:
        abort(404)
    except NotPermitted:
        abort(403)
    except (StorageError, OSError) as exc:
        current_app.logger.error("receipt %s/%s/%s unreadable: %s", case_id, line, number, exc)
        abort(500)
    ascii_name = f"receipt-{case_id}-{line + 1}-{number + 1}.{EXT.get(meta.get('type'), 'bin')}"
    return file_response(data, meta["mime"], meta["filename"], ascii_name, sha256=meta["sha256"])


@bp.app_context_processor
def report_words() -> dict:
    """The words the case page's expense, conduct and approval parts show (cases/_expenses.html)."""
    return {"EXPENSE_CATEGORIES": expenses.CATEGORIES, "ENTERTAINMENT": expenses.ENTERTAINMENT,
            "CONDUCT_CHECKLIST": conduct.CHECKLIST, "APPROVAL_STATES": conduct.APPROVAL_STATES}
