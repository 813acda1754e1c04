"""The tablet path in a real browser (issue 5): fill, rate, sign on the canvas, get the PDF."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from records.service_forms import archive as form_archive
from tests.browser_support import draw, login, watched_page
from tests.fixtures.pdfs import decode_qr, flat, pdf_text
from tests.fixtures.users import PASSWORD, age_sessions

pytestmark = pytest.mark.browser


def test_tablet_fill_rate_sign_and_download(page, live_server, dispatched_case):
    case = dispatched_case(live_server.store, technicians=("tech",))
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
    assert not form_archive.archived_versions(live_server.store, case["id"])
    page.check("#charge-0")
    for key, choice in (("attitude", 0), ("skill", 0), ("timeliness", 1), ("overall", 0)):
        page.check(f"#{key}-{choice}")

    # Sign with the mouse: a zigzag and a stroke under it (the pad takes pointer events).
    draw(page, "#customer-pad", [(0.1, 0.7), (0.25, 0.2), (0.4, 0.75), (0.55, 0.25), (0.7, 0.7), (0.85, 0.3)])
    draw(page, "#customer-pad", [(0.15, 0.85), (0.8, 0.85)])
    draw(page, "#technician-pad", [(0.2, 0.5), (0.5, 0.3), (0.8, 0.6)])
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    assert page.url.endswith(f"/forms/case/{case['id']}"), page.locator(".alert, .invalid-feedback, .text-danger").all_inner_texts()
    assert "第 1 版" in page.content()

    [doc] = form_archive.archived_versions(live_server.store, case["id"])
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


# --- touch: a finger on a tablet --------------------------------------------------------------
@pytest.fixture
def touch_page(browser, live_server):
    """A tablet-like page: a context with a touch screen (has_touch), watched like ``page``."""
    with watched_page(browser, live_server, has_touch=True, viewport={"width": 1024, "height": 1300}) as pg:
        yield pg


def _box(page, selector: str) -> tuple[float, float, float, float]:
    page.locator(selector).scroll_into_view_if_needed()
    b = page.locator(selector).bounding_box()
    return b["x"], b["y"], b["width"], b["height"]


def _finger(page, cdp, selector: str, points: list[tuple[float, float]]) -> None:
    """A real touch stroke (Chromium's input pipeline makes the touch and pointer events,
    pointerType 'touch'), points as fractions of the canvas."""
    x0, y0, w, h = _box(page, selector)
    path = []
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        path += [(ax + (bx - ax) * i / 8, ay + (by - ay) * i / 8) for i in range(8)]
    path.append(points[-1])
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": x0 + path[0][0] * w, "y": y0 + path[0][1] * h}]})
    for fx, fy in path[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x0 + fx * w, "y": y0 + fy * h}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _touch_pointer_events(page, selector: str, points: list[tuple[float, float]]) -> None:
    """Pointer events with pointerType 'touch' dispatched on the canvas (what signature.js
    listens to: pointerdown, pointermove, pointerup)."""
    x0, y0, w, h = _box(page, selector)
    pad = page.locator(selector)

    def init(fx, fy, buttons):
        return {"pointerId": 7, "pointerType": "touch", "isPrimary": True, "clientX": x0 + fx * w,
                "clientY": y0 + fy * h, "buttons": buttons, "bubbles": True, "cancelable": True, "composed": True}

    pad.dispatch_event("pointerdown", init(*points[0], 1))
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        for i in range(1, 9):
            pad.dispatch_event("pointermove", init(ax + (bx - ax) * i / 8, ay + (by - ay) * i / 8, 1))
    pad.dispatch_event("pointerup", init(*points[-1], 0))


def _fill_tablet(page) -> None:
    page.fill("#arrived_at", "2026-03-03T10:20")
    page.fill("#completed_at", "2026-03-03T15:40")
    page.fill("#fault_found", "液晶屏背光不亮")
    page.fill("#cause", "背光驱动板电容鼓包")
    page.fill("#work_done", "更换背光驱动板，连续运行一小时正常")
    page.check("#charge-0")
    for key in ("attitude", "skill", "timeliness", "overall"):
        page.check(f"#{key}-0")
    page.fill("#customer_signer", "王工")


def test_tablet_signed_with_a_finger(touch_page, live_server, dispatched_case):
    page = touch_page
    case = dispatched_case(live_server.store, technicians=("tech", "tech2"))
    form_no = case["dispatch"]["form_no"]
    login(page, live_server, "engineer", PASSWORD)  # 技质部 fills it in with the technician on site
    page.goto(f"/forms/case/{case['id']}/tablet")
    assert page.evaluate("navigator.maxTouchPoints") > 0 and page.evaluate("'ontouchstart' in window")
    _fill_tablet(page)
    page.select_option("#technician_signer", "tech2")
    page.evaluate("""() => { window.__pointerTypes = [];
        for (const id of ['customer-pad', 'technician-pad'])
          document.getElementById(id).addEventListener('pointerdown', e => window.__pointerTypes.push(id + ':' + e.pointerType)); }""")

    cdp = page.context.new_cdp_session(page)
    _finger(page, cdp, "#customer-pad", [(0.1, 0.7), (0.25, 0.2), (0.4, 0.75), (0.55, 0.25), (0.7, 0.7), (0.85, 0.3)])
    _finger(page, cdp, "#customer-pad", [(0.15, 0.85), (0.8, 0.85)])
    _touch_pointer_events(page, "#technician-pad", [(0.2, 0.5), (0.5, 0.3), (0.8, 0.6)])
    assert page.evaluate("window.__pointerTypes") == ["customer-pad:touch", "customer-pad:touch", "technician-pad:touch"]

    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    assert page.url.endswith(f"/forms/case/{case['id']}"), page.locator(".alert, .invalid-feedback, .text-danger").all_inner_texts()
    [doc] = form_archive.archived_versions(live_server.store, case["id"])
    assert doc["fields"]["technician_signer"] == "tech2-姓名"
    with page.expect_download() as dl:
        page.click(f"a[href='/forms/file/{doc['id']}']")
    data = Path(dl.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == doc["sha256"]

    images = [Image.open(io.BytesIO(im.data)) for p in PdfReader(io.BytesIO(data)).pages for im in p.images]
    qr = [im for im in images if decode_qr(_png(im)) == [form_no]]
    signatures = [im for im in images if im not in qr]
    assert len(qr) == 1 and len(signatures) == 2  # the finger's signature and the technician's
    for sig in signatures:
        grey = sig.convert("L")
        assert sum(grey.histogram()[:128]) > 200, "the signature image holds the strokes"
        assert grey.width > grey.height
    text = flat(pdf_text(data))
    assert "液晶屏背光不亮" in text and "姓名：王工" in text and "姓名：tech2-姓名" in text and "engineer-姓名" not in text

    assert page.watch.csp_violations() == []
    assert page.watch.errors() == []
    assert page.watch.external_requests() == []


# --- a long visit: keep-alive and the draft ---------------------------------------------------
def test_tablet_keeps_the_session_alive_and_a_draft_of_the_typed_fields(page, live_server, dispatched_case):
    store = live_server.store
    case = dispatched_case(store, technicians=("tech",))
    page.clock.install()  # the page's timers under the test's control
    login(page, live_server, "tech", PASSWORD)
    url = f"/forms/case/{case['id']}/tablet"
    page.goto(url)
    assert page.locator("#draft-notice").is_hidden() and page.locator("#session-warning").is_hidden()
    _fill_tablet(page)
    page.fill("#parts-0-name", "背光驱动板")
    page.fill("#parts-0-qty", "2")
    draw(page, "#customer-pad", [(0.1, 0.5), (0.5, 0.2), (0.9, 0.6)])

    # The draft holds what was typed and picked, never a signature or the CSRF token.
    key = f"aftersales:draft:tablet:{case['id']}:v1"
    draft = page.evaluate(f"JSON.parse(sessionStorage.getItem('{key}'))")
    assert draft["fault_found"] == "液晶屏背光不亮" and draft["attitude"] == "satisfied" and draft["parts-0-name"] == "背光驱动板"
    assert not {"customer_signature", "technician_signature", "csrf_token"} & set(draft)
    assert "data:image" not in str(draft)

    # Every 5 minutes the page posts to the keep-alive endpoint with its CSRF token: 204.
    token = page.locator("input[name=csrf_token]").first.input_value()
    with page.expect_response("**/forms/keepalive") as got:
        page.clock.run_for("05:01")
    assert got.value.status == 204 and got.value.request.method == "POST"
    assert got.value.request.headers["x-csrftoken"] == token
    assert page.locator("#session-warning").is_hidden()

    # The session ends anyway (say the tablet slept for an hour): the page says so ...
    age_sessions(store, "tech", 31)
    with page.expect_response("**/forms/keepalive") as got:
        page.clock.run_for("05:00")
    assert got.value.status == 302
    assert page.locator("#session-warning").is_visible()
    assert "登录已过期" in page.locator("#session-warning").inner_text()

    # ... and after logging in again, the form comes back as typed; only the signature is redone.
    login(page, live_server, "tech", PASSWORD)
    page.goto(url)
    assert page.locator("#draft-notice").is_visible()
    assert page.input_value("#fault_found") == "液晶屏背光不亮"
    assert page.input_value("#parts-0-name") == "背光驱动板" and page.input_value("#parts-0-qty") == "2"
    assert page.input_value("#customer_signer") == "王工"
    assert page.is_checked("#attitude-0") and page.is_checked("#charge-0")
    assert page.input_value("#customer_signature") == ""
    draw(page, "#customer-pad", [(0.1, 0.5), (0.5, 0.2), (0.9, 0.6)])
    with page.expect_navigation():
        page.get_by_role("button", name="生成并归档技术服务单").click()
    assert page.url.endswith(f"/forms/case/{case['id']}"), page.locator(".alert, .invalid-feedback, .text-danger").all_inner_texts()
    [doc] = form_archive.archived_versions(store, case["id"])
    assert doc["fields"]["fault_found"] == "液晶屏背光不亮" and doc["fields"]["parts"][0] == {
        "name": "背光驱动板", "spec": "", "qty": 2, "note": ""}

    # The next version's page offers no stale draft; "discard" starts afresh.
    page.goto(url)
    assert page.locator("#draft-notice").is_hidden() and page.input_value("#fault_found") == ""
    assert page.evaluate(f"sessionStorage.getItem('{key}')") is None
    page.fill("#fault_found", "草稿内容")
    page.reload()
    assert page.locator("#draft-notice").is_visible() and page.input_value("#fault_found") == "草稿内容"
    with page.expect_navigation():
        page.click("#draft-discard")
    assert page.locator("#draft-notice").is_hidden() and page.input_value("#fault_found") == ""

    assert page.watch.csp_violations() == []
    assert page.watch.errors() == []
    assert page.watch.external_requests() == []
