"""PDF rendering with WeasyPrint: a locked-down URL fetcher, escaped templates, fast CJK fonts.

Safety: WeasyPrint fetches every ``url()``, ``<img src>`` and ``<link href>`` through the
fetcher given to it. ``RestrictedFetcher`` serves only files inside ``pdf_templates/`` (after
resolving symlinks and ``..``), the generated font files under their virtual names, and
``data:`` URLs; everything else (``file:`` elsewhere, ``http(s):``, ``ftp:``...) raises, so
WeasyPrint logs it and renders without the resource. The Jinja environment autoescapes
whatever the template's file ending.

Speed: WeasyPrint embeds a subset of every font it uses. Subsetting the system's Noto Sans
CJK collection (19 MB, 65,000 glyphs, CFF outlines) costs seconds per PDF (about 4–6 s with
the fontTools fallback, which WeasyPrint uses when libharfbuzz-subset is missing). So once
per machine we cut two small TrueType fonts out of Noto Sans CJK SC, cached outside the data
folder, in the project's own ``.cache/fonts`` (git-ignored; ``AFTERSALES_CACHE`` overrides it).
The project's set-up (``scripts/setup.sh`` runs ``python -m records.core.pdf``) builds them there, so
every account that runs the app, the web service's included, finds them ready instead of
building its own copy in a per-user folder during its first PDF request (about half a minute):

* ``FormCJK`` regular: GB2312 (6,763 hanzi, symbols), ASCII, Latin-1, CJK punctuation,
  full-width forms;
* ``FormCJK`` bold: the characters of the PDF templates plus ASCII (the labels and titles).

Outlines are converted from CFF to TrueType (glyf) and the layout and vertical tables dropped,
because fontTools subsets such a font several times faster (HarfBuzz is fast either way). The full Noto Sans CJK SC stays in the CSS font list as the fallback
for a rare character outside the cut, so no glyph is ever missing.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import markupsafe

from . import glyphs
from .files import FileLock, atomic_write

LOG = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_DIR / "pdf_templates"
FONT_VIRTUAL_DIR = TEMPLATES_DIR / "fonts"  # font URLs in the CSS point here; served from the cache
FONT_BUILD_VERSION = 3
NOTO_CANDIDATES = {
    "regular": ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"],
    "bold": ["/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"],
}
NOTO_FAMILY = "Noto Sans CJK SC"
FAMILY = "FormCJK"


class FetchRefused(ValueError):
    """A PDF template asked for a resource outside what it may use."""


# --- characters no font here can draw (emoji from a tablet keyboard): records/core/glyphs.py ----
EMOJI_TEXT = glyphs.EMOJI_TEXT


def printable(text: str) -> str:
    """``text`` as the PDF fonts can draw it (``glyphs.printable`` with Noto Sans CJK SC's characters)."""
    source = _source("regular")
    return glyphs.printable(text, glyphs.font_chars(str(source), NOTO_FAMILY) if source else frozenset())


def _finalize(value):
    """Every ``{{ … }}`` of a PDF template goes through ``printable`` (markup keeps its type)."""
    if isinstance(value, str) and not value.isascii():
        fixed = printable(value)
        if fixed != value:
            return markupsafe.Markup(fixed) if isinstance(value, markupsafe.Markup) else fixed
    return value


# --- templates ---------------------------------------------------------------------------
_env: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The Jinja environment for PDF templates: autoescape on for every file ending."""
    global _env
    if _env is None:
        _env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            finalize=_finalize,
        )
    return _env


def render_html(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)


# --- the URL fetcher ---------------------------------------------------------------------
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class RestrictedFetcher(URLFetcher):
        """Only the template's own assets, the generated fonts and ``data:`` URLs."""

        def __init__(self, fonts: dict[str, Path] | None = None):
            super().__init__(allowed_protocols={"file", "data"}, allow_redirects=False, timeout=1)
            self.fonts = {name: Path(p) for name, p in (fonts or {}).items()}
            self.refused: list[str] = []
            self.served: list[str] = []

        def fetch(self, url, headers=None):
            try:
                return self._fetch(url)
            except FetchRefused:
                self.refused.append(url)
                LOG.warning("PDF 模板请求了不允许的资源，已拒绝：%s", url[:200])
                raise

        def _fetch(self, url: str):
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme == "data":
                self.served.append("data:")
                return super().fetch(url)
            if scheme != "file":
                raise FetchRefused(f"不允许的地址：{url[:100]}")
            parts = urlsplit(url)
            if parts.netloc not in ("", "localhost") or parts.query:
                raise FetchRefused(f"不允许的地址：{url[:100]}")
            raw_path = Path(unquote(parts.path))
            # Generated fonts are named by their virtual place under pdf_templates/fonts/.
            if raw_path.parent == FONT_VIRTUAL_DIR and raw_path.name in self.fonts:
                real = self.fonts[raw_path.name]
                self.served.append(url)
                return URLFetcherResponse(url, real.read_bytes(), {"Content-Type": "font/ttf"})
            try:
                resolved = raw_path.resolve(strict=True)
            except (OSError, RuntimeError):
                raise FetchRefused(f"文件不存在：{url[:100]}") from None
            if not resolved.is_relative_to(TEMPLATES_DIR) or not resolved.is_file():
                raise FetchRefused(f"不允许读取模板目录以外的文件：{url[:100]}")
            mime = {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml",
                    ".ttf": "font/ttf", ".otf": "font/otf"}.get(resolved.suffix.lower(), "application/octet-stream")
            self.served.append(url)
            return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {"Content-Type": mime})

    return RestrictedFetcher


def make_fetcher(fonts: dict[str, Path] | None = None):
    return _fetcher_class()(fonts)


# --- the fonts ---------------------------------------------------------------------------
DEFAULT_CACHE_DIR = PROJECT_DIR / ".cache" / "fonts"


def cache_dir() -> Path:
    """Where the generated fonts live: ``AFTERSALES_CACHE``, else ``<project>/.cache/fonts``.

    Not per user: the set-up builds the fonts once for every account that runs the app.
    """
    env = os.environ.get("AFTERSALES_CACHE")
    if env:
        return Path(env)
    return DEFAULT_CACHE_DIR


def _fallback_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"aftersales-cache-{os.getuid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _gb2312_chars() -> set[int]:
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


def _template_chars() -> set[int]:
    chars: set[int] = set()
    for path in sorted(TEMPLATES_DIR.glob("*")):
        if path.suffix in (".html", ".css", ".txt"):
            chars.update(ord(c) for c in path.read_text(encoding="utf-8") if ord(c) >= 0x20)
    return chars


def _charsets() -> dict[str, set[int]]:
    ascii_ = set(range(0x20, 0x7F))
    common = (ascii_ | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070)) | set(range(0x2190, 0x2200))
              | set(range(0x2460, 0x2500)) | set(range(0x25A0, 0x2700)) | set(range(0x3000, 0x3040))
              | set(range(0xFF00, 0xFFF0)) | {0x2116, 0x2103, 0x2030, 0x00B7, 0x2014, 0x2026, 0x221A})
    tpl = _template_chars()  # only in the bold cut: editing a template rebuilds just that one
    return {"regular": _gb2312_chars() | common, "bold": ascii_ | tpl | {0x3000, 0xFF1A, 0xFF08, 0xFF09}}


def _source(kind: str) -> Path | None:
    for cand in NOTO_CANDIDATES[kind]:
        if os.path.exists(cand):
            return Path(cand)
    return None


def _font_key(kind: str, source: Path, chars: set[int]) -> str:
    st = source.stat()
    h = hashlib.sha256(f"{FONT_BUILD_VERSION}|{source}|{st.st_size}|{st.st_mtime_ns}|".encode())
    h.update(",".join(map(str, sorted(chars))).encode())
    return h.hexdigest()[:16]


def _build_font(source: Path, chars: set[int], bold: bool) -> bytes:
    """Cut ``chars`` out of Noto Sans CJK SC in ``source`` and return a TrueType font."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTCollection, TTFont, newTable

    coll = TTCollection(str(source), lazy=True)
    index = next((i for i, f in enumerate(coll.fonts) if f["name"].getDebugName(1) == NOTO_FAMILY), 0)
    font = TTFont(str(source), fontNumber=index)
    opts = subset.Options(hinting=False, desubroutinize=True, notdef_outline=True, layout_features=[],
                          name_IDs=[0, 1, 2, 3, 4, 5, 6], name_languages=[0x409], glyph_names=False)
    # No layout or vertical-writing tables: horizontal Chinese needs neither, and fontTools
    # (WeasyPrint's subsetter without libharfbuzz-subset) spends most of its time on them.
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "vhea", "vmtx", "VORG", "DSIG"]
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=chars)
    sub.subset(font)

    # CFF -> glyf (quadratic curves): much faster for fontTools to subset again per PDF.
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxPoints",
                 "maxContours", "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    del font["CFF "]
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0
    font.sfntVersion = "\x00\x01\x00\x00"
    # A family name of its own, so fontconfig never mistakes the cut for the full font.
    style = "Bold" if bold else "Regular"
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 3, 4, 6, 16, 17):
            name.removeNames(nameID=rec.nameID)
    name.setName(FAMILY, 1, 3, 1, 0x409)
    name.setName(style, 2, 3, 1, 0x409)
    name.setName(f"{FAMILY}-{style}-subset-of-NotoSansCJKSC", 3, 3, 1, 0x409)
    name.setName(f"{FAMILY} {style}", 4, 3, 1, 0x409)
    name.setName(f"{FAMILY}-{style}", 6, 3, 1, 0x409)
    font["OS/2"].usWeightClass = 700 if bold else 400
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


_font_lock = threading.Lock()
_font_paths: dict[str, Path] | None = None


def ensure_fonts(directory: Path | None = None) -> dict[str, Path]:
    """The generated fonts {virtual file name: cached path}, building them on first use.

    Returns {} when the system has no Noto Sans CJK (the CSS falls back to system fonts).
    The build (about half a minute) happens once per machine and font version; several
    processes building at once wait on a file lock and reuse the first one's result.
    """
    global _font_paths
    if _font_paths is not None and directory is None and all(p.exists() for p in _font_paths.values()):
        return _font_paths
    with _font_lock:
        folder = Path(directory) if directory else cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = _fallback_dir()
        result: dict[str, Path] = {}
        charsets = None
        for kind in ("regular", "bold"):
            source = _source(kind)
            if source is None:
                LOG.warning("未找到 Noto Sans CJK 字体，PDF 将使用系统字体（较慢）")
                return {}
            if charsets is None:
                charsets = _charsets()
            key = _font_key(kind, source, charsets[kind])
            name = f"{FAMILY}-{kind}-{key}.ttf"
            path = folder / name
            if not path.exists() and not os.access(folder, os.W_OK):
                # The shared cache is another account's and lacks this cut: build a private one.
                LOG.warning("字体缓存目录 %s 不可写，改用临时目录", folder)
                folder = _fallback_dir()
                path = folder / name
            if not path.exists():
                with FileLock(folder / ".fonts.lock").hold():
                    if not path.exists():
                        LOG.info("生成 PDF 字体子集 %s（仅首次）", path.name)
                        atomic_write(path, _build_font(source, charsets[kind], kind == "bold"))
                        os.chmod(path, 0o644)  # not secret: every account running the app reads it
                        for old in folder.glob(f"{FAMILY}-{kind}-*.ttf"):  # earlier cuts
                            if old != path:
                                old.unlink(missing_ok=True)
            result[f"{FAMILY}-{kind}.ttf"] = path
        if directory is None:
            _font_paths = result
        return result


# --- rendering ---------------------------------------------------------------------------
def render_pdf(html: str, fonts: dict[str, Path] | None = None, fetcher=None) -> bytes:
    """Render ``html`` (already escaped) to PDF bytes with the restricted fetcher.

    The base URL is pdf_templates/, so the template links its CSS and fonts relatively.
    """
    import weasyprint

    if fonts is None:
        fonts = ensure_fonts()
    fetcher = fetcher or make_fetcher(fonts)
    doc = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher)
    return doc.write_pdf(attachments=None, pdf_forms=False)


def render_template_pdf(template: str, context: dict, fetcher=None) -> bytes:
    return render_pdf(render_html(template, context), fetcher=fetcher)


if __name__ == "__main__":  # python -m records.core.pdf [DIR] → build the font cache now (set-up step)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its INFO lists every glyph
    paths = ensure_fonts(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    for name, p in paths.items():
        print(f"{name}: {p} ({p.stat().st_size // 1024} KB)")
