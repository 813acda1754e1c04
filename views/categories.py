"""类别表: the company lists of fault categories and cause categories (9.3), kept by 技质部经理.

Everyone may read both lists (retired entries greyed); 技质部经理 adds, renames, retires and
restores entries (records.catalog.categories: an entry is never deleted, records keep naming
it). Each change is audited by the store (the list's 变更记录).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.categories import CategoryActionForm, CategoryNameForm
from records.catalog import categories
from records.core.errors import DomainError

from .common import actor, form_errors_to_fields, roles_required, store

bp = Blueprint("categories", __name__, url_prefix="/categories")
KEEPERS = ("tq_manager",)  # 技质部经理 keeps both lists (9.3, company practice)


def _kind(kind: str) -> str:
    if kind not in categories.KINDS:
        abort(404)
    return kind


def _render(failed: tuple[str, str | None, CategoryNameForm] | None = None, status: int = 200):
    s = store()
    lists = {kind: categories.entries(s, kind, include_retired=True) for kind in categories.KINDS}
    doc_ids = {d["kind"]: d["id"] for d in s.scan(categories.TABLE)}
    keeper = current_user.has_any(*KEEPERS)
    return render_template("categories/index.html", lists=lists, KINDS=categories.KINDS, keeper=keeper,
                           doc_ids=doc_ids, failed=failed, add_form=CategoryNameForm(formdata=None),
                           action_form=CategoryActionForm()), status


@bp.get("/")
@login_required
def index():
    return _render()


def _change(kind: str, do, done: str, code: str | None = None):
    form = CategoryNameForm()
    if form.validate_on_submit():
        try:
            with store().transaction(actor()) as tx:
                entry = do(tx, form.name.data)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(done.format(name=entry["name"]), "success")
            return redirect(url_for(".index") + f"#{kind}")
    return _render((kind, code, form), 400)


@bp.post("/<kind>/add")
@roles_required(*KEEPERS)
def add(kind: str):
    kind = _kind(kind)
    return _change(kind, lambda tx, name: categories.add_tx(tx, kind, name), f"已新增{categories.KINDS[kind]}：{{name}}")


@bp.post("/<kind>/<code>/rename")
@roles_required(*KEEPERS)
def rename(kind: str, code: str):
    kind = _kind(kind)
    return _change(kind, lambda tx, name: categories.rename_tx(tx, kind, code, name), "已改名为：{name}", code)


@bp.post("/<kind>/<code>/retire")
@roles_required(*KEEPERS)
def retire(kind: str, code: str):
    return _toggle(kind, code, "retire")


@bp.post("/<kind>/<code>/restore")
@roles_required(*KEEPERS)
def restore(kind: str, code: str):
    return _toggle(kind, code, "restore")


def _toggle(kind: str, code: str, what: str):
    kind = _kind(kind)
    if CategoryActionForm().validate_on_submit():
        step = categories.retire_tx if what == "retire" else categories.restore_tx
        try:
            with store().transaction(actor()) as tx:
                entry = step(tx, kind, code)
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash(f"已{'停用' if what == 'retire' else '恢复'}：{entry['name']}", "success")
    return redirect(url_for(".index") + f"#{kind}")
