"""技术服务单 PDF (issue 5): content read back, QR code, pages, fonts, template injection.

Cases are inserted straight into the store following the case document contract (table
``cases``; dispatch.form_no set once the form is issued; the ``dispatched_case`` fixture), so
these tests do not depend on the workflow code.
"""
from __future__ import annotations

import http.server
import io
import re
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from records.core import pdf
from records.core.store import Store
from records.service_forms import document as form_document
from records.service_forms import fields as form_fields
from tests.fixtures.pdfs import decode_qr, flat, page_image, pdf_text

LABELS = ["技术服务单", "顾客单位", "联系人", "产品型号", "产品编号", "交付日期", "质保状态", "故障现象", "服务方案",
          "服务人员", "到达时间", "完成时间", "故障情况", "故障原因", "处理过程", "更换零部件名称", "数量", "免费", "有偿",
          "服务质量评价", "服务态度", "技术水平", "及时性", "总体评价", "满意", "基本满意", "不满意", "意见与建议",
          "顾客签字（盖章）", "售后服务技术人员签字", "技质部确认"]


@pytest.fixture
def fstore(data_dir) -> Store:
    return Store(data_dir)


def test_forms_for_several_cases(fstore, dispatched_case):
    cases = [
        dispatched_case(fstore),
        dispatched_case(fstore, customer="南方某舰艇支队", serial="HY3-2025-008", technicians=("tech", "tech2"),
                        delivery="2021-01-10", warranty_months=12, solution="onsite_paid"),
        dispatched_case(fstore, customer="东北某装备仓库", serial="JX200-2022-017", description="冬季低温下无法启动。" * 8),
    ]
    for case in cases:
        data = form_document.render_case_form(fstore, case)
        assert data[:5] == b"%PDF-"
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1
        text = flat(pdf_text(data))
        customer = fstore.get("customers", case["customer_id"])
        product = fstore.get("products", case["product_id"])
        form_no = case["dispatch"]["form_no"]
        assert form_no in text and flat(customer["name"]) in text and product["serial_no"] in text
        for label in LABELS:
            assert label in text, label
        assert "第1页/共1页" in text
        assert flat(case["description"]) in text
        # The QR code on the page decodes to the form number.
        assert decode_qr(page_image(data)) == [form_no]
        # pypdf reads the same text.
        assert form_no in flat(reader.pages[0].extract_text())
    # Technicians by display name; warranty decided from the delivery date when not given.
    second = flat(pdf_text(form_document.render_case_form(fstore, cases[1])))
    assert "tech-姓名、tech2-姓名" in second
    assert "已过质保期" in second and "现场服务（有偿）" in second
    assert "质保期内" in flat(pdf_text(form_document.render_case_form(fstore, cases[0])))


def test_fonts_are_the_small_cut_and_cover_every_glyph(fstore, dispatched_case):
    def font_names(data: bytes) -> list[str]:
        out = subprocess.run(["pdffonts", "-"], input=data, capture_output=True, check=True).stdout.decode()
        return [line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()]

    # Common text: only the small cut is embedded (the big collection is what made PDFs slow).
    common = form_document.render_case_form(fstore, dispatched_case(fstore))
    assert set(font_names(common)) <= {"FormCJK", "FormCJK-Bold"}
    # A rare character (outside GB2312) comes from the full Noto Sans CJK SC fallback.
    case = dispatched_case(fstore, customer="某部队第一修理所（喆堃）")
    data = form_document.render_case_form(fstore, case)
    assert {"FormCJK", "Noto-Sans-CJK-SC"} <= set(font_names(data))
    # Every character of the template and of common text is in the cut: no missing glyph.
    from fontTools.ttLib import TTFont

    paths = pdf.ensure_fonts()
    cmap = set(TTFont(paths["FormCJK-regular.ttf"]).getBestCmap())
    text = pdf_text(form_document.render_blank_form()) + pdf_text(data)
    rare = {c for c in text if not c.isspace() and ord(c) not in cmap}
    assert rare <= set("喆堃"), rare  # two name characters outside GB2312: served by the Noto fallback
    assert "喆堃" in flat(pdf_text(data))  # ... and still real glyphs with their text


def test_blank_form(fstore):
    data = form_document.render_blank_form()
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = flat(pdf_text(data))
    for label in LABELS:
        assert label in text, label
    assert not re.search(r"JF\d{4}-\d{4}", text)
    assert len(reader.pages[0].images) == 0  # no QR code without a number


def test_many_parts_two_pages_with_number_on_each(fstore, dispatched_case):
    case = dispatched_case(fstore)
    parts = [{"name": f"电源模块{i}", "spec": "DY-12", "qty": i, "note": "新件"} for i in range(1, 31)]
    data = form_document.render_case_form(fstore, case, filled={"parts": parts, "charge": "free"})
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    form_no = case["dispatch"]["form_no"]
    for i in (1, 2):
        page = flat(pdf_text(data, "-f", str(i), "-l", str(i)))
        assert form_no in page and f"第{i}页/共2页" in page
    assert "电源模块30" in flat(pdf_text(data))


def test_case_without_issued_form_has_no_pdf(fstore, dispatched_case):
    case = dispatched_case(fstore, form_no=None)
    with pytest.raises(form_fields.ServiceFormError):
        form_document.render_case_form(fstore, case)


# --- injection ---------------------------------------------------------------------------
class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def _assert_nothing_embedded(data: bytes, images: int) -> None:
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    assert not (names and "/EmbeddedFiles" in names.get_object())
    assert not reader.attachments
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            assert annot.get_object().get("/Subtype") != "/FileAttachment"
    assert sum(len(p.images) for p in reader.pages) == images
    assert b"root:x:0:0" not in data


def test_template_injection_is_text_and_fetches_nothing(fstore, recorder, dispatched_case):
    port, hits = recorder
    evil_img = '<img src="file:///etc/passwd">'
    evil_link = '<link rel="attachment" href="file:///etc/hostname">'
    url = f"http://127.0.0.1:{port}/leak"
    case = dispatched_case(fstore, customer=evil_img, caller_name="{{7*7}}",
                           description=f'{evil_link} <img src="{url}/img.png"> {url} {{{{7*7}}}}',
                           plan=f'<style>@import url("{url}/css");</style><script>alert(1)</script>')
    data = form_document.render_case_form(fstore, case)
    text = flat(pdf_text(data))
    for literal in (evil_img, evil_link, url, "{{7*7}}", "<script>alert(1)</script>"):
        assert flat(literal) in text, literal
    # {{7*7}} was not evaluated: no "49" outside the texts above (the port may contain one)
    assert "49" not in text.replace(flat(url), "").replace("0937", "")
    assert hits == []
    _assert_nothing_embedded(data, images=1)  # only the QR code


def test_restricted_fetcher_blocks_even_unescaped_html(recorder, tmp_path):
    """Defence in depth: raw markup that reached WeasyPrint still fetches nothing."""
    port, hits = recorder
    secret = tmp_path / "secret.png"
    secret.write_bytes(Path(pdf.TEMPLATES_DIR.parent / "views/static/app.css").read_bytes())
    html = f"""<html><head><link rel="stylesheet" href="service_form.css">
      <link rel="stylesheet" href="http://127.0.0.1:{port}/css">
      <link rel="attachment" href="file:///etc/hostname"></head><body>
      <p>正文</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/img.png">
      <img src="{secret.as_uri()}"><img src="../records/core/pdf.py"><a rel="attachment" href="file:///etc/hostname">x</a>
      <iframe src="http://127.0.0.1:{port}/frame"></iframe><object data="file:///etc/passwd"></object>
      <div style="background: url('http://127.0.0.1:{port}/bg')">背景</div></body></html>"""
    fetcher = pdf.make_fetcher(pdf.ensure_fonts())
    data = pdf.render_pdf(html, fetcher=fetcher)
    assert hits == []
    _assert_nothing_embedded(data, images=0)
    refused = " ".join(fetcher.refused)
    for bad in ("/etc/passwd", "/etc/hostname", f"127.0.0.1:{port}/img.png", f"127.0.0.1:{port}/css",
                f"127.0.0.1:{port}/bg", "secret.png", "records/core/pdf.py"):
        assert bad in refused, bad
    assert any(u.endswith("service_form.css") for u in fetcher.served)
    assert any(u.endswith("fonts.css") for u in fetcher.served)  # the @import: inside pdf_templates/


def test_fetcher_rules(tmp_path):
    fetcher = pdf.make_fetcher({"FormCJK-regular.ttf": tmp_path / "f.ttf"})
    (tmp_path / "f.ttf").write_bytes(b"font")
    ok = fetcher((pdf.TEMPLATES_DIR / "service_form.css").as_uri())
    assert b"@page" in ok.read()
    assert fetcher((pdf.FONT_VIRTUAL_DIR / "FormCJK-regular.ttf").as_uri()).read() == b"font"
    assert fetcher("data:text/plain;base64,5rWL6K+V").read() == "测试".encode()
    link = pdf.TEMPLATES_DIR / "x-link-test.css"
    for url in ("file:///etc/passwd", "http://127.0.0.1:1/", "https://example.com/a.css", "ftp://x/y",
                pdf.TEMPLATES_DIR.as_uri() + "/../records/core/pdf.py", "file://otherhost/etc/passwd",
                (pdf.FONT_VIRTUAL_DIR / "other.ttf").as_uri(), link.as_uri(), "javascript:alert(1)"):
        with pytest.raises(pdf.FetchRefused):
            fetcher(url)


# --- the font cache ------------------------------------------------------------------------
def test_font_cache_defaults_to_the_project_folder(monkeypatch):
    monkeypatch.delenv("AFTERSALES_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/nonexistent-per-user-cache")
    assert pdf.cache_dir() == pdf.PROJECT_DIR / ".cache" / "fonts"
    monkeypatch.setenv("AFTERSALES_CACHE", "/srv/aftersales-fonts")
    assert pdf.cache_dir() == Path("/srv/aftersales-fonts")
    # git-ignored: the cache never lands in a commit
    assert ".cache/" in (pdf.PROJECT_DIR / ".gitignore").read_text().splitlines()


def test_setup_step_builds_the_fonts_where_every_account_finds_them(tmp_path):
    """``python -m records.core.pdf`` (scripts/setup.sh) fills <project>/.cache/fonts; another
    account (another HOME) then uses those files and builds nothing of its own."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("AFTERSALES_CACHE", "XDG_CACHE_HOME")}
    out = subprocess.run([sys.executable, "-m", "records.core.pdf"], cwd=pdf.PROJECT_DIR, capture_output=True,
                         text=True, env={**env, "HOME": str(tmp_path / "setup-home")}, timeout=300, check=True)
    built = sorted(Path(line.split(": ", 1)[1].rsplit(" (", 1)[0]) for line in out.stdout.splitlines())
    assert len(built) == 2 and all(p.parent == pdf.PROJECT_DIR / ".cache" / "fonts" for p in built), out.stdout
    assert all(p.stat().st_mode & 0o004 for p in built)  # readable by the service account too

    service_home = tmp_path / "service-home"
    code = ("import sys, time; from records.core import pdf; t = time.monotonic(); p = pdf.ensure_fonts(); "
            "print(sorted(str(v) for v in p.values())); print(time.monotonic() - t)")
    run = subprocess.run([sys.executable, "-c", code], cwd=pdf.PROJECT_DIR, capture_output=True, text=True,
                         env={**env, "HOME": str(service_home)}, timeout=300, check=True)
    paths, seconds = run.stdout.splitlines()
    assert paths == str(sorted(str(p) for p in built))
    assert float(seconds) < 5  # found, not built (a build takes half a minute)
    assert not (service_home / ".cache").exists()
