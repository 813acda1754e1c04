"""The blank product list to fill in and import (产品台账导入模板), and how its columns are explained.

``template_xlsx`` builds the workbook: the first sheet has the headers ``import_parser`` reads
(dates formatted, a 是/否 drop-down for the reliability flag, room for 1000 products), the
second explains each column. ``column_help`` is the same explanation for the upload page.
"""
from __future__ import annotations

from records.core.xlsx import Sheet, workbook

from .import_parser import COLUMNS, REQUIRED, TEMPLATE_HEADERS, other_names

FILENAME = "产品台账导入模板.xlsx"
FILL_ROWS = 1000  # rows below the header that carry the date format and the drop-down

# header -> column width in characters (others: DEFAULT_WIDTH)
WIDTHS = {"顾客单位": 28, "型号": 14, "产品名称": 20, "产品编号": 18, "交付日期": 12, "质保期（月）": 12,
          "可靠性产品": 11, "备注": 30}
DEFAULT_WIDTH = 14

# field -> what to write in it (the notes sheet adds the column's other accepted names)
EXPLAIN = {
    "customer": "须与系统中“顾客单位”的名称完全一致；不存在的单位请先创建",
    "serial_no": "出厂编号/序列号；在系统和本文件中都不能重复",
    "delivery_date": "Excel 日期，或文字 2024-03-15、2024/3/15、2024年3月15日",
    "warranty_months": "整数个月，0–240",
    "reliability": "是 / 否（空白为否；8.2 每年电话巡访）",
}
FIRST_SHEET_ONLY = "只读取第一个工作表。任何一行有错误时整个文件都不导入，系统会列出每个错误的行号、列和原因。"


def column_help() -> list[dict]:
    """Each column's name, whether it is required, and its other accepted names (for the upload page)."""
    return [{"name": main, "aliases": other_names(f), "required": f in REQUIRED}
            for f, (main, _) in COLUMNS.items()]


def _note(f: str) -> str:
    text, others = EXPLAIN.get(f, ""), other_names(f)
    if others:
        text = (text + "；" if text else "") + "也可写作：" + "、".join(others)
    return text


def template_xlsx() -> bytes:
    """The template workbook: an empty 产品台账 sheet and a 填写说明 sheet explaining each column."""
    products = Sheet(
        "产品台账", TEMPLATE_HEADERS,
        widths=[WIDTHS.get(h, DEFAULT_WIDTH) for h in TEMPLATE_HEADERS],
        formats={COLUMNS["delivery_date"][0]: "yyyy-mm-dd"},
        choices={COLUMNS["reliability"][0]: ("是", "否")},
        blank_rows=FILL_ROWS)
    notes = Sheet(
        "填写说明", ["列", "必填", "说明"],
        [[main, "是" if f in REQUIRED else "否", _note(f)] for f, (main, _) in COLUMNS.items()],
        widths=[14, 6, 80], notes=[FIRST_SHEET_ONLY], freeze_header=False)
    return workbook([products, notes])
