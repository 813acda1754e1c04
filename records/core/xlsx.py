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
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv"

# What a worksheet cell cannot hold (as openpyxl's ILLEGAL_CHARACTERS_RE): C0 controls but tab/CR/LF.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What a spreadsheet may take for the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 64 * 1024  # bytes handed out at a time by the streaming writers


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


# --- The streaming .xlsx: SpreadsheetML written row by row into a zip handed out as it grows ---------
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    f'<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
    f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
    # cell styles (s=): 0 plain, 1 bold (the header), 2 text with the quote prefix, 3 date-time, 4 date
    "xl/styles.xml": f'<styleSheet xmlns="{_NS}"><numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/>'
    '</font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
    '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>',
}
_EPOCH = datetime(1899, 12, 30)
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", '"': "&quot;"})
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


class _Pipe(io.RawIOBase):
    """A write-only, unseekable sink the zip writes into; ``take`` hands out what it holds."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.held = 0
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.held += len(data)
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def take(self) -> bytes:
        out, self.parts, self.held = b"".join(self.parts), [], 0
        return out


def _column(n: int) -> str:
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _xml_text(value: str) -> str:
    return _ILLEGAL.sub("", value).translate(_XML_ESCAPES)


def _cell_xml(ref: str, value: object, style: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float, Decimal)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="3"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        return f'<c r="{ref}" s="4"><v>{(value - _EPOCH.date()).days}</v></c>'
    text = value if isinstance(value, str) else str(value)
    if style == 0 and text.startswith(FORMULA_STARTS):
        style = 2
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'


def stream_xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                widths: Sequence[float | None] = ()) -> Iterator[bytes]:
    """One sheet (a bold, frozen header, then ``rows``) as an .xlsx, handed out in chunks of
    about ``CHUNK`` bytes while the rows are read: nothing is held but the current chunk.

    Text is an inline string (formula-looking text with the quote prefix: Excel keeps it text,
    even when the cell is edited), numbers stay numbers (a negative one too), dates and times
    are Excel dates (a time zone is dropped: give local times), None an empty cell.
    """
    pipe = _Pipe()
    title = _BAD_TITLE.sub("_", title)[:31] or "Sheet1"
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        for name, xml in _PARTS.items():
            zf.writestr(name, _HEAD + xml)
        zf.writestr("xl/workbook.xml", f'{_HEAD}<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
                                       f'<sheet name="{_xml_text(title)}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        yield pipe.take()
        cols = "".join(f'<col min="{c}" max="{c}" width="{w}" customWidth="1"/>'
                       for c, w in enumerate(widths, start=1) if w is not None)
        letters = [_column(c) for c in range(1, len(header) + 1)]
        with zf.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write((f'{_HEAD}<worksheet xmlns="{_NS}"><sheetViews><sheetView workbookViewId="0">'
                      '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView>'
                      f'</sheetViews>{f"<cols>{cols}</cols>" if cols else ""}<sheetData><row r="1">'
                      + "".join(_cell_xml(f"{letters[i]}1", str(v), 1) for i, v in enumerate(header))
                      + "</row>").encode())
            for r, row in enumerate(rows, start=2):
                while len(letters) < len(row):
                    letters.append(_column(len(letters) + 1))
                fh.write(f'<row r="{r}">{"".join(_cell_xml(f"{letters[i]}{r}", v) for i, v in enumerate(row))}</row>'
                         .encode())
                if pipe.held >= CHUNK:
                    yield pipe.take()
            fh.write(b"</sheetData></worksheet>")
    yield pipe.take()
