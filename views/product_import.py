"""导入产品台账: upload a .xlsx/.csv ledger; every row is checked, then all or nothing is imported."""
from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, send_file, url_for

from forms.product_import import ProductImportForm
from records.catalog import import_parser, product_import
from records.catalog.import_parser import COLUMNS, REQUIRED, LedgerFileError

from .common import actor, roles_required, store
from .products import (
    EDITORS,  # whoever may register a product may import a ledger of them
)

bp = Blueprint("product_import", __name__, url_prefix="/products/import")


def _column_help() -> list[dict]:
    return [{"name": main, "aliases": [a for a in aliases if a != main and not a.isascii()],
             "required": f in REQUIRED} for f, (main, aliases) in COLUMNS.items()]


@bp.route("/", methods=["GET", "POST"])
@roles_required(*EDITORS)
def upload():
    form = ProductImportForm()
    errors, result = [], None
    if form.validate_on_submit():
        upload_file = form.file.data
        try:
            result = product_import.import_products(store(), upload_file.filename or "", upload_file.read(), actor())
        except LedgerFileError as exc:
            form.file.errors = list(form.file.errors) + [str(exc)]
            errors = exc.errors
        else:
            if result.ok:
                flash(f"已从 {upload_file.filename} 导入 {len(result.imported)} 个产品", "success")
                return redirect(url_for("products.index"))
            errors = result.errors
    return render_template("product_import/upload.html", form=form, errors=errors, result=result, columns=_column_help())


@bp.get("/template.xlsx")
@roles_required(*EDITORS)
def template():
    """An empty ledger with the right headers, plus a sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "产品台账"
    ws.append(import_parser.TEMPLATE_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = {"顾客单位": 28, "型号": 14, "产品名称": 20, "产品编号": 18, "交付日期": 12, "质保期（月）": 12,
              "可靠性产品": 11, "备注": 30}
    for i, header in enumerate(import_parser.TEMPLATE_HEADERS, start=1):
        letter = ws.cell(row=1, column=i).column_letter
        ws.column_dimensions[letter].width = widths.get(header, 14)
        if header == "交付日期":
            for row in range(2, 1002):
                ws.cell(row=row, column=i).number_format = "yyyy-mm-dd"
        if header == "可靠性产品":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}1001")
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("填写说明")
    notes.append(["列", "必填", "说明"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    explain = {
        "顾客单位": "须与系统中“顾客单位”的名称完全一致；不存在的单位请先创建",
        "型号": "",
        "产品名称": "",
        "产品编号": "出厂编号/序列号；在系统和本文件中都不能重复",
        "交付日期": "Excel 日期，或文字 2024-03-15、2024/3/15、2024年3月15日",
        "质保期（月）": "整数个月，0–240",
        "可靠性产品": "是 / 否（空白为否；8.2 每年电话巡访）",
        "备注": "",
    }
    for f, (main, aliases) in COLUMNS.items():
        others = [a for a in aliases if a != main and not a.isascii()]
        text = explain.get(main, "")
        if others:
            text = (text + "；" if text else "") + "也可写作：" + "、".join(others)
        notes.append([main, "是" if f in REQUIRED else "否", text])
    notes.append([])
    notes.append(["只读取第一个工作表。任何一行有错误时整个文件都不导入，系统会列出每个错误的行号、列和原因。"])
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 6
    notes.column_dimensions["C"].width = 80

    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return send_file(buf, as_attachment=True, download_name="产品台账导入模板.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
