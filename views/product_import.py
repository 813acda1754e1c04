"""导入产品台账: upload the company's (cumulative) product list (.xlsx/.csv); every row is checked,
the preview lists the new, unchanged and changed products, then the new ones are imported and,
when asked, the changed ones updated — all or nothing (records/catalog/product_import.py).

The uploaded file is kept server-side by its SHA-256 between the preview and the confirmation,
which names it (and what the preview showed) in hidden fields and is read again on confirming:
no row data comes back from the browser.
"""
from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, send_file, url_for

from forms.product_import import ImportConfirmForm, ProductImportForm
from records.cases.lookup import undecided_of
from records.catalog import customers, import_template, product_import
from records.catalog.import_parser import ImportFileError
from records.catalog.product_import import PREVIEW_ROWS_SHOWN, ImportChanged, ImportResult
from records.core.uploads import MAX_BYTES
from records.core.xlsx import XLSX_MIMETYPE
from records.users.roles import CATALOG_EDITORS

from .common import actor, roles_required, store

bp = Blueprint("product_import", __name__, url_prefix="/products/import")


def _upload_page(form: ProductImportForm, errors=(), result: ImportResult | None = None, status: int = 200):
    return render_template("product_import/upload.html", form=form, errors=list(errors), result=result,
                           columns=import_template.column_help()), status


def _preview_page(result: ImportResult, filename: str, confirm: ImportConfirmForm, status: int = 200):
    names = {c["id"]: c["name"] for c in store().scan(customers.TABLE)}
    cases = undecided_of(store(), [c.product["id"] for c in result.changed])
    return render_template("product_import/preview.html", result=result, filename=filename, form=confirm,
                           names=names, cases=cases, shown=PREVIEW_ROWS_SHOWN), status


@bp.route("/", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def upload():
    form = ProductImportForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    upload_file = form.file.data
    name, data = upload_file.filename or "", upload_file.stream.read(MAX_BYTES + 1)
    try:
        result = product_import.preview(store(), name, data)
    except ImportFileError as exc:
        form.file.errors = list(form.file.errors) + [str(exc)]
        return _upload_page(form, exc.errors)
    if not result.ok:
        return _upload_page(form, result.errors, result)
    confirm_form = ImportConfirmForm(formdata=None, upload=product_import.keep_upload(store(), data),
                                     filename=name, token=result.token)
    return _preview_page(result, name, confirm_form)


@bp.post("/confirm")
@roles_required(*CATALOG_EDITORS)
def confirm():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash("；".join(form.form_errors) or "页面数据无效，请重新上传文件", "danger")
        return redirect(url_for(".upload"))
    name, update = form.filename.data or "", bool(form.import_all.data)
    try:
        data = product_import.kept_upload(store(), form.upload.data)
        result = product_import.confirm(store(), name, data, actor(), token=form.token.data, update_changed=update)
    except ImportFileError as exc:
        flash(str(exc), "danger")
        return redirect(url_for(".upload"))
    except ImportChanged as exc:  # show the preview as it is now, to be confirmed again
        result = product_import.preview(store(), name, data)
        if result.ok:
            again = ImportConfirmForm(formdata=None, upload=form.upload.data, filename=name, token=result.token)
            again.form_errors.append(str(exc))
            return _preview_page(result, name, again, 409)
    if not result.ok:
        return _upload_page(ProductImportForm(formdata=None), result.errors, result, 409)
    done = f"已从 {name} 导入 {len(result.imported)} 个产品"
    if update:
        done += f"，更新 {len(result.updated)} 个产品"
    flash(done, "success")
    return redirect(url_for("products.index"))


@bp.get("/template.xlsx")
@roles_required(*CATALOG_EDITORS)
def template():
    """An empty product list with the right headers, plus a sheet explaining each column."""
    return send_file(io.BytesIO(import_template.template_xlsx()), as_attachment=True,
                     download_name=import_template.FILENAME, mimetype=XLSX_MIMETYPE)
