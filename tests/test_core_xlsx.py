"""records.core.xlsx, the one Excel/CSV writer: what goes in comes back out of openpyxl / csv."""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from records.core.xlsx import Sheet, csv_bytes, workbook


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


def values(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


# --- workbook: a table of cases -------------------------------------------------------------------
@pytest.mark.parametrize("sheets, expected", [
    pytest.param([Sheet("表", ["a", "b"])], {"表": [["a", "b"]]}, id="header only"),
    pytest.param([Sheet("S", ["名称", "数量"], [["控制箱", 2], ["信号机", None]])],
                 {"S": [["名称", "数量"], ["控制箱", 2], ["信号机", None]]}, id="rows, None as an empty cell"),
    pytest.param([Sheet("甲", ["x"], [[1]]), Sheet("乙", ["y"], [[2]]), Sheet("丙", ["z"])],
                 {"甲": [["x"], [1]], "乙": [["y"], [2]], "丙": [["z"]]}, id="several sheets in order"),
    pytest.param([Sheet("中文", ["顾客单位", "备注"], [["华东电力设备有限公司", "一期（含备件）“加急”"]])],
                 {"中文": [["顾客单位", "备注"], ["华东电力设备有限公司", "一期（含备件）“加急”"]]}, id="Chinese text"),
    pytest.param([Sheet("T", ["when", "day"], [[datetime(2024, 3, 15, 10, 30), date(2024, 3, 15)]])],
                 {"T": [["when", "day"], [datetime(2024, 3, 15, 10, 30), datetime(2024, 3, 15)]]},
                 id="dates stay dates"),
    pytest.param([Sheet("F", ["公式"], [["=1+1"], ["=HYPERLINK(\"http://x\")"]])],
                 {"F": [["公式"], ["=1+1"], ["=HYPERLINK(\"http://x\")"]]}, id="text is never a formula"),
    pytest.param([Sheet("C", ["备注"], [["a\x00b\x07c\td\ne"]])], {"C": [["备注"], ["abc\td\ne"]]},
                 id="control characters a workbook refuses are dropped"),
    pytest.param([Sheet("N", ["列", "说明"], [["A", "x"]], notes=["第一条说明", "第二条"])],
                 {"N": [["列", "说明"], ["A", "x"], [None, None], ["第一条说明", None], ["第二条", None]]},
                 id="notes below the table after one empty row"),
])
def test_workbook_writes_what_it_is_given(sheets, expected):
    wb = read(workbook(sheets))
    assert wb.sheetnames == list(expected)
    assert wb.active.title == sheets[0].title
    for title, rows in expected.items():
        assert values(wb[title]) == rows
    for ws in wb.worksheets:
        assert all(c.font.b for c in ws[1]), "the header is bold"
        assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("widths, expected", [
    ([], {}),
    ([28, 6.5], {"A": 28, "B": 6.5}),
    ([None, 80], {"B": 80}),
])
def test_column_widths_in_header_order(widths, expected):
    ws = read(workbook([Sheet("W", ["一", "二", "三"], widths=widths)])).active
    assert {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth} == expected


@pytest.mark.parametrize("freeze, expected", [(True, "A2"), (False, None)])
def test_header_frozen_or_not(freeze, expected):
    assert read(workbook([Sheet("Z", ["a"], freeze_header=freeze)])).active.freeze_panes == expected


def test_formats_and_choices_cover_the_rows_and_the_blank_rows_to_fill():
    sheet = Sheet("填", ["日期", "是否", "备注"], [[date(2024, 1, 2), "是", ""]],
                  formats={"日期": "yyyy-mm-dd"}, choices={"是否": ("是", "否")}, blank_rows=5)
    ws = read(workbook([sheet])).active
    assert ws.max_row == 7  # the blank rows carry a format, no value
    assert [ws.cell(row=r, column=1).number_format for r in range(2, 8)] == ["yyyy-mm-dd"] * 6
    assert ws.cell(row=8, column=1).number_format == "General"
    [dv] = ws.data_validations.dataValidation
    assert (dv.type, dv.formula1, dv.allow_blank, str(dv.sqref)) == ("list", '"是,否"', True, "B2:B7")


def test_no_rows_no_blank_rows_means_no_formats_or_choices():
    ws = read(workbook([Sheet("E", ["日期", "是否"], formats={"日期": "yyyy-mm-dd"}, choices={"是否": ("是",)})])).active
    assert ws.data_validations.dataValidation == [] and ws.max_row == 1


@pytest.mark.parametrize("sheet, message", [
    (Sheet("X", ["a"], formats={"b": "0.00"}, blank_rows=1), "not in list"),
    (Sheet("X", ["a"], choices={"a": ("1,2",)}, blank_rows=1), "comma or a quote"),
    (Sheet("X", ["a"], choices={"a": ("很长的选项" * 60,)}, blank_rows=1), "255"),
])
def test_a_sheet_that_cannot_be_written_is_refused(sheet, message):
    with pytest.raises(ValueError, match=message):
        workbook([sheet])


def test_a_workbook_needs_a_sheet():
    with pytest.raises(ValueError):
        workbook([])


# --- CSV ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rows, text", [
    ([["顾客单位", "型号"], ["西北铁路局", "TR-9"]], "顾客单位,型号\r\n西北铁路局,TR-9\r\n"),
    ([["a", None, 3, date(2024, 3, 15)]], "a,,3,2024-03-15\r\n"),
    ([["含,逗号", '含"引号', "两\n行"]], '"含,逗号","含""引号","两\n行"\r\n'),
    ([], ""),
])
def test_csv_is_utf8_with_a_bom_and_crlf(rows, text):
    data = csv_bytes(rows)
    assert data.startswith(codecs.BOM_UTF8)  # Excel on a Chinese Windows reads UTF-8 only with the BOM
    assert data == codecs.BOM_UTF8 + text.encode("utf-8")


def test_csv_reads_back_as_written():
    rows = [["顾客单位", "备注"], ["华东电力设备有限公司", "一期，含“备件”, 2 台"], ["西北铁路局", ""]]
    assert list(csv.reader(io.StringIO(csv_bytes(rows).decode("utf-8-sig"), newline=""))) == rows
