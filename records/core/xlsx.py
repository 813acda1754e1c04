"""The one Excel/CSV writer: tables in, file bytes out.

A ``Sheet`` is a title, a header row and data rows, with optional column widths, number
formats, drop-down choices and note lines below the table; ``workbook(sheets)`` writes them
into one .xlsx, ``csv_bytes(rows)`` writes rows as a CSV that Excel opens as UTF-8. Text is
always written as text (never as a formula), with the control characters a workbook cannot
hold removed. openpyxl is imported inside the functions (it is heavy).
"""
from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"

# What a worksheet cell cannot hold (as openpyxl's ILLEGAL_CHARACTERS_RE): C0 controls but tab/CR/LF.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What a spreadsheet may take for the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024  # bytes handed out at a time by the streaming writers
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")  # what a sheet title may not hold


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a header row in bold, then the data rows.

    ``widths`` gives each column's width in characters, in the order of ``header`` (None or a
    missing entry: Excel's default). ``formats`` (header → number format, e.g. "yyyy-mm-dd")
    and ``choices`` (header → the allowed values, offered as a drop-down) apply to the data rows
    and to ``blank_rows`` empty rows below them, the rows a person fills in a template.
    ``notes`` are lines of text below the table, after one empty row. ``freeze_header`` keeps
    the header in view while scrolling.
    """

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]] = ()
    widths: Sequence[float | None] = ()
    formats: Mapping[str, str] = field(default_factory=dict)
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)
    blank_rows: int = 0
    notes: Sequence[str] = ()
    freeze_header: bool = True

    def column(self, name: str) -> int:
        """The 1-based column of a header; ValueError if the sheet has no such column."""
        return list(self.header).index(name) + 1


def _cell_value(value: object) -> object:
    """A value as a cell can hold it: text without the control characters a workbook refuses."""
    return _ILLEGAL.sub("", value) if isinstance(value, str) else value


def _choice_formula(values: Sequence[str]) -> str:
    if any("," in v or '"' in v for v in values):
        raise ValueError(f"drop-down choices may not contain a comma or a quote: {values!r}")
    formula = '"' + ",".join(values) + '"'
    if len(formula) > 257:  # Excel's limit: 255 characters between the quotes
        raise ValueError("drop-down choices longer than 255 characters")
    return formula


def looks_like_formula(value: object) -> bool:
    """Whether ``value`` is text a spreadsheet could take for a formula (= + - @, TAB, CR first)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _put(ws, row: int, column: int, value: object):
    cell = ws.cell(row=row, column=column, value=_cell_value(value))
    if isinstance(value, str):
        cell.data_type = "s"  # "=..." is someone's text, not a formula
        if looks_like_formula(value):
            cell.quotePrefix = True
    return cell


def _write_sheet(ws, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws.title = sheet.title
    bold = Font(bold=True)
    for c, name in enumerate(sheet.header, start=1):
        _put(ws, 1, c, name).font = bold
    for r, values in enumerate(sheet.rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value)
    for c, width in enumerate(sheet.widths, start=1):
        if width is not None:
            ws.column_dimensions[get_column_letter(c)].width = width
    last = 1 + len(sheet.rows) + sheet.blank_rows
    if last >= 2:
        for name, number_format in sheet.formats.items():
            c = sheet.column(name)
            for r in range(2, last + 1):
                ws.cell(row=r, column=c).number_format = number_format
        for name, values in sheet.choices.items():
            letter = get_column_letter(sheet.column(name))
            dv = DataValidation(type="list", formula1=_choice_formula(values), allow_blank=True)
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{last}")
    if sheet.notes:
        for r, line in enumerate(sheet.notes, start=last + 2):  # one empty row between table and notes
            _put(ws, r, 1, line)
    if sheet.freeze_header:
        ws.freeze_panes = "A2"


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """An .xlsx file with the given sheets, in order (at least one)."""
    from openpyxl import Workbook

    sheets = list(sheets)
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    wb = Workbook()
    _write_sheet(wb.active, sheets[0])
    for sheet in sheets[1:]:
        _write_sheet(wb.create_sheet(), sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_field(value: object) -> object:
    """A value as a CSV field: text that looks like a formula gets a leading apostrophe (Excel
    shows it as text); anything else unchanged (None: an empty field)."""
    return "'" + value if looks_like_formula(value) else value


def csv_bytes(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as CSV in UTF-8 with a byte-order mark (so Excel does not read it as GBK), CRLF lines.

    None is written as an empty field, formula-looking text with a leading apostrophe
    (``csv_field``), anything else as ``str(value)``.
    """
    return b"".join(stream_csv((), rows))


def stream_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[bytes]:
    """``header`` (if any) then ``rows`` as CSV, UTF-8 with a BOM, CRLF lines, in chunks of about
    ``CHUNK`` bytes (the first chunk holds at least the BOM)."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    yield "\ufeff".encode()
    if header:
        writer.writerow([csv_field(v) for v in header])
    for row in rows:
        writer.writerow([csv_field(v) for v in row])
        if buf.tell() >= CHUNK // 2:  # characters; up to 3 bytes each in UTF-8
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def _stream_cell(ws, value: object, bold=None):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=_cell_value(value))
    if isinstance(value, str):
        cell.data_type = "s"  # "=..." is someone's text, not a formula
        if looks_like_formula(value):
            cell.quotePrefix = True  # Excel keeps it text even when the cell is edited
    if bold is not None:
        cell.font = bold
    return cell


def stream_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                widths: Sequence[float | None] = ()) -> Iterator[bytes]:
    """One sheet (a bold, frozen header, then ``rows``) as an .xlsx in chunks of ``CHUNK`` bytes.

    openpyxl's write-only mode (with lxml) writes the rows to a temporary file as they are read,
    so memory stays flat whatever the row count; the file is handed out once complete. Text is
    text (formula-looking text with the quote prefix), numbers stay numbers (a negative one too),
    dates and times are Excel dates, None an empty cell.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_BAD_TITLE.sub("_", title)[:31] or "Sheet1")
    ws.freeze_panes = "A2"
    for c, width in enumerate(widths, start=1):
        if width is not None:
            ws.column_dimensions[get_column_letter(c)].width = width
    bold = Font(bold=True)
    ws.append([_stream_cell(ws, str(name), bold) for name in header])
    for row in rows:
        # Only formula-looking text needs a styled cell; the rest goes in as plain values (fast).
        ws.append([_stream_cell(ws, v) if looks_like_formula(v) else _cell_value(v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as out:
        wb.save(out)
        out.seek(0)
        while chunk := out.read(CHUNK):
            yield chunk
