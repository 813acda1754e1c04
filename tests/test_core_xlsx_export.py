"""The streaming writers of records/core/xlsx.py (issue 14's exports): formula-looking text stays
text, numbers stay numbers (a negative one too), CSV is UTF-8 with a BOM; 20,000 rows stream."""
from __future__ import annotations

import codecs
import csv
import io
import re
import time
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from records.core.xlsx import Sheet, csv_bytes, looks_like_formula, stream_csv, stream_xlsx, workbook

HEADER = ["文本", "数"]


def xlsx_rows(chunks) -> list[list]:
    ws = load_workbook(io.BytesIO(b"".join(chunks))).active
    return [[(c.value, c.data_type, bool(c.quotePrefix)) for c in row] for row in ws.iter_rows()]


def csv_rows(chunks) -> list[list[str]]:
    data = b"".join(chunks)
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value, formula", [
    ("=1+1", True), ("+86 10 1234", True), ("-3", True), ("@x", True), ("\tTAB", True), ("\rCR", True),
    ("普通文字", False), ("1+1=2", False), ("", False), (-3, False), (3.5, False), (None, False),
])
def test_what_looks_like_a_formula(value, formula):
    assert looks_like_formula(value) is formula


@pytest.mark.parametrize("text", ["=1+1", "@x", "-3", "+1", "=HYPERLINK(\"http://evil\",\"点我\")", "\tx", "\rx"])
def test_formula_looking_text_is_text_in_both_formats(text):
    [header, row] = xlsx_rows(stream_xlsx("表", HEADER, [[text, -3]]))
    assert [v for v, _, _ in header] == HEADER
    assert row[0] == (text, "s", True)  # a text cell with the quote prefix: Excel never evaluates it
    assert row[1] == (-3, "n", False)  # a negative number stays a number
    assert csv_rows(stream_csv(HEADER, [[text, -3]]))[1] == ["'" + text, "-3"]


def test_plain_values_keep_their_types():
    when = datetime(2026, 11, 27, 16, 30)
    values = ["华东电力 <&> \"引号\"", 12, 2.5, when, date(2026, 1, 2), None, True, "两\n行"]
    [head, row] = xlsx_rows(stream_xlsx("T/1", list("abcdefgh"), [values], widths=[30, None, 8]))
    assert [v for v, _, _ in row] == values[:4] + [datetime(2026, 1, 2), None, True, "两\n行"]
    assert [t for _, t, _ in row][:3] == ["s", "n", "n"] and not any(q for _, _, q in row)
    wb = load_workbook(io.BytesIO(b"".join(stream_xlsx("T/1", ["a"], [], widths=[30]))))
    ws = wb.active
    assert (ws.title, ws.freeze_panes, ws["A1"].font.b, ws.column_dimensions["A"].width) == ("T_1", "A2", True, 30)
    assert csv_rows(stream_csv(["a", "b"], [["x,y", date(2026, 1, 2)]])) == [["a", "b"], ["x,y", "2026-01-02"]]


def test_the_sheet_workbook_and_csv_bytes_share_the_guard():
    ws = load_workbook(io.BytesIO(workbook([Sheet("S", ["a"], [["=1+1"], ["ok"]])]))).active
    assert (ws["A2"].value, ws["A2"].data_type, ws["A2"].quotePrefix, ws["A3"].quotePrefix) == ("=1+1", "s", True, False)
    assert csv_bytes([["@x", -1]]) == codecs.BOM_UTF8 + b"'@x,-1\r\n"


def test_20000_rows_stream_out(capsys):
    rows = ([f"FW2026{i:05d}", "质量问题", "已结案", "华东电力设备有限公司", f"SN-{i}", "刘参谋",
             "2026-11-27 16:00", "-" if i % 2 else "=1+1", i, -i] for i in range(20_000))
    header = [f"列{i}" for i in range(10)]
    start = time.perf_counter()
    chunks = list(stream_xlsx("大表", header, rows))
    took_xlsx = time.perf_counter() - start
    assert len(chunks) > 1  # handed out in pieces
    start = time.perf_counter()
    csv_data = b"".join(stream_csv(header, ([i, f"=x{i}"] for i in range(20_000))))
    took_csv = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n20,000 rows × 10 columns: xlsx {took_xlsx:.2f} s ({sum(map(len, chunks)) / 1e6:.1f} MB), "
              f"CSV (2 columns) {took_csv:.2f} s")
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as zf:  # (openpyxl reads 20,000 rows slowly)
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 20_001
    last = re.search(r'<c r="J20001"([^>]*)><v>([^<]*)</v></c></row>', sheet)
    assert last and last.group(2) == "-19999" and 't="s"' not in last.group(1) and "inlineStr" not in last.group(1)
    assert csv_data.count(b"\r\n") == 20_001
