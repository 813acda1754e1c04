"""The one upload checker (records/core/uploads.py, issue 11 "Hostile files and input"): zip bombs
in the product list import, huge-page PDFs, PDFs with JavaScript/Launch actions, image bombs and
HEIC photos. The hostile files are built here, byte by byte where a library would not write them."""
from __future__ import annotations

import codecs
import io
import struct
import time
import tracemalloc
import zipfile
import zlib

import pytest
from openpyxl import Workbook
from PIL import Image
from pypdf import PdfWriter

from records.catalog import customers, import_parser, product_import, products
from records.catalog.import_parser import ImportFileError
from records.core import uploads
from records.core.uploads import SCAN, SPREADSHEET, CheckedUpload, UploadRefused, check_upload
from records.service_forms import archive as form_archive
from records.service_forms import uploads as form_uploads

PT_PER_MM = 72 / 25.4


# --- building hostile files ---------------------------------------------------------------------
def raw_pdf(w: float = 595, h: float = 842, catalog: str = "", page: str = "", extra: tuple[str, ...] = (),
            unlisted: str = "") -> bytes:
    """A one-page PDF written by hand: objects 1 catalog, 2 pages, 3 page, 4.. ``extra``;
    ``unlisted`` is an object in the file that the cross-reference table does not list."""
    objs = [f"<< /Type /Catalog /Pages 2 0 R {catalog}>>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] {page}>>", *extra]
    out, offsets = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    if unlisted:
        out += f"{len(objs) + 1} 0 obj\n{unlisted}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def stream(body: bytes) -> str:
    return f"<< /Length {len(body)} >>\nstream\n" + body.decode("latin-1") + "\nendstream"


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` pixels in a few dozen bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


HEADER = ["顾客单位", "型号", "产品名称", "产品编号", "交付日期", "质保期（月）"]


def _cell(col: int, row: int, text: str) -> str:
    return f'<c r="{chr(65 + col)}{row}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx_with_sheet(rows_xml: str, header: list[str] = HEADER, level: int = 1, filler_mb: int = 0) -> bytes:
    """A real workbook (openpyxl's) whose first sheet is ``header`` then ``rows_xml`` (raw <row>s),
    then (``filler_mb``) a row with one cell of that many megabytes of "A", written in pieces."""
    wb = Workbook()
    wb.active.append(["x"])
    buf = io.BytesIO()
    wb.save(buf)
    head = "<row r=\"1\">" + "".join(_cell(i, 1, t) for i, t in enumerate(header)) + "</row>"
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             f'spreadsheetml/2006/main"><sheetData>{head}{rows_xml}').encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
                continue
            with dst.open(info.filename, "w") as f:
                f.write(sheet)
                if filler_mb:
                    f.write(b'<row r="999"><c r="A999" t="inlineStr"><is><t>')
                    for _ in range(filler_mb):
                        f.write(b"A" * (1024 * 1024))
                    f.write(b"</t></is></c></row>")
                f.write(b"</sheetData></worksheet>")
    return out.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """The zip with ``member``'s uncompressed size in the central directory set to ``size``."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack("<H", out[at + 28:at + 30])[0]
        if out[at + 46:at + 46 + name_len].decode() == member:
            out[at + 24:at + 28] = struct.pack("<I", size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 4)
    raise AssertionError(member)


def timed_post(client, url: str, data: bytes, filename: str, memory: bool = False, **fields):
    """(response, seconds, peak Python memory in MB if ``memory``) of one upload through the real view."""
    if memory:
        tracemalloc.start()
    t0 = time.perf_counter()
    try:
        resp = client.post(url, data={"file": (io.BytesIO(data), filename), **fields},
                           content_type="multipart/form-data")
        return resp, time.perf_counter() - t0, tracemalloc.get_traced_memory()[1] / 1e6 if memory else 0.0
    finally:
        tracemalloc.stop()


QUICK = 10  # seconds: generous for a loaded CI machine; today these took 36 s or minutes, or ran out of memory


# --- the public API -------------------------------------------------------------------------------
def test_check_upload_tells_the_kind_by_content():
    pdf = raw_pdf()
    checked = check_upload(pdf, "scan.jpg", SCAN)  # the name does not matter
    assert isinstance(checked, CheckedUpload)
    assert (checked.kind, checked.mime, checked.ext, checked.pages, checked.data) == (
        "pdf", "application/pdf", "pdf", 1, pdf)
    assert checked.page_sizes == [(595.0, 842.0)] and checked.filename == "scan.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buf, format="PNG")
    assert check_upload(buf.getvalue(), "a.pdf").kind == "png"
    xlsx = xlsx_with_sheet("")
    assert check_upload(xlsx, "x.csv", SPREADSHEET).kind == "xlsx"
    assert check_upload("顾客单位,型号\n".encode(), "台账.csv", SPREADSHEET).kind == "csv"
    with pytest.raises(UploadRefused, match="只接受 PDF、JPEG 或 PNG") as refused:
        check_upload(xlsx, "x.pdf", SCAN)
    assert refused.value.field == "file"
    with pytest.raises(UploadRefused, match="只接受 .xlsx 或 .csv"):
        check_upload(pdf, "x.pdf", SPREADSHEET)


def test_shorten_cuts_long_values():
    assert uploads.shorten("短") == "短" and uploads.shorten(None) == ""
    assert uploads.shorten("长" * 500) == "长" * 50 + "…"


# --- 1. the zip bomb in the product list import -----------------------------------------------------
@pytest.fixture
def editor(client, auth, store):
    customers.create_customer(store, {"name": "西北铁路局", "distance_km": 1500}, "test")
    auth.login("engineer")
    return client


def test_zip_bomb_is_refused_before_openpyxl_opens_it(editor, store):
    # One cell of 60 MB: a 60 KB file. Today openpyxl inflated it (and the error page repeated it).
    bomb = xlsx_with_sheet("", filler_mb=60)
    assert len(bomb) < 300_000
    resp, seconds, peak_mb = timed_post(editor, "/products/import/", bomb, "台账.xlsx", memory=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "解压后过大" in page and "超过 50 MB" in page
    assert len(resp.data) < 100_000 and seconds < QUICK and peak_mb < 20, (len(resp.data), seconds, peak_mb)
    assert store.count(products.TABLE) == 0


@pytest.mark.parametrize("name, make, message", [
    ("declares 4 GB", lambda: declare_size(xlsx_with_sheet(""), "xl/styles.xml", 0xFFFF0000), "解压后过大"),
    ("lies: declares 1 KB, inflates to 2 MB",
     lambda: declare_size(xlsx_with_sheet("<row r=\"2\">" + _cell(0, 2, "B" * 2_000_000) + "</row>"),
                          "xl/worksheets/sheet1.xml", 1024), "Excel 文件已损坏"),
    ("too many members", lambda: _many_members(1500), "内部文件过多"),
    # 4 million empty cells in 20 KB: openpyxl would parse each (minutes); 50,000 real rows are 2.3 million tags
    ("too many tags", lambda: xlsx_with_sheet('<row r="2">' + "<c/>" * 4_000_001 + "</row>"), "内容过多"),
])
def test_zip_members_and_sizes_are_checked(name, make, message):
    with pytest.raises(ImportFileError, match=message):
        import_parser.parse("台账.xlsx", make())


def _many_members(n: int) -> bytes:
    buf = io.BytesIO(xlsx_with_sheet(""))
    with zipfile.ZipFile(buf, "a") as z:
        for i in range(n):
            z.writestr(f"xl/media/{i}.txt", b"")
    return buf.getvalue()


def test_a_row_number_far_below_the_sheet_is_read_quickly(editor, store):
    # <row r="50000000">: openpyxl pads every missing row; today that meant 50 million rows read
    # (minutes). No spreadsheet has a row below 1048576: reading stops there.
    data = xlsx_with_sheet('<row r="50000000">' + _cell(0, 50000000, "x") + "</row>")
    t0 = time.perf_counter()
    resp = editor.post("/products/import/", data={"file": (io.BytesIO(data), "台账.xlsx")},
                       content_type="multipart/form-data")
    assert "没有数据行" in resp.get_data(as_text=True) and time.perf_counter() - t0 < QUICK
    assert store.count(products.TABLE) == 0


def test_rows_over_the_cap_are_refused():
    rows = ["x,M,N,S,2024-01-01,12"] * (uploads.MAX_SHEET_ROWS + 1)
    with pytest.raises(ImportFileError, match="超过 50000 行"):
        import_parser.parse("台账.csv", "\n".join([",".join(HEADER), *rows]).encode())


def test_long_cells_are_cut_and_the_errors_shown_are_bounded(editor, store):
    # 300 rows whose unit, model and name are 2,000 characters each, beside a column whose name
    # is as long: today the error page repeated them all (a 101 KB file gave a 104 MB page).
    long = "长" * 2000

    def row(r: int) -> str:
        cells = [long, long, long, f"S-{r}", "2024-01-02", "12", "x"]
        return f'<row r="{r}">' + "".join(_cell(c, r, t) for c, t in enumerate(cells)) + "</row>"
    data = xlsx_with_sheet("".join(row(r) for r in range(2, 302)), header=[*HEADER, "备" * 2000])
    resp, seconds, _ = timed_post(editor, "/products/import/", data, "台账.xlsx")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and len(resp.data) < 300_000, len(resp.data)
    assert "内容超过 1000 个字" in page and "长" * 51 not in page and "备" * 50 + "…" in page
    table = page[page.index('id="import-errors"'):]
    table = table[:table.index("</table>")]
    assert "文件中有 900 处错误" in page and "下表只列出前 200 处错误" in page
    assert table.count("<tr><td>") == uploads.MAX_ERRORS_SHOWN
    assert store.count(products.TABLE) == 0
    parsed = import_parser.parse("台账.xlsx", data)
    assert {len(r.values[f]) for r in parsed for f in ("customer", "model", "name")} == {uploads.MAX_CELL_CHARS + 1}
    assert parsed.ignored == ["备" * 50 + "…"]


def test_a_customer_name_is_cut_in_its_message(store):
    data = "\r\n".join([",".join(HEADER), ",".join(["某" * 900, "M", "N", "S-1", "2024-01-02", "12"])]).encode()
    result = product_import.import_products(store, "a.csv", data, "test")
    [err] = result.errors
    assert err.reason.startswith("顾客单位不存在：" + "某" * 50 + "…") and result.error_count == 1


def test_utf16_text_from_excel_is_still_a_table():
    # Excel's 「Unicode 文本」 is UTF-16 with a BOM: NUL bytes, yet text, not a binary file.
    text = "\r\n".join(["\t".join(HEADER), "\t".join(["西北铁路局", "M", "N", "S-1", "2024-01-02", "12"])])
    parsed = import_parser.parse("台账.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert [r.values["customer"] for r in parsed] == ["西北铁路局"]


# --- 2. the huge-page PDF scan --------------------------------------------------------------------
@pytest.fixture
def signer(client, auth, store, dispatched_case):
    case = dispatched_case(store)
    auth.login("tech")
    return client, f"/forms/case/{case['id']}/upload"


def _writer_pdf(w: float, h: float) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=w, height=h)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_a_200_inch_page_is_refused_before_rendering(signer, store):
    client, url = signer
    data = _writer_pdf(200 * 72, 200 * 72)  # ~460 bytes; today the QR search rendered it at 900 Mpx
    assert len(data) < 1000
    resp, seconds, _ = timed_post(client, url, data, "scan.pdf", confirm_no="X")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "尺寸过大" in page and "A3" in page and seconds < QUICK, seconds
    assert store.count(form_archive.TABLE) == 0


A3 = (297 * PT_PER_MM, 420 * PT_PER_MM)


@pytest.mark.parametrize("w, h, ok", [
    (595, 842, True),  # A4
    (*A3, True), (A3[1], A3[0], True),  # A3 both ways
    (A3[0] * 1.02, A3[1] * 1.02, True),  # a scanner's rounding
    (792, 1224, True),  # tabloid, 11 × 17 in
    (A3[0] * 1.05, A3[1], False), (A3[0], A3[1] * 1.05, False),
    (594 * PT_PER_MM, 841 * PT_PER_MM, False),  # A1
    (200 * 72, 200 * 72, False),
])
def test_pages_larger_than_a3_are_refused(w, h, ok):
    data = raw_pdf(w, h)
    if ok:
        assert check_upload(data, "a.pdf").page_sizes == [(pytest.approx(w, abs=0.01), pytest.approx(h, abs=0.01))]
    else:
        with pytest.raises(UploadRefused, match="尺寸过大"):
            check_upload(data, "a.pdf")


def test_user_unit_counts_in_the_page_size():
    with pytest.raises(UploadRefused, match="尺寸过大"):
        check_upload(raw_pdf(595, 842, page="/UserUnit 10 "), "a.pdf")


def test_rendering_keeps_under_the_pixel_cap():
    assert form_uploads.render_dpi([(595, 842)]) == form_uploads.QR_DPI
    huge = (200 * 72, 200 * 72)
    dpi = form_uploads.render_dpi([huge])
    assert (200 * dpi) ** 2 <= uploads.MAX_RENDER_PIXELS


@pytest.mark.parametrize("kind, data", [
    ("png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
    ("jpeg", b"\xff\xd8\xff" + b"\x00" * 100),
    ("pdf", b"%PDF-1.7\n" + b"\x00" * 100),
])
def test_any_failure_of_the_qr_reader_is_no_qr_code(kind, data):
    assert form_uploads.read_qr(CheckedUpload(kind, uploads.MIME[kind], data)) == []


# --- 3. PDFs with JavaScript or Launch actions ---------------------------------------------------------
JS = "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
LAUNCH = "<< /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) >>"


@pytest.mark.parametrize("name, pdf, found", [
    ("OpenAction", lambda: raw_pdf(catalog=f"/OpenAction {JS} "), "脚本"),
    ("OpenAction by reference", lambda: raw_pdf(catalog="/OpenAction 4 0 R ", extra=(JS,)), "脚本"),
    ("names tree", lambda: raw_pdf(catalog="/Names << /JavaScript 4 0 R >> ",
                                   extra=("<< /Names [(a) 5 0 R] >>", JS)), "脚本"),
    ("page AA", lambda: raw_pdf(page=f"/AA << /O {JS} >> "), "脚本"),
    ("annotation Launch", lambda: raw_pdf(page="/Annots [4 0 R] ", extra=(
        f"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A {LAUNCH} >>",)), "启动程序"),
    ("OpenAction Launch", lambda: raw_pdf(catalog=f"/OpenAction {LAUNCH} "), "启动程序"),
    ("escaped name", lambda: raw_pdf(catalog="/OpenAction << /S /J#61vaScript /J#53 (x) >> "), "脚本"),
    ("object the xref does not list", lambda: raw_pdf(unlisted="<< /S /Launch /F (x.exe) >>"), "启动程序"),
])
def test_pdf_with_javascript_or_launch_is_refused(name, pdf, found):
    with pytest.raises(UploadRefused, match=found):
        check_upload(pdf(), "scan.pdf")


def test_the_names_inside_a_stream_are_no_action():
    # Compressed image data holds any bytes: the byte scan skips stream bodies.
    body = b"\x00\x01/JS (x) /JavaScript /Launch\xff" * 10
    data = raw_pdf(extra=(stream(body),), page="/Resources << /XObject << /Im0 4 0 R >> >> ")
    assert check_upload(data, "scan.pdf").kind == "pdf"
    assert uploads.active_names_in_bytes(data) is None


def test_the_byte_scan_is_one_pass():
    # Many "stream" keywords and no "endstream": a regular expression would scan to the end from each.
    data = raw_pdf(unlisted="<< >>" + " stream\n" * 300_000)
    t0 = time.perf_counter()
    assert uploads.active_names_in_bytes(data) is None and time.perf_counter() - t0 < QUICK
    assert uploads.active_names_in_bytes(data + b"\n/Launch") == "Launch"


@pytest.mark.parametrize("action", [JS, LAUNCH])
def test_scan_with_an_action_is_refused_through_the_page(signer, store, action):
    client, url = signer
    data = raw_pdf(catalog=f"/OpenAction {action} ")
    resp, _, _ = timed_post(client, url, data, "scan.pdf", confirm_no="X")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "出于安全原因不能接受" in page
    assert store.count(form_archive.TABLE) == 0


# --- 4. images ---------------------------------------------------------------------------------
def test_png_decompression_bomb_is_refused_from_its_header(signer, store):
    client, url = signer
    bomb = png_header(100_000, 100_000)  # 10 gigapixels in 80 bytes
    resp, seconds, _ = timed_post(client, url, bomb, "scan.png", confirm_no="X")
    assert "图片像素过大" in resp.get_data(as_text=True) and seconds < QUICK
    assert store.count(form_archive.TABLE) == 0
    for size in ((9000, 9000), (20_000, 20_000)):  # over our cap; over Pillow's own
        with pytest.raises(UploadRefused, match="图片像素过大"):
            check_upload(png_header(*size), "a.png")


@pytest.mark.parametrize("brand", [b"heic", b"heix", b"mif1", b"avif"])
def test_heic_photo_is_refused_with_what_to_do(signer, store, brand):
    heic = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    with pytest.raises(UploadRefused, match="兼容性最佳") as refused:
        check_upload(heic, "IMG_0001.jpg")
    assert "JPEG" in str(refused.value)


def test_heic_through_the_scan_page(signer, store):
    client, url = signer
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
    resp, _, _ = timed_post(client, url, heic, "IMG_0001.HEIC", confirm_no="X")
    assert "HEIC" in resp.get_data(as_text=True) and store.count(form_archive.TABLE) == 0


def test_phone_jpeg_with_a_second_picture_is_a_jpeg():
    # Phones write MPO (a JPEG with a depth map or a preview after it): Pillow calls it "MPO".
    first, second = Image.new("RGB", (64, 48), "white"), Image.new("RGB", (32, 24), "gray")
    buf = io.BytesIO()
    first.save(buf, format="MPO", save_all=True, append_images=[second])
    assert check_upload(buf.getvalue(), "photo.jpg").kind == "jpeg"


def test_over_20_mb_is_refused():
    with pytest.raises(UploadRefused, match="最大允许 20 MB"):
        check_upload(b"\xff\xd8\xff" + b"\x00" * uploads.MAX_BYTES, "a.jpg")
