"""The tablet path in a real browser (issue 5): fill, rate, sign on the canvas, get the PDF."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from conftest import PASSWORD
from records import service_form as sf
from tests.browser_support import login
from tests.test_service_form_pdf import decode_qr, flat, make_case, pdf_text

pytestmark = pytest.mark.browser


def _draw(page, selector: str, points: list[tuple[float, float]]) -> None:
    """Mouse strokes on a canvas, points given as fractions of its size."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x0 + points[0][0] * w, y0 + points[0][1] * h)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(x0 + fx * w, y0 + fy * h, steps=8)
    page.mouse.up()


def test_tablet_fill_rate_sign_and_download(page, live_server):
    case = make_case(live_server.store, technicians=("tech",))
    form_no = case["dispatch"]["form_no"]
    login(page, live_server, "tech", PASSWORD)
    page.goto(f"/forms/case/{case['id']}/tablet")
    assert form_no in page.content()

    page.fill("#arrived_at", "2026-03-03T10:20")
    page.fill("#completed_at", "2026-03-03T15:40")
    page.fill("#fault_found", "电源模块输出电压为零")
    page.fill("#cause", "过流保护元件损坏")
    page.fill("#work_done", "更换电源模块，通电测试两小时正常")
    page.fill("#parts-0-name", "电源模块")
    page.fill("#parts-0-spec", "DY-12")
    page.fill("#parts-0-qty", "1")
    page.check("#charge-0")  # 免费
    for key, choice in (("attitude", 0), ("skill", 0), ("timeliness", 1), ("overall", 0)):
        page.check(f"#{key}-{choice}")
    page.fill("#remarks", "服务及时，态度很好")
    page.fill("#customer_signer", "陈工")

    # Submitting without a signature is refused, and the filled fields stay.
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    assert "请在签名框内签名" in page.content()
    assert page.input_value("#fault_found") == "电源模块输出电压为零"
    assert not sf.archived_versions(live_server.store, case["id"])
    page.check("#charge-0")
    for key, choice in (("attitude", 0), ("skill", 0), ("timeliness", 1), ("overall", 0)):
        page.check(f"#{key}-{choice}")

    # Sign with the mouse: a zigzag and a stroke under it (the pad takes pointer events).
    _draw(page, "#customer-pad", [(0.1, 0.7), (0.25, 0.2), (0.4, 0.75), (0.55, 0.25), (0.7, 0.7), (0.85, 0.3)])
    _draw(page, "#customer-pad", [(0.15, 0.85), (0.8, 0.85)])
    _draw(page, "#technician-pad", [(0.2, 0.5), (0.5, 0.3), (0.8, 0.6)])
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    assert page.url.endswith(f"/forms/case/{case['id']}"), page.locator(".alert, .invalid-feedback, .text-danger").all_inner_texts()
    assert "第 1 版" in page.content()

    [doc] = sf.archived_versions(live_server.store, case["id"])
    assert doc["kind"] == "tablet" and doc["uploaded_by"] == "tech"
    with page.expect_download() as dl:
        page.click(f"a[href='/forms/file/{doc['id']}']")
    data = Path(dl.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc["sha256"]

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    images = [Image.open(io.BytesIO(im.data)) for p in reader.pages for im in p.images]
    assert len(images) == 3  # QR code, customer's and technician's signatures
    qr = [im for im in images if decode_qr(_png(im)) == [form_no]]
    signatures = [im for im in images if im not in qr]
    assert len(qr) == 1 and len(signatures) == 2
    for sig in signatures:
        grey = sig.convert("L")
        dark = grey.histogram()[:128]
        dark = sum(dark)
        assert dark > 200, "the signature image holds the drawn strokes"
        assert grey.width > grey.height  # cropped to the wide strokes
    text = flat(pdf_text(data))
    for s in ("电源模块输出电压为零", "过流保护元件损坏", "DY-12", "服务及时，态度很好", "陈工", form_no, "√基本满意"):
        assert s in text, s

    assert page.watch.csp_violations() == []
    assert page.watch.errors() == []
    assert page.watch.external_requests() == []


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()
