"""案卷 (10): a case's dossier as one PDF, for those who may read the case (the case page's own
check, records.cases.flow.may_read); fines in it as the reader may see them (records/archive/dossier.py)."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_login import login_required

from records.archive import dossier
from records.cases.flow import may_read
from records.core.errors import RecordNotFound

from .common import calendar, file_response, now, store, user_doc

bp = Blueprint("archive", __name__, url_prefix="/archive")


@bp.get("/cases/<int:case_id>/dossier.pdf")
@login_required
def case_dossier(case_id: int):
    try:
        rec = dossier.gather(store(), case_id)
    except RecordNotFound:
        abort(404)
    if not may_read(rec.case, user_doc()):
        abort(403)
    data = dossier.render(rec, user_doc(), calendar(), now(), sign_in=store().root)
    name, ascii_name = dossier.filename(rec.case)
    return file_response(data, "application/pdf", name, ascii_name)
