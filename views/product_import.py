"""导入产品台账: upload a product list (.xlsx/.csv); every row is checked, then all or nothing is imported."""
from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, send_file, url_for

from forms.product_import import ProductImportForm
from records.catalog import import_template, product_import
from records.catalog.import_parser import ImportFileError
from records.core.xlsx import XLSX_MIMETYPE
from records.users.roles import CATALOG_EDITORS

from .common import actor, roles_required, store

bp = Blueprint("product_import", __name__, url_prefix="/products/import")


@bp.route("/", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def upload():
    form = ProductImportForm()
    errors, result = [], None
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            result = product_import.import_products(store(), upload_file.filename or "", upload_file.read(), actor())
        except ImportFileError as exc:
            form.file.errors = list(form.file.errors) + [str(exc)]
            errors = exc.errors
        else:
            if result.ok:
                flash(f"已从 {upload_file.filename} 导入 {len(result.imported)} 个产品", "success")
                return redirect(url_for("products.index"))
            errors = result.errors
    return render_template("product_import/upload.html", form=form, errors=errors, result=result,
                           columns=import_template.column_help())


@bp.get("/template.xlsx")
@roles_required(*CATALOG_EDITORS)
def template():
    """An empty product list with the right headers, plus a sheet explaining each column."""
    return send_file(io.BytesIO(import_template.template_xlsx()), as_attachment=True,
                     download_name=import_template.FILENAME, mimetype=XLSX_MIMETYPE)
