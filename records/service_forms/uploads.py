"""What the 技术服务单's uploads carry: its QR code (6.2.6), and the signatures drawn on the tablet.

``read_qr`` finds QR codes with zxing-cpp in an image, or in a PDF's embedded images and in its
first pages rendered by pdftoppm (at most ``MAX_RENDER_PIXELS`` a page, cropped there whatever
the page claims); any failure of the reader counts as "no QR code found", and the user then
confirms the number by hand. ``match_form_no`` ties a scan to its form. The file itself was
checked first by ``records.core.uploads.check_upload`` (pages larger than A3 never get here).
"""
from __future__ import annotations

import base64
import binascii
import io
import logging
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

from records.core.uploads import MAX_PIXELS, MAX_RENDER_PIXELS, CheckedUpload, UploadRefused, check_upload

LOG = logging.getLogger(__name__)

QR_PAGES = 2  # the form is one or two pages
QR_DPI = 150


# --- QR codes ---------------------------------------------------------------------------
def _qr_in_image(image) -> list[str]:
    import zxingcpp

    try:
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except Exception as exc:  # a decoder error is "no QR", never a crash
        LOG.info("zxing failed: %r", exc)
        return []
    return [r.text for r in results if r.text]


def qr_in_image_bytes(data: bytes) -> list[str]:
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > MAX_PIXELS:
            return []
        im = ImageOps.exif_transpose(im)  # phone photos
        found = _qr_in_image(im.convert("L"))
        if not found and max(im.size) > 2500:  # a very large photo: try it smaller
            small = im.convert("L")
            small.thumbnail((2000, 2000))
            found = _qr_in_image(small)
    return found


def _pdf_embedded_images(data: bytes, pages: int) -> list[bytes]:
    from pypdf import PdfReader

    out = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        for page in reader.pages[:pages]:
            for img in page.images:
                out.append(img.data)
    except Exception as exc:
        LOG.info("cannot extract PDF images: %r", exc)
    return out


def render_dpi(page_sizes: list[tuple[float, float]], dpi: int = QR_DPI) -> int:
    """``dpi``, or less so that the largest of these pages (points) stays under MAX_RENDER_PIXELS."""
    area = max((w * h / 72 / 72 for w, h in page_sizes), default=0.0)  # square inches
    if area <= 0:
        return dpi
    return max(1, min(dpi, int(math.sqrt(MAX_RENDER_PIXELS / area))))


def _qr_in_rendered_pages(data: bytes, pages: int, dpi: int = QR_DPI) -> list[str]:
    """Render the first pages with pdftoppm (grey, ``dpi``) and read QR codes on them; the
    picture is cropped to MAX_RENDER_PIXELS whatever size poppler finds for the page."""
    from PIL import Image

    exe = shutil.which("pdftoppm")
    if exe is None:
        LOG.warning("pdftoppm 未安装，无法从 PDF 页面识别二维码")
        return []
    with tempfile.TemporaryDirectory(prefix="aftersales-qr-") as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(data)
        try:
            side = str(int(math.sqrt(MAX_RENDER_PIXELS)))
            subprocess.run([exe, "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", str(pages), "-x", "0", "-y", "0",
                            "-W", side, "-H", side, str(src), str(Path(tmp) / "p")],
                           check=True, timeout=30, capture_output=True)
        except (subprocess.SubprocessError, OSError) as exc:
            LOG.info("pdftoppm failed: %r", exc)
        for png in sorted(Path(tmp).glob("p*.png")):
            with Image.open(png) as im:
                found = _qr_in_image(im.convert("L"))
            if found:
                return found
    return []


def read_qr(checked: CheckedUpload) -> list[str]:
    """Texts of the QR codes found (first pages of a PDF; the image itself), in order found;
    [] when none is found or the reader fails in any way."""
    try:
        return _read_qr(checked)
    except Exception as exc:  # MemoryError too: the user confirms the number by hand
        LOG.warning("QR reader failed on a %s upload: %r", checked.kind, exc)
        return []


def _read_qr(checked: CheckedUpload) -> list[str]:
    if checked.kind in ("jpeg", "png"):
        return qr_in_image_bytes(checked.data)
    pages = min(checked.pages, QR_PAGES)
    for raw in _pdf_embedded_images(checked.data, pages):  # a scanner's PDF: one image a page
        try:
            found = qr_in_image_bytes(raw)
        except Exception:
            continue
        if found:
            return found
    return _qr_in_rendered_pages(checked.data, pages, render_dpi(checked.page_sizes[:pages]))


def match_form_no(checked: CheckedUpload, form_no: str, confirmed_no: str = "") -> str:
    """How the scan of a signed form (6.2.6) matches the form ``form_no``: "qr" or "confirmed";
    else UploadRefused.

    A QR code naming another form is refused even if the user typed the right number.
    """
    codes = read_qr(checked)
    if form_no in codes:
        return "qr"
    if codes:
        raise UploadRefused(f"扫描件上的二维码是 {codes[0][:40]}，与本案例的技术服务单编号 {form_no} 不符，请检查是否上传错了", "file")
    if confirmed_no.strip().upper() == form_no.upper():
        return "confirmed"
    if confirmed_no.strip():
        raise UploadRefused(f"输入的编号与本案例的技术服务单编号 {form_no} 不符", "confirm_no")
    raise UploadRefused("未能识别扫描件上的二维码。请核对纸质表单上的编号，在“确认编号”中输入后再上传", "confirm_no")


# --- signatures drawn on the tablet -------------------------------------------------------
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
MAX_SIGNATURE_SIDE = 3000


def signature_png(data_url: str | None, label: str, required: bool, field: str = "customer_signature") -> bytes | None:
    """A signature from the canvas (``data:image/png;base64,...``) as a clean, re-encoded PNG.

    Only a real PNG is accepted (``check_upload``); it is decoded with Pillow, flattened on white, cropped to
    the ink with a margin and encoded afresh, so nothing but pixels reaches the PDF. An empty
    canvas counts as no signature.
    """
    from PIL import Image

    data_url = (data_url or "").strip()
    if not data_url:
        if required:
            raise UploadRefused(f"请在签名框内签名（{label}）", field)
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > MAX_SIGNATURE_BYTES * 4 // 3 + len(prefix) + 4:
        raise UploadRefused(f"{label}格式无效，请清除后重新签名", field)
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused(f"{label}格式无效，请清除后重新签名", field) from None
    try:  # the one upload checker first: a PNG by content, within the pixel cap, every chunk sound
        check_upload(raw, "signature.png", {"png"})
    except UploadRefused:
        raise UploadRefused(f"{label}格式无效，请清除后重新签名", field) from None
    try:
        with Image.open(io.BytesIO(raw)) as im:
            if max(im.size) > MAX_SIGNATURE_SIDE:
                raise UploadRefused(f"{label}图像过大", field)
            im.load()
            rgba = im.convert("RGBA")
    except UploadRefused:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadRefused(f"{label}图像无法读取，请清除后重新签名", field) from None
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("L")
    ink = flat.point(lambda v: 255 if v < 200 else 0).getbbox()
    if ink is None:
        if required:
            raise UploadRefused(f"签名框是空的，请签名（{label}）", field)
        return None
    pad = 12
    box = (max(ink[0] - pad, 0), max(ink[1] - pad, 0), min(ink[2] + pad, flat.width), min(ink[3] + pad, flat.height))
    out = io.BytesIO()
    flat.crop(box).save(out, format="PNG", optimize=True)
    return out.getvalue()
