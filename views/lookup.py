"""查询案例: any employee looks a case up by its number, the caller's phone or the unit (6.1.1)
and sees where it stands; the case itself opens only for those who may read it."""
from flask import Blueprint, render_template, request
from flask_login import login_required

from forms.lookup import LookupForm
from records.cases import lookup as case_lookup

from .common import calendar, form_errors_to_fields, now, store, user_doc

bp = Blueprint("lookup", __name__, url_prefix="/lookup")


@bp.get("/")
@login_required
def index():
    form = LookupForm(request.args)
    found = None
    if request.args and form.validate():
        try:
            found = case_lookup.lookup(store(), form.q.data, user_doc(), calendar(), now())
        except case_lookup.LookupRefused as exc:
            form_errors_to_fields(form, exc)
    status = 400 if form.errors or form.form_errors else 200
    return render_template("lookup/index.html", form=form, found=found, max_rows=case_lookup.MAX_ROWS), status
