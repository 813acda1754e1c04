"""Notes and attachments on a case's timeline (records.cases.notes, records.cases.timeline).

Thin: the case page shows the timeline (``timeline_rows``) and the note form, which posts here;
a refused note is shown again on its own page with the message beside its field. An attachment
is downloaded byte for byte by whoever may read its case (403 for anyone else).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import login_required

from forms.case_records import NoteForm
from records.cases import notes, timeline
from records.cases.flow import may_read
from records.cases.vocab import TABLE as CASES
from records.cases.vocab import NotPermitted
from records.core.errors import DomainError, RecordNotFound
from records.core.files import StorageError
from records.core.uploads import EXT, MAX_BYTES

from .common import file_response, form_errors_to_fields, store, user_doc

bp = Blueprint("case_notes", __name__, url_prefix="/cases")


def timeline_rows(case: dict) -> list[dict]:
    """The case's timeline for its page: steps, corrections, 作废/合并/恢复, notes, attachments."""
    rows = timeline.entries(case, notes.notes_of(store(), case["id"]))
    for row in rows:
        if row.get("attachment"):
            row["attachment"]["category_label"] = notes.CATEGORIES.get(row["attachment"]["category"], "")
    return rows


def note_form() -> NoteForm:
    return NoteForm(formdata=None, prefix="note")


def _readable_case(case_id: int) -> dict:
    case = store().get(CASES, case_id)
    if case is None:
        abort(404)
    if not may_read(case, user_doc()):
        abort(403)
    return case


@bp.route("/<int:case_id>/notes", methods=["GET", "POST"])
@login_required
def add(case_id: int):
    case = _readable_case(case_id)
    form = NoteForm(prefix="note")
    if form.validate_on_submit():
        fs = form.file.data
        content = fs.stream.read(MAX_BYTES + 1) if fs and fs.filename else None
        try:
            note = notes.add_note(store(), case_id, user_doc(), form.text.data or "", content=content,
                                  filename=fs.filename if content is not None else "",
                                  category=form.category.data or "")
        except NotPermitted:
            abort(403)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已添加附件" if note["kind"] == "attachment" else "已添加备注", "success")
            return redirect(url_for("cases.show", case_id=case_id) + "#timeline")
    status = 400 if form.is_submitted() else 200
    return render_template("cases/note.html", case=case, form=form, CATEGORIES=notes.CATEGORIES), status


@bp.get("/attachments/<int:note_id>")
@login_required
def download(note_id: int):
    try:
        note, data = notes.read_attachment(store(), note_id, user_doc())
    except RecordNotFound:
        abort(404)
    except NotPermitted:
        abort(403)
    except (StorageError, OSError) as exc:
        current_app.logger.error("attachment %s unreadable: %s", note_id, exc)
        abort(500)
    f = note["file"]
    ext = EXT.get(f.get("type"), "bin")
    return file_response(data, f["mime"], f["filename"], f"attachment-{note_id}.{ext}", sha256=f["sha256"])
