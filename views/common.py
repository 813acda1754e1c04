"""Helpers every blueprint uses: the store, the current actor, role checks, paging."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, request
from flask_login import current_user, login_required

from records.store import Store


def store() -> Store:
    return current_app.extensions["aftersales.store"]


def actor() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


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
