"""Helpers every blueprint uses: the store, the time, the calendar, the current user and actor,
role checks, paging, a file download."""
from __future__ import annotations

import io
from datetime import datetime
from functools import wraps
from typing import Callable
from urllib.parse import quote

from flask import Response, abort, current_app, flash, redirect, request, send_file
from flask_login import current_user, login_required

from records.calendar.corrections import current_calendar
from records.calendar.workdays import WorkCalendar, now_local
from records.core.errors import DomainError, StaleRecord
from records.core.store import Store


def store() -> Store:
    return current_app.extensions["aftersales.store"]


def now(*, whole_minutes: bool = False) -> datetime:
    """This moment in the company's time zone (``policy.TIMEZONE``), aware, to the whole second
    (or, with ``whole_minutes``, to the minute, as the follow-up calls are kept)."""
    moment = now_local()
    return moment.replace(second=0) if whole_minutes else moment


def input_now() -> datetime:
    """This minute as a datetime-local input shows it: local wall-clock time, naive, no seconds."""
    return now().replace(tzinfo=None, second=0)


def calendar() -> WorkCalendar:
    """The working calendar in force: the default one with the company's corrections."""
    return current_calendar(store())


def user_doc() -> dict:
    """The logged-in user's record (username, roles, …), as the domain takes a user."""
    return current_user.doc


def actor() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


def flash_signature_check(label: str, result) -> None:
    """The result of a 「重新验证」 button (issue 18): ``result`` a records.core.signing.SignatureCheck."""
    flash(f"{label}：{result.summary}", "success" if result.status == "valid" else "warning")


def roles_required(*roles: str):
    """Login plus at least one of ``roles`` (admin is not implied: duties are separated)."""
    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_any(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def is_local_path(target: str | None) -> bool:
    """Whether ``target`` is a path on this site, safe to redirect or link to.

    An open redirect would let a phishing link bounce through us. Browsers drop tabs and
    newlines inside a URL ("/\\t/evil.example" becomes "//evil.example"), so any control
    character or space refuses the target too.
    """
    return bool(target and target.startswith("/") and not target.startswith("//") and "\\" not in target
                and not any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in target))


def page_arg() -> int:
    try:
        return max(int(request.args.get("page", 1)), 1)
    except ValueError:
        return 1


class Pager:
    def __init__(self, page: int, per_page: int, total: int):
        self.page, self.per_page, self.total = page, per_page, total
        self.pages = max((total + per_page - 1) // per_page, 1)

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def form_errors_to_fields(form, exc) -> None:
    """Put a domain refusal (exception with .field) beside its field, else on the form."""
    field = getattr(exc, "field", None)
    target = getattr(form, field, None) if field else None
    if target is not None:
        target.errors = list(target.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))
    # A table's every bad line at once (records.cases.expenses.LineErrors): each beside its cell.
    entries = getattr(target, "entries", None) or []
    for index, cell, message in (getattr(exc, "rows", ()) if target is not None else ()):
        sub = entries[index][cell] if index < len(entries) and cell in entries[index].form else target
        sub.errors = list(sub.errors) + [message]


def save_edit(form, save: Callable[[int], object], what: str, edit_url: str, done_url: str):
    """Save a valid edit form made on revision ``form.rev``: ``save(expect_rev)`` writes.

    Returns the redirect to send, or None to show the form again with the refusal beside its
    field. A record someone else changed meanwhile reloads the edit page with its latest
    content (``what`` names it: "该产品").
    """
    try:
        save(int(form.rev.data or 0))
    except StaleRecord:
        flash(f"{what}已被他人修改，以下是最新内容，请重新编辑", "warning")
        return redirect(edit_url)
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return None
    flash("已保存", "success")
    return redirect(done_url)


def content_disposition(filename: str, ascii_name: str, attachment: bool = True) -> str:
    """``attachment; filename="service-form-JF2026-0001.pdf"; filename*=UTF-8''<the Chinese name>``.

    Old clients take the plain ASCII name; the others the UTF-8 one (RFC 6266 / RFC 5987).
    """
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(data: bytes, mimetype: str, filename: str, ascii_name: str, *, attachment: bool = True,
                  sha256: str | None = None) -> Response:
    """A private download of ``data`` named ``filename`` (``ascii_name`` for old clients), never
    cached; ``sha256``: a stored file's hash, sent as its ETag and ``X-Content-SHA256``."""
    resp = send_file(io.BytesIO(data), mimetype=mimetype, max_age=0, **({"etag": sha256} if sha256 else {}))
    resp.headers["Content-Disposition"] = content_disposition(filename, ascii_name, attachment)
    resp.headers["Cache-Control"] = "private, no-store"
    if sha256:
        resp.headers["X-Content-SHA256"] = sha256
    return resp
