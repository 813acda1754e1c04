"""案卷 (10): a case's dossier as one PDF, for those who may read the case (the case page's own
check, records.cases.flow.may_read); fines in it as the reader may see them (records/archive/dossier.py)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, send_file
from flask_login import login_required

from records.archive import dossier
from records.cases.flow import may_read
from records.core.errors import RecordNotFound

from .common import calendar, now, store, user_doc
from .service_forms import content_disposition

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
    data = dossier.render(rec, user_doc(), calendar(), now())
    name, ascii_name = dossier.filename(rec.case)
    resp = send_file(io.BytesIO(data), mimetype="application/pdf", max_age=0)
    resp.headers["Content-Disposition"] = content_disposition(name, ascii_name, attachment=True)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
