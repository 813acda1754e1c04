"""Reading a product list (产品台账) from .xlsx or .csv into rows keyed by our field names.

``parse`` finds the header (a title row or two may sit above it), maps its column names (and
their common variants) to our fields, and returns each data row with its spreadsheet row
number (the header is row 1, or the row it is found on); the values are read as they are
(``parse_date``, ``parse_months``, ``parse_flag`` turn a cell into a typed value for the
importer). Refuses a file that cannot be used at all with ``ImportFileError``. No Flask, no store.

The file is first accepted by ``records.core.uploads.check_upload`` (kind by content; an .xlsx's
zip members and their inflated sizes capped before openpyxl opens it). The caps on what is read
are the company's, kept there: ``MAX_ROWS`` data rows, ``MAX_COLUMNS`` columns (those beyond are
not read), a cell's text cut after ``MAX_CELL_CHARS`` (+1, so that the importer sees it is too
long), header names cut for messages (``shorten``).
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from records.core.errors import DomainError
from records.core.uploads import (
    EXCEL_MAX_ROWS,
    MAX_CELL_CHARS,
    MAX_SHEET_COLUMNS,
    MAX_SHEET_ROWS,
    SPREADSHEET,
    UploadRefused,
    check_upload,
    shorten,
)

MAX_ROWS = MAX_SHEET_ROWS  # company practice (records/core/uploads.py): one file, one transaction
MAX_COLUMNS = MAX_SHEET_COLUMNS
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in company sheets

# field -> (the column name we write in the template, accepted variants)
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "customer": ("顾客单位", ("顾客单位", "顾客", "顾客名称", "顾客单位名称", "客户", "客户单位", "客户名称",
                            "用户单位", "使用单位", "单位名称")),
    "model": ("型号", ("型号", "产品型号", "规格型号", "型号规格")),
    "name": ("产品名称", ("产品名称", "名称", "品名", "产品")),
    "serial_no": ("产品编号", ("产品编号", "出厂编号", "序列号", "产品序列号", "出厂序列号", "出厂号", "编号",
                             "产品编码", "sn", "s/n")),
    "delivery_date": ("交付日期", ("交付日期", "交付时间", "交货日期", "交货时间", "发货日期", "交付日")),
    "warranty_months": ("质保期（月）", ("质保期（月）", "质保期", "质保月数", "质保期限（月）", "质保期限",
                                      "保修期（月）", "保修期", "保修月数")),
    "reliability": ("可靠性产品", ("可靠性产品", "是否可靠性产品", "可靠性")),
    "remarks": ("备注", ("备注", "说明", "备注说明")),
}
REQUIRED = ("customer", "model", "name", "serial_no", "delivery_date", "warranty_months")
TEMPLATE_HEADERS = [COLUMNS[f][0] for f in COLUMNS]


def other_names(f: str) -> list[str]:
    """The other Chinese names a file may give the column of field ``f`` (as we tell people)."""
    main, aliases = COLUMNS[f]
    return [a for a in aliases if a != main and not a.isascii()]


YES = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "对"}
NO = {"否", "n", "no", "false", "0", "×", "✗", "", "不是"}


class ImportRowError(NamedTuple):
    row: int  # as in the spreadsheet: the header is row 1 (or where it was found)
    column: str  # the column's name as written in the file
    reason: str


class ImportFileError(DomainError):
    """The file as a whole cannot be used (not a spreadsheet, no header, too big...)."""

    def __init__(self, message: str, errors: list[ImportRowError] | None = None):
        super().__init__(message, "file")
        self.errors = errors or []


@dataclass
class ImportRow:
    row: int
    values: dict  # field -> raw cell value (str, int, float, date, datetime or None)


@dataclass
class ParsedImport:
    rows: list[ImportRow]
    header_row: int
    columns: dict[str, str]  # field -> the header text used in the file
    ignored: list[str] = field(default_factory=list)  # headers we do not know

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


# --- reading ---------------------------------------------------------------------------------
def _norm_header(text) -> str:
    """Full-width → half-width, no spaces, lower case: 「质保期 (月)」 == 「质保期（月）」."""
    s = unicodedata.normalize("NFKC", str(text or ""))
    s = re.sub(r"\s+", "", s).lower()
    return s.replace("*", "").replace("：", ":").rstrip(":")


_ALIASES = {_norm_header(alias): f for f, (_, aliases) in COLUMNS.items() for alias in aliases}


def _map_header(cells: list) -> tuple[dict[str, int], dict[str, str], list[str], list[ImportRowError]]:
    """(field -> column index, field -> header text, ignored headers, errors)."""
    index: dict[str, int] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[ImportRowError] = []
    for i, cell in enumerate(cells):
        text = shorten(str(cell).strip()) if cell is not None else ""
        if not text:
            continue
        f = _ALIASES.get(_norm_header(text))
        if f is None:
            ignored.append(text)
        elif f in index:
            errors.append(ImportRowError(0, text, f"与「{names[f]}」是同一列（{COLUMNS[f][0]}），只能保留一列"))
        else:
            index[f], names[f] = i, text
    return index, names, ignored, errors


def is_blank(v) -> bool:
    """Whether a cell is empty (None or only spaces)."""
    return v is None or (isinstance(v, str) and not v.strip())


def _cut(v):
    """A cell as read, a long text cut just past MAX_CELL_CHARS (the importer reports it)."""
    return v[:MAX_CELL_CHARS + 1] if isinstance(v, str) and len(v) > MAX_CELL_CHARS else v


def _table_from_cells(cells_iter) -> ParsedImport:
    """Find the header among the first rows, then collect the data rows below it."""
    header = None
    rows: list[ImportRow] = []
    for rownum, cells in enumerate(cells_iter, start=1):
        if rownum > EXCEL_MAX_ROWS:  # a row number no spreadsheet has: a crafted file
            raise ImportFileError(f"无法读取该文件：超过 {EXCEL_MAX_ROWS} 行（表格的行数上限），文件可能已损坏")
        if cells.count(None) == len(cells):  # an empty row, fast: a sheet may skip to row 1048576
            continue
        cells = [_cut(c) for c in cells[:MAX_COLUMNS]]
        if header is None:
            if all(is_blank(c) for c in cells):
                continue
            index, names, ignored, errors = _map_header(cells)
            if len(index) >= 3 or not set(REQUIRED) - set(index):
                header = (rownum, index, names, ignored, errors)
                continue
            if rownum >= HEADER_SEARCH_ROWS:
                break
            continue
        if all(is_blank(c) for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"文件超过 {MAX_ROWS} 行数据，请分成几个文件导入")
        index = header[1]
        rows.append(ImportRow(rownum, {f: (cells[i] if i < len(cells) else None) for f, i in index.items()}))
    if header is None:
        expected = "、".join(COLUMNS[f][0] for f in REQUIRED)
        raise ImportFileError(f"文件前 {HEADER_SEARCH_ROWS} 行中没有找到表头（应有这些列：{expected}）")
    header_row, index, names, ignored, errors = header
    errors = [e._replace(row=header_row) for e in errors]
    for f in REQUIRED:
        if f not in index:
            aliases = "、".join(other_names(f))
            errors.append(ImportRowError(header_row, COLUMNS[f][0], f"缺少此列（也可写作：{aliases}）"))
    if errors:
        raise ImportFileError("表头不完整，未导入任何数据", errors)
    if not rows:
        raise ImportFileError("文件中只有表头，没有数据行")
    return ParsedImport(rows, header_row, names, ignored)


def _read_xlsx(data: bytes) -> ParsedImport:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises a zoo of errors (BadZipFile, KeyError, InvalidFileException...)
        raise ImportFileError("无法读取该文件：它不是 Excel 工作簿（.xlsx），或已损坏。"
                              "请在 Excel/WPS 中打开后另存为 .xlsx 或 .csv 再上传") from None
    try:
        if not wb.worksheets:
            raise ImportFileError("工作簿中没有工作表")
        ws = wb.worksheets[0]  # the first sheet, whichever was active when saved
        try:
            return _table_from_cells(ws.iter_rows(max_col=MAX_COLUMNS, max_row=EXCEL_MAX_ROWS, values_only=True))
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError("无法读取该 Excel 文件的内容（文件可能已损坏）") from None
    finally:
        wb.close()


def _decode_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")  # Excel's 「Unicode 文本」
    if b"\x00" in data:
        raise UnicodeDecodeError("ascii", data, 0, 1, "NUL byte")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030")  # Excel/WPS 「CSV（逗号分隔）」 on a Chinese Windows


def _read_csv(data: bytes) -> ParsedImport:
    refuse = ImportFileError("无法读取该文件：它不是文本格式的 CSV 表格。请上传 .xlsx，"
                             "或在 Excel/WPS 中另存为「CSV（逗号分隔）」后上传")
    try:
        text = _decode_text(data)
    except (UnicodeDecodeError, UnicodeError):
        raise refuse from None
    # A binary file that happens to decode still has control characters a table never has.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text[:65536]):
        raise refuse
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;，", key=first.count) if first else ","
    if delimiter == "，":  # a full-width comma is not a CSV delimiter Python accepts as-is
        text, delimiter = text.replace("，", ","), ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _table_from_cells(reader)
    except csv.Error as exc:
        raise ImportFileError(f"CSV 文件格式有误：{exc}") from None


def parse(filename: str, data: bytes) -> ParsedImport:
    """The data rows of a product list file; raise ImportFileError when it cannot be used at all."""
    name = (filename or "").lower()
    try:
        checked = check_upload(data, name, SPREADSHEET)
    except UploadRefused as exc:
        raise ImportFileError(str(exc)) from None
    return _read_xlsx(data) if checked.kind == "xlsx" else _read_csv(data)


# --- checking ----------------------------------------------------------------------------------
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                      r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_EXCEL_EPOCH = date(1899, 12, 30)


def cell_text(v) -> str:
    """A cell as text, NFC-normalised and stripped (a whole float, as a typed serial, without ".0")."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # a serial typed as a number: 123456.0 → "123456"
    return unicodedata.normalize("NFC", str(v)).strip()


def parse_date(v) -> date:
    """A delivery date from a cell; ValueError with a Chinese reason."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, bool):
        raise ValueError("日期格式应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYY年MM月DD日")
    if isinstance(v, (int, float)):
        n = int(v)  # an Excel date-time serial: keep the day
        if 19000101 <= n <= 29991231:  # 20240315 typed as a number
            return parse_date(str(n))
        if 1 <= n < 2958466:  # an Excel serial day number not formatted as a date
            return _EXCEL_EPOCH + timedelta(days=n)
        raise ValueError("日期格式应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYY年MM月DD日")
    s = unicodedata.normalize("NFKC", cell_text(v))
    if re.fullmatch(r"\d{8}", s):
        s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
    m = _DATE_RE.match(s)
    if not m:
        raise ValueError("日期格式应为 YYYY-MM-DD、YYYY/MM/DD 或 YYYY年MM月DD日")
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        raise ValueError(f"日期不存在：{s}") from None


def parse_months(v) -> int:
    if isinstance(v, bool):
        raise ValueError("质保期必须是整数（月）")
    if isinstance(v, (int, float)):
        if v != int(v):
            raise ValueError("质保期必须是整数（月）")
        return int(v)
    s = unicodedata.normalize("NFKC", cell_text(v)).replace(" ", "")
    m = re.fullmatch(r"(\d+)(?:\.0+)?(个月|月)?", s)
    if m:
        return int(m[1])
    m = re.fullmatch(r"(\d+)年", s)
    if m:
        return int(m[1]) * 12
    raise ValueError("质保期必须是整数（月），如 24")


def parse_flag(v) -> bool:
    if isinstance(v, bool):
        return v
    s = unicodedata.normalize("NFKC", cell_text(v)).lower()
    if s in YES:
        return True
    if s in NO:
        return False
    raise ValueError("应填「是」或「否」（空白视为否）")
