"""The generic checks of every upload: judged by content, never by name.

``check_upload`` accepts a PDF, JPEG or PNG of at most 20 MB: the magic bytes must say so
*and* the file must really open (pypdf reads every page of a PDF, at most ``MAX_PDF_PAGES``;
Pillow decodes an image fully, at most ``MAX_PIXELS``). Anything else is refused with a
Chinese message for the user, before anything is stored. What an area reads from the file
(the QR code of the 技术服务单) lives in that area (records/service_forms/uploads.py).
"""
from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass

from .errors import DomainError

LOG = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 20
MAX_PIXELS = 80_000_000  # a 600 dpi A3 scan is about 70 Mpx

MIME = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXT = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}


class UploadRefused(DomainError):
    pass


@dataclass
class CheckedFile:
    kind: str  # "pdf" | "jpeg" | "png"
    mime: str
    data: bytes
    pages: int = 1

    @property
    def ext(self) -> str:
        return EXT[self.kind]


def sniff(data: bytes) -> str | None:
    """The type by magic bytes only: "pdf", "jpeg", "png" or None."""
    if data[:4] == b"%PDF" or (b"%PDF-" in data[:1024] and data.lstrip()[:5] == b"%PDF-"):
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return None


def _open_pdf(data: bytes) -> int:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise UploadRefused("PDF 文件已加密，请上传未加密的扫描件", "file")
            n = len(reader.pages)
            if n == 0:
                raise UploadRefused("PDF 文件没有页面", "file")
            if n > MAX_PDF_PAGES:
                raise UploadRefused(f"PDF 页数过多（{n} 页），技术服务单扫描件不应超过 {MAX_PDF_PAGES} 页", "file")
            for page in reader.pages:
                page.mediabox  # noqa: B018  (touch every page: a broken page tree fails here)
                page.get_contents()
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as exc:
        LOG.info("corrupt PDF upload: %s", exc)
        raise UploadRefused("PDF 文件已损坏或无法读取，请重新扫描后上传", "file") from None
    except Exception as exc:  # pypdf raises many kinds on hostile input
        LOG.info("unreadable PDF upload: %r", exc)
        raise UploadRefused("PDF 文件已损坏或无法读取，请重新扫描后上传", "file") from None
    return n


def _open_image(data: bytes, kind: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if (im.format or "").lower() != kind:
                raise UploadRefused("图片格式与文件内容不符", "file")
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise UploadRefused("图片像素过大，请降低扫描分辨率（300 dpi 即可）", "file")
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
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        LOG.info("corrupt image upload: %s", exc)
        label = "JPEG" if kind == "jpeg" else "PNG"
        raise UploadRefused(f"{label} 图片已损坏或无法读取，请重新拍照或扫描后上传", "file") from None


def check_upload(data: bytes) -> CheckedFile:
    """Accept a PDF, JPEG or PNG of at most 20 MB that really opens; else UploadRefused."""
    if not data:
        raise UploadRefused("请选择要上传的文件（文件为空）", "file")
    if len(data) > MAX_BYTES:
        raise UploadRefused(f"文件过大（{len(data) / 1024 / 1024:.1f} MB），最大允许 20 MB", "file")
    kind = sniff(data)
    if kind is None:
        raise UploadRefused("不支持的文件类型：只接受 PDF、JPEG 或 PNG 格式的扫描件或照片（按文件内容判断，与文件名无关）", "file")
    if kind == "pdf":
        return CheckedFile(kind, MIME[kind], data, pages=_open_pdf(data))
    _open_image(data, kind)
    return CheckedFile(kind, MIME[kind], data)
