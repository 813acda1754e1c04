"""The one checker of every upload: judged by content, never by name, before anything is stored.

Every upload path calls ``check_upload`` and nothing else to accept a file, e.g. in a view::

    data = form.file.data.stream.read(uploads.MAX_BYTES + 1)  # one byte more: "too big" is refused here
    try:
        checked = uploads.check_upload(data, form.file.data.filename or "", uploads.SCAN)
    except DomainError as exc:  # UploadRefused, field "file"
        form_errors_to_fields(form, exc)
    # checked.kind ("pdf" | "jpeg" | "png" | "xlsx" | "csv"), .mime, .ext, .data (the bytes, unchanged:
    # store these), .filename, .pages and .page_sizes ((w, h) in points) of a PDF

``allowed`` is a set of kinds: "pdf", "jpeg", "png" (scans of the 技术服务单, case attachments:
use ``SCAN``), "xlsx", "csv" (the product list import: ``SPREADSHEET``). The kind comes from the
magic bytes; the file name only tells a CSV (which has none) and chooses the wording of a refusal.
A refusal is ``UploadRefused`` (a DomainError on the field "file") with a Chinese message that says
what to do; the caller shows it next to the field and stores nothing. Read at most
``MAX_BYTES + 1`` bytes of a request's file and pass them all: more is refused here.

What is checked (the numbers are the company's practice, in the block below):

- every kind: not empty, at most ``MAX_BYTES`` (20 MB); HEIC/HEIF/AVIF photos (iPhone default)
  are recognised and refused with how to send a JPEG instead;
- PDF: opens with pypdf, not encrypted, 1..``MAX_PDF_PAGES`` pages, every page at most A3 in
  either orientation (``MAX_PAGE_PT`` with a small tolerance, /UserUnit counted) - checked before
  anything renders a page; no JavaScript or Launch action anywhere (every object walked with
  pypdf, then the raw bytes outside streams: ``active_names_in_bytes`` says why):
  refused, never stripped, since the stored bytes must be the ones signed;
- JPEG/PNG: Pillow opens the content as that format, at most ``MAX_PIXELS`` (a decompression
  bomb is refused from its header, before decoding), decodes it fully and finds its end;
- xlsx: a zip whose central directory is small (``MAX_ZIP_MEMBERS``), whose members' declared
  sizes add up to at most ``MAX_UNCOMPRESSED`` and whose members really inflate to no more than
  they declare (read with a cap: a lying header is caught), whose XML has at most
  ``MAX_XML_TAGS`` tags (what openpyxl will parse: this bounds its time), holding a workbook. Rows, columns
  and cells are capped by the reader of the sheet (records/catalog/import_parser.py) with the
  numbers here (``MAX_SHEET_ROWS``, ``MAX_SHEET_COLUMNS``, ``MAX_CELL_CHARS``);
- csv: not one of the binary kinds above (its text is decoded by its reader).

``shorten`` cuts a user's value for an error message. What an area reads from an accepted file
(the QR code of the 技术服务单: records/service_forms/uploads.py) lives in that area; a renderer
of a PDF page keeps under ``MAX_RENDER_PIXELS``.
"""
from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile
from dataclasses import dataclass, field

from .errors import DomainError

LOG = logging.getLogger(__name__)

# --- Company practice (not regulation numbers): the caps of an upload ------------------------
MAX_BYTES = 20 * 1024 * 1024  # one uploaded file
MAX_PDF_PAGES = 20
MAX_PDF_OBJECTS = 50_000  # a scan has a few dozen objects, a PDF from an office program a few thousand
MAX_PAGE_PT = (842.0, 1191.0)  # A3 (297 × 420 mm) in points, either orientation
PAGE_TOLERANCE = 1.03  # scanners round page sizes up a little
MAX_PIXELS = 80_000_000  # an image; a 600 dpi A3 scan is about 70 Mpx
MAX_RENDER_PIXELS = 16_000_000  # a PDF page rendered to look for a QR code (A3 at 150 dpi: 4.3 Mpx)
MAX_UNCOMPRESSED = 50 * 1024 * 1024  # all members of an .xlsx together, inflated
MAX_ZIP_MEMBERS = 1000  # an .xlsx holds a few dozen
MAX_XML_TAGS = 4_000_000  # "<" in an .xlsx's XML: 50,000 rows of 8 columns take about 3.2 million
MAX_SHEET_ROWS = 50_000  # data rows of an imported sheet
MAX_SHEET_COLUMNS = 50  # columns read from an imported sheet
MAX_CELL_CHARS = 1000  # characters of a cell read from an imported sheet
MAX_ERRORS_SHOWN = 200  # row errors listed on the page (the count says how many there are)
SHOWN_CHARS = 50  # of a user's value quoted in an error message
EXCEL_MAX_ROWS = 1_048_576  # not ours: no spreadsheet has a row below this one

SCAN = frozenset({"pdf", "jpeg", "png"})
SPREADSHEET = frozenset({"xlsx", "csv"})
MIME = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EXT = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "xlsx": "xlsx", "csv": "csv"}
LABEL = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "xlsx": ".xlsx", "csv": ".csv"}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
               b"avif", b"avis"}
OTHER_BINARY = (b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")

HEIC_MESSAGE = ("不支持 HEIC/HEIF 格式的照片（苹果手机的默认格式）。请在手机设置中改为“兼容性最佳”"
                "（设置 → 相机 → 格式），或将照片导出为 JPEG 后上传")


class UploadRefused(DomainError):
    def __init__(self, message: str, field: str | None = "file"):
        super().__init__(message, field)


@dataclass
class CheckedUpload:
    kind: str  # "pdf" | "jpeg" | "png" | "xlsx" | "csv"
    mime: str
    data: bytes
    filename: str = ""
    pages: int = 1  # of a PDF
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # of a PDF: (w, h) in points

    @property
    def ext(self) -> str:
        return EXT[self.kind]


def shorten(value, limit: int = SHOWN_CHARS) -> str:
    """A user's value for an error message: at most ``limit`` characters, then "…"."""
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def sniff(data: bytes) -> str | None:
    """The type by magic bytes only: "pdf", "jpeg", "png", "heif", "zip", "ole2", "binary" or None."""
    if data[:4] == b"%PDF" or (b"%PDF-" in data[:1024] and data.lstrip()[:5] == b"%PDF-"):
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[4:8] == b"ftyp" and (data[8:12] in HEIF_BRANDS or any(b in data[16:64] for b in HEIF_BRANDS)):
        return "heif"
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # Excel 97–2003 .xls, .doc, .et
        return "ole2"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 text (Excel's 「Unicode 文本」) has NUL bytes
        return None
    if data.startswith(OTHER_BINARY) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP") or b"\x00" in data[:4096]:
        return "binary"
    return None


# --- PDF ---------------------------------------------------------------------------------------
# JavaScript and Launch actions, wherever they sit (OpenAction, AA, the names tree, annotations,
# form fields): any dictionary with /JS or /JavaScript, or an action whose /S is one of these.
ACTIVE_TYPES = {"/JavaScript": "JavaScript", "/Launch": "Launch"}
_ACTIVE_NAMES = {b"JS": "JavaScript", b"JavaScript": "JavaScript", b"Launch": "Launch"}
_STREAM_START = re.compile(rb"(?<![A-Za-z])stream\r?\n")
_PDF_NAME = re.compile(rb"/((?:[^\x00\t\n\f\r ()<>\[\]{}/%#]|#[0-9A-Fa-f]{2})+)")
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def _active_in_objects(reader) -> str | None:
    """The first JavaScript/Launch found in any object of the file (pypdf, object streams too)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    refs = [IndirectObject(i, gen, reader) for gen, ids in reader.xref.items() for i in ids]
    refs += [IndirectObject(i, 0, reader) for i in reader.xref_objStm]
    if len(refs) > MAX_PDF_OBJECTS:
        raise UploadRefused("PDF 文件结构过于复杂（对象过多），请重新扫描或“打印为 PDF”后上传")
    for ref in [None, *refs]:
        try:
            stack: list = [reader.trailer if ref is None else ref.get_object()]
        except Exception:  # an object pypdf cannot read is left to the byte scan
            continue
        while stack:
            obj = stack.pop()
            if isinstance(obj, DictionaryObject):
                if "/JS" in obj or "/JavaScript" in obj:
                    return "JavaScript"
                action = obj.get("/S")
                if isinstance(action, IndirectObject):
                    action = action.get_object()
                if action in ACTIVE_TYPES:
                    return ACTIVE_TYPES[action]
                stack.extend(v for v in obj.values() if not isinstance(v, IndirectObject))
            elif isinstance(obj, ArrayObject):
                stack.extend(v for v in obj if not isinstance(v, IndirectObject))
    return None


def _outside_streams(data: bytes) -> bytes:
    """The bytes with every stream body (from "stream" to its "endstream") left out; one pass
    (a regular expression would go quadratic on many "stream" keywords without an end)."""
    parts, pos = [], 0
    while m := _STREAM_START.search(data, pos):
        parts.append(data[pos:m.start()])
        end = data.find(b"endstream", m.end())
        if end < 0:  # no end: what follows is scanned as it is
            pos = m.end()
            break
        pos = end + len(b"endstream")
    parts.append(data[pos:])
    return b" ".join(parts)


def active_names_in_bytes(data: bytes) -> str | None:
    """The second net: the names /JS, /JavaScript, /Launch (#xx escapes decoded) anywhere in the
    file's bytes outside stream bodies - so also in objects pypdf could not parse or did not
    reach (an older revision, a broken cross-reference table).

    Stream bodies are skipped on purpose: compressed image data holds any byte sequence (a 20 MB
    scan would contain "/JS" and a delimiter by chance about once), so scanning them would refuse
    honest scans. What sits inside a compressed object stream is seen by the pypdf walk instead.
    """
    for m in _PDF_NAME.finditer(_outside_streams(data)):
        name = _NAME_ESCAPE.sub(lambda e: bytes([int(e[1], 16)]), m[1])
        if name in _ACTIVE_NAMES:
            return _ACTIVE_NAMES[name]
    return None


def _page_too_big(w: float, h: float) -> bool:
    short, long = sorted(MAX_PAGE_PT)
    return min(w, h) > short * PAGE_TOLERANCE or max(w, h) > long * PAGE_TOLERANCE


def _check_pdf(data: bytes) -> CheckedUpload:
    from pypdf import PdfReader

    sizes: list[tuple[float, float]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadRefused("PDF 文件已加密，请上传未加密的文件")
            n = len(reader.pages)
            if n == 0:
                raise UploadRefused("PDF 文件没有页面")
            if n > MAX_PDF_PAGES:
                raise UploadRefused(f"PDF 页数过多（{n} 页），最多 {MAX_PDF_PAGES} 页")
            for i, page in enumerate(reader.pages, start=1):
                box, unit = page.mediabox, float(page.user_unit or 1)
                w, h = abs(float(box.width)) * unit, abs(float(box.height)) * unit
                if _page_too_big(w, h):  # before anything renders it
                    mm = 25.4 / 72
                    raise UploadRefused(f"PDF 第 {i} 页尺寸过大（约 {w * mm:.0f} × {h * mm:.0f} 毫米），最大允许 A3"
                                        "（297 × 420 毫米）。请按 A4 或 A3 纸张重新扫描或导出后上传")
                sizes.append((w, h))
                page.get_contents()  # a broken page tree fails here
            found = _active_in_objects(reader)
    except UploadRefused:
        raise
    except Exception as exc:  # pypdf raises many kinds on hostile input (RecursionError, MemoryError too)
        LOG.info("unreadable PDF upload: %r", exc)
        raise UploadRefused("PDF 文件已损坏或无法读取，请重新扫描后上传") from None
    found = found or active_names_in_bytes(data)
    if found:
        LOG.warning("PDF upload refused: it holds a %s action", found)
        raise UploadRefused(f"PDF 文件中含有{'脚本（JavaScript）' if found == 'JavaScript' else '启动程序（Launch）'}动作，"
                            "出于安全原因不能接受（不会删改已签署的文件）。请上传扫描仪或“打印为 PDF”直接生成的文件")
    return CheckedUpload("pdf", MIME["pdf"], data, pages=n, page_sizes=sizes)

# --- images -------------------------------------------------------------------------------------
def _check_image(data: bytes, kind: str) -> None:
    from PIL import Image

    label = "JPEG" if kind == "jpeg" else "PNG"
    too_big = UploadRefused(f"图片像素过大（超过 {MAX_PIXELS // 1_000_000} 百万像素），请降低分辨率"
                            "（扫描 300 dpi 即可）或压缩后上传")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if (im.format or "").lower() not in ({kind, "mpo"} if kind == "jpeg" else {kind}):  # MPO: a phone's JPEG
                    raise UploadRefused("图片格式与文件内容不符")
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise too_big
                im.load()  # decode fully
        # WeasyPrint sets ImageFile.LOAD_TRUNCATED_IMAGES for the whole process, so load()
        # pads a truncated image instead of failing: check the end of the data ourselves.
        if kind == "png":
            with Image.open(io.BytesIO(data)) as im:
                im.verify()  # every chunk's CRC, up to IEND
        elif data.rfind(b"\xff\xd9") < data.rfind(b"\xff\xda"):  # no end-of-image after the last scan
            raise OSError("truncated JPEG")
    except UploadRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_big from None
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        LOG.info("corrupt image upload: %s", exc)
        raise UploadRefused(f"{label} 图片已损坏或无法读取，请重新拍照或扫描后上传") from None


# --- xlsx ---------------------------------------------------------------------------------------
def _eocd_ok(data: bytes) -> bool:
    """The end-of-central-directory record: few members, a small directory, no zip64 (read before
    zipfile parses the directory, which it does whole)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or len(data) < at + 22:
        return False
    entries = int.from_bytes(data[at + 10:at + 12], "little")
    cd_size = int.from_bytes(data[at + 12:at + 16], "little")
    return entries <= MAX_ZIP_MEMBERS and cd_size <= MAX_ZIP_MEMBERS * 400


def _check_xlsx(data: bytes) -> CheckedUpload:
    broken = UploadRefused("无法读取该文件：Excel 文件已损坏")
    too_big = UploadRefused(f"Excel 文件解压后过大（超过 {MAX_UNCOMPRESSED // (1024 * 1024)} MB）或内部文件过多，"
                            "请删除多余的工作表、图片和格式，或另存为 .csv 后上传")
    if not _eocd_ok(data):
        raise too_big if data.rfind(b"PK\x05\x06") >= 0 else broken
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
            if len(members) > MAX_ZIP_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED:
                raise too_big
            names = {m.filename for m in members}
            if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
                raise UploadRefused("无法读取该文件：它不是 Excel 工作簿（.xlsx），或已损坏。"
                                    "请在 Excel/WPS 中打开后另存为 .xlsx 或 .csv 再上传")
            total = tags = 0
            for m in members:  # inflate with a cap: a header may lie about the size
                xml = m.filename.lower().endswith((".xml", ".rels"))
                with z.open(m) as f:
                    while chunk := f.read(1024 * 1024):
                        total += len(chunk)
                        tags += chunk.count(b"<") if xml else 0
                        if total > MAX_UNCOMPRESSED:
                            raise too_big
                        if tags > MAX_XML_TAGS:
                            raise UploadRefused("Excel 文件内容过多（单元格、文字或格式过多），请删除多余的工作表和格式，"
                                                "或另存为 .csv 后上传")
    except UploadRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError,
            RuntimeError, UnicodeDecodeError) as exc:  # RuntimeError: an encrypted member
        LOG.info("broken xlsx upload: %r", exc)
        raise broken from None
    return CheckedUpload("xlsx", MIME["xlsx"], data)


# --- the one entry point ----------------------------------------------------------------------------
def _not_allowed(kind: str | None, name: str, allowed: frozenset[str] | set[str]) -> UploadRefused:
    if kind == "heif":
        return UploadRefused(HEIC_MESSAGE)
    if "xlsx" in allowed and kind == "ole2":
        return UploadRefused("这是旧版 Excel（.xls）文件，暂不支持。请在 Excel/WPS 中另存为 .xlsx 或 .csv 后上传")
    if "csv" in allowed and name.endswith((".csv", ".txt")):
        return UploadRefused("无法读取该文件：它不是文本格式的 CSV 表格。请上传 .xlsx，"
                             "或在 Excel/WPS 中另存为「CSV（逗号分隔）」后上传")
    if "xlsx" in allowed and name.endswith((".xlsx", ".xlsm")):
        return UploadRefused("无法读取该文件：扩展名是 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）")
    labels = [LABEL[k] for k in ("pdf", "jpeg", "png", "xlsx", "csv") if k in allowed]
    listed = "、".join(labels[:-1]) + " 或 " + labels[-1] if len(labels) > 1 else "".join(labels)
    return UploadRefused(f"不支持的文件类型：只接受 {listed} 格式的文件（按文件内容判断，与文件名无关）")


def check_upload(data: bytes, filename: str = "", allowed: frozenset[str] | set[str] = SCAN) -> CheckedUpload:
    """The file as a CheckedUpload if it is one of the ``allowed`` kinds and passes every check
    above; else UploadRefused with the reason in Chinese."""
    name = (filename or "").strip().lower()
    if not data:
        raise UploadRefused("请选择要上传的文件（文件是空的）")
    if len(data) > MAX_BYTES:
        raise UploadRefused(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），最大允许 {MAX_BYTES // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind == "zip" and "xlsx" in allowed:
        kind = "xlsx"
    elif kind is None and "csv" in allowed and name.endswith((".csv", ".txt")):
        kind = "csv"
    if kind not in allowed:
        raise _not_allowed(kind, name, allowed)
    if kind == "pdf":
        checked = _check_pdf(data)
    elif kind == "xlsx":
        checked = _check_xlsx(data)
    elif kind == "csv":
        checked = CheckedUpload("csv", MIME["csv"], data)
    else:
        _check_image(data, kind)
        checked = CheckedUpload(kind, MIME[kind], data)
    checked.filename = filename or ""
    return checked
