"""技术服务单 scans and archive (issue 5): content checks, QR matching, versions, rights, audit."""
from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from records.core import uploads
from records.service_forms import archive as form_archive
from records.service_forms import document as form_document
from records.service_forms import fields as form_fields
from records.users import accounts
from tests.fixtures.pdfs import flat, page_image, pdf_text
from tests.fixtures.users import PASSWORD, age_sessions

REFUSED = "nothing stored"


@pytest.fixture
def case(store, dispatched_case):
    return dispatched_case(store)


@pytest.fixture
def scan_png(store, case):
    """A 'scan' of the printed form: its first page rendered at 150 dpi."""
    return page_image(form_document.render_case_form(store, case))


def upload(client, case_id, data: bytes, filename: str, **fields):
    return client.post(f"/forms/case/{case_id}/upload", data={"file": (io.BytesIO(data), filename), **fields},
                       content_type="multipart/form-data")


def assert_nothing_stored(store):
    assert store.count(form_archive.TABLE) == 0
    files = form_archive.files_dir(store)
    assert not files.exists() or not any(files.iterdir())


def audit_entries(store, table, record_id):
    return [e for e in store.audit if e["table"] == table and e["id"] == record_id]


# --- valid scans -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["png", "jpeg", "pdf"])
def test_valid_scan_is_archived_and_matched_by_qr(client, auth, store, case, fmt):
    pdf_bytes = form_document.render_case_form(store, case)
    if fmt == "pdf":  # a scanner's PDF: the page as an image
        buf = io.BytesIO()
        Image.open(io.BytesIO(page_image(pdf_bytes, fmt="jpeg"))).save(buf, format="PDF", resolution=150)
        data = buf.getvalue()
    else:
        data = page_image(pdf_bytes, fmt=fmt)
    auth.login("tech")
    resp = upload(client, case["id"], data, f"扫描.{fmt}")
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert resp.headers["Location"].endswith(f"/forms/case/{case['id']}")
    [doc] = form_archive.archived_versions(store, case["id"])
    digest = hashlib.sha256(data).hexdigest()
    assert doc["version"] == 1 and doc["kind"] == "scan" and doc["matched_by"] == "qr"
    assert doc["sha256"] == digest and doc["form_no"] == case["dispatch"]["form_no"]
    assert doc["mime"] == uploads.MIME["jpeg" if fmt == "jpeg" else fmt]
    # Downloads byte for byte the same; the SHA-256 is in the audit trail (file and case).
    got = client.get(f"/forms/file/{doc['id']}")
    assert got.status_code == 200 and got.data == data
    assert got.headers["X-Content-SHA256"] == digest
    [created] = audit_entries(store, form_archive.TABLE, doc["id"])
    assert created["action"] == "create" and created["changes"]["sha256"] == [None, digest]
    assert any(e.get("data", {}).get("sha256") == digest for e in audit_entries(store, "cases", case["id"]))
    assert store.audit.verify().ok
    page = client.get(f"/forms/case/{case['id']}").get_data(as_text=True)
    assert digest in page and "第 1 版" in page


def test_archived_file_tampering_is_detected(client, auth, store, case, scan_png):
    auth.login("tech")
    upload(client, case["id"], scan_png, "scan.png")
    [doc] = form_archive.archived_versions(store, case["id"])
    (form_archive.files_dir(store) / doc["sha256"]).write_bytes(scan_png + b"x")
    with pytest.raises(form_fields.ServiceFormError):
        form_archive.read_archived(store, doc["id"])
    assert client.get(f"/forms/file/{doc['id']}").status_code == 500


# --- refusals ----------------------------------------------------------------------------
def _corrupt_pdf(store, case) -> bytes:
    good = bytearray(form_document.render_case_form(store, case))
    good[200:len(good) - 200] = b"\x00" * (len(good) - 400)
    return bytes(good)


@pytest.mark.parametrize("name, make, message", [
    ("renamed text file", lambda s, c: "这不是扫描件，只是文本。\n".encode() * 50, "只接受 PDF、JPEG 或 PNG"),
    ("oversized", lambda s, c: b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024), "最大允许 20 MB"),
    ("corrupt PDF", _corrupt_pdf, "PDF 文件已损坏"),
    ("truncated PNG", lambda s, c: page_image(form_document.render_case_form(s, c))[:5000], "PNG 图片已损坏"),
    ("truncated JPEG", lambda s, c: page_image(form_document.render_case_form(s, c), fmt="jpeg")[:-300], "JPEG 图片已损坏"),
    ("empty", lambda s, c: b"", "请选择"),
])
def test_bad_files_are_refused_and_nothing_stored(client, auth, store, case, name, make, message):
    auth.login("tech")
    resp = upload(client, case["id"], make(store, case), "技术服务单.pdf")
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert_nothing_stored(store)


def test_request_larger_than_the_limit_gets_413(client, auth, store, case):
    auth.login("tech")
    resp = upload(client, case["id"], b"%PDF-1.7\n" + b"0" * (22 * 1024 * 1024), "big.pdf")
    assert resp.status_code == 413 and "上传的文件太大" in resp.get_data(as_text=True)
    assert_nothing_stored(store)


def test_qr_of_another_form_is_refused(client, auth, store, case, dispatched_case):
    other = dispatched_case(store)
    data = page_image(form_document.render_case_form(store, other))
    auth.login("tech")
    resp = upload(client, case["id"], data, "scan.png", confirm_no=case["dispatch"]["form_no"])
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "不符" in body and other["dispatch"]["form_no"] in body
    assert_nothing_stored(store)


def test_without_readable_qr_the_user_confirms_the_number(client, auth, store, case):
    img = Image.new("RGB", (1240, 1754), "white")
    ImageDraw.Draw(img).rectangle((100, 100, 1100, 1600), outline="black", width=4)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    data = buf.getvalue()
    auth.login("tech")
    resp = upload(client, case["id"], data, "photo.jpg")
    assert "未能识别扫描件上的二维码" in resp.get_data(as_text=True)
    resp = upload(client, case["id"], data, "photo.jpg", confirm_no="JF2099-9999")
    assert "不符" in resp.get_data(as_text=True)
    assert_nothing_stored(store)
    resp = upload(client, case["id"], data, "photo.jpg", confirm_no=case["dispatch"]["form_no"].lower())
    assert resp.status_code == 302
    [doc] = form_archive.archived_versions(store, case["id"])
    assert doc["matched_by"] == "confirmed"


# --- versions ----------------------------------------------------------------------------
def test_correction_is_a_new_version_with_a_reason(client, auth, store, case, scan_png):
    auth.login("tech")
    assert upload(client, case["id"], scan_png, "v1.png").status_code == 302
    second = page_image(form_document.render_case_form(store, case), fmt="jpeg")
    resp = upload(client, case["id"], second, "v2.jpg")
    assert "更正原因" in resp.get_data(as_text=True)
    assert len(form_archive.archived_versions(store, case["id"])) == 1
    resp = upload(client, case["id"], second, "v2.jpg", reason="第一版扫描不清晰，顾客盖章缺失，重新扫描")
    assert resp.status_code == 302
    v1, v2 = form_archive.archived_versions(store, case["id"])
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v2["reason"].startswith("第一版扫描不清晰") and v1["reason"] == ""
    assert client.get(f"/forms/file/{v1['id']}").data == scan_png
    assert client.get(f"/forms/file/{v2['id']}").data == second
    assert form_archive.latest_version(store, case["id"])["id"] == v2["id"]
    # The archive record itself cannot be changed through the app: no edit route exists.
    assert client.post(f"/forms/file/{v1['id']}").status_code == 405


# --- who may do what ---------------------------------------------------------------------
@pytest.mark.parametrize("user, may_read, may_sign", [
    ("tech", True, True), ("engineer", True, True), ("manager", True, True), ("tech2", True, False),
    ("sales", True, False), ("finance", True, False), ("receiver", False, False), ("admin", False, False),
])
def test_rights(client, auth, store, case, user, may_read, may_sign):
    auth.login(user)
    assert client.get("/forms/blank.pdf").status_code == 200  # the blank form: everyone logged in
    # The case's form as the case page itself (records.cases.flow.may_read decides who sees a case).
    case_page = client.get(f"/cases/{case['id']}").status_code
    assert case_page == (200 if may_read else 403)
    for url in (f"/forms/case/{case['id']}.pdf", f"/forms/case/{case['id']}"):
        assert client.get(url).status_code == case_page, url
    expected = 200 if may_sign else 403
    assert client.get(f"/forms/case/{case['id']}/upload").status_code == expected
    assert client.get(f"/forms/case/{case['id']}/tablet").status_code == expected
    if not may_sign:
        assert upload(client, case["id"], b"x", "x.png").status_code == 403
        assert client.post(f"/forms/case/{case['id']}/tablet", data={}).status_code == 403


def test_archived_files_are_for_those_who_see_the_case(client, auth, store, case, scan_png):
    auth.login("tech")
    assert upload(client, case["id"], scan_png, "扫描件.png").status_code == 302
    [doc] = form_archive.archived_versions(store, case["id"])
    auth.logout()

    auth.login("receiver")  # not on this case, and no role that reads every case
    for url in (f"/forms/file/{doc['id']}", f"/forms/case/{case['id']}", f"/forms/case/{case['id']}.pdf",
                f"/forms/case/{case['id']}.pdf?download=1"):
        resp = client.get(url)
        assert resp.status_code == 403, url
        assert scan_png not in resp.data and doc["sha256"] not in resp.get_data(as_text=True)
    assert client.get("/forms/blank.pdf").status_code == 200
    assert client.get("/forms/file/99999").status_code == 404

    # The receiver who took the case in sees it, as on the case page.
    store.update("cases", case["id"], {"received_by": "receiver"}, "test")
    assert client.get(f"/cases/{case['id']}").status_code == 200
    assert client.get(f"/forms/file/{doc['id']}").data == scan_png
    assert client.get(f"/forms/case/{case['id']}").status_code == 200
    auth.logout()
    auth.login("admin")
    assert client.get(f"/forms/file/{doc['id']}").status_code == 403


def test_download_names_ascii_fallback_and_utf8(client, auth, store, case, scan_png):
    from urllib.parse import unquote

    form_no = case["dispatch"]["form_no"]
    auth.login("tech")

    def names(header: str) -> tuple[str, str, str]:
        kind = header.split(";")[0]
        ascii_name = re.search(r'filename="([^"]*)"', header).group(1)
        utf8 = unquote(re.search(r"filename\*=UTF-8''(\S+)", header).group(1))
        assert header.isascii()
        return kind, ascii_name, utf8

    assert names(client.get(f"/forms/case/{case['id']}.pdf?download=1").headers["Content-Disposition"]) == (
        "attachment", f"service-form-{form_no}.pdf", f"技术服务单-{form_no}.pdf")
    assert names(client.get(f"/forms/case/{case['id']}.pdf").headers["Content-Disposition"]) == (
        "inline", f"service-form-{form_no}.pdf", f"技术服务单-{form_no}.pdf")
    assert names(client.get("/forms/blank.pdf?download=1").headers["Content-Disposition"]) == (
        "attachment", "service-form-blank.pdf", "技术服务单-空白.pdf")

    upload(client, case["id"], scan_png, "现场 扫描件 (1).png")
    upload(client, case["id"], form_document.render_case_form(store, case), "x.pdf", reason="重新上传")
    v1, v2 = form_archive.archived_versions(store, case["id"])
    assert names(client.get(f"/forms/file/{v1['id']}").headers["Content-Disposition"]) == (
        "attachment", f"service-form-{form_no}-v1.png", "现场 扫描件 (1).png")
    # the ASCII name follows the content, not the name it was uploaded under
    assert names(client.get(f"/forms/file/{v2['id']}").headers["Content-Disposition"])[1] == (
        f"service-form-{form_no}-v2.pdf")


def test_anonymous_is_sent_to_login(client, store, case):
    for url in (f"/forms/case/{case['id']}.pdf", "/forms/blank.pdf", f"/forms/case/{case['id']}/upload"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_pdf_endpoints(client, auth, store, case, dispatched_case):
    auth.login("sales")
    resp = client.get(f"/forms/case/{case['id']}.pdf")
    assert resp.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(resp.data)).pages) == 1
    assert case["dispatch"]["form_no"] in flat(pdf_text(resp.data))
    assert "no-store" in resp.headers["Cache-Control"]
    assert "attachment" in client.get(f"/forms/case/{case['id']}.pdf?download=1").headers["Content-Disposition"]
    not_issued = dispatched_case(store, form_no=None)
    assert client.get(f"/forms/case/{not_issued['id']}.pdf").status_code == 404
    assert client.get(f"/forms/case/{not_issued['id']}/upload").status_code == 404
    assert client.get("/forms/case/99999.pdf").status_code == 404
    assert client.get("/forms/file/99999").status_code == 404


# --- the tablet path without a browser ------------------------------------------------------
def _signature_data_url(width=600, height=200) -> str:
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.line([(40, 150), (120, 40), (200, 160), (300, 60), (420, 150), (540, 70)], fill=(0, 0, 0, 255), width=5)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def tablet_data(**over) -> dict:
    data = {
        "arrived_at": "2026-03-03T10:20", "completed_at": "2026-03-03T15:40",
        "fault_found": "电源模块输出电压为零", "cause": "电源模块过流保护元件损坏", "work_done": "更换电源模块并通电测试 2 小时正常",
        "parts-0-name": "电源模块", "parts-0-spec": "DY-12", "parts-0-qty": "1", "parts-0-note": "旧件返回",
        "charge": "free", "attitude": "satisfied", "skill": "satisfied", "timeliness": "basically",
        "overall": "satisfied", "remarks": "服务及时<b>好</b>", "customer_signer": "陈工",
        "customer_signature": _signature_data_url(), "technician_signature": "", "technician_signer": "tech",
    }
    data.update(over)
    return data


def test_tablet_post_makes_the_signed_pdf(client, auth, store, case):
    auth.login("tech")
    resp = client.post(f"/forms/case/{case['id']}/tablet", data=tablet_data())
    assert resp.status_code == 302, resp.get_data(as_text=True)
    [doc] = form_archive.archived_versions(store, case["id"])
    assert doc["kind"] == "tablet" and doc["fields"]["ratings"]["timeliness"] == "basically"
    data = client.get(f"/forms/file/{doc['id']}").data
    assert hashlib.sha256(data).hexdigest() == doc["sha256"]
    reader = PdfReader(io.BytesIO(data))
    images = [im for p in reader.pages for im in p.images]
    assert len(images) == 2  # the QR code and the customer's signature
    text = flat(pdf_text(data))
    for s in ("电源模块输出电压为零", "更换电源模块并通电测试2小时正常", "DY-12", "2026-03-0310:20", "服务及时<b>好</b>",
              "陈工", case["dispatch"]["form_no"]):
        assert s in text, s
    assert "√满意" in text and "√基本满意" in text  # ticked boxes


@pytest.mark.parametrize("over, message", [
    ({"customer_signature": ""}, "请在签名框内签名"),
    ({"customer_signature": "data:image/png;base64," + base64.b64encode(b"GIF89a....").decode()}, "格式无效"),
    ({"customer_signature": "data:image/svg+xml;base64,PHN2Zz4="}, "格式无效"),
    ({"customer_signature": "data:image/png;base64," + base64.b64encode(
        (lambda b: (Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(b, format="PNG"), b.getvalue())[1])(io.BytesIO())
    ).decode()}, "签名框是空的"),
    ({"attitude": ""}, "请顾客选择「服务态度」"),
    ({"completed_at": "2026-03-03T09:00"}, "完成时间不能早于到达时间"),
    ({"charge": "paid"}, "有偿服务请填写收费金额"),
])
def test_tablet_refusals(client, auth, store, case, over, message):
    auth.login("tech")
    resp = client.post(f"/forms/case/{case['id']}/tablet", data=tablet_data(**over))
    assert resp.status_code == 200 and message in resp.get_data(as_text=True)
    assert_nothing_stored(store)


# --- who signs as the technician --------------------------------------------------------------
def _signer_options(html: str) -> tuple[list[tuple[str, str]], str | None]:
    select = re.search(r'<select[^>]*name="technician_signer"[^>]*>(.*?)</select>', html, re.S).group(1)
    opts = re.findall(r"<option([^>]*)>([^<]*)</option>", select)
    out, selected = [], None
    for attrs, label in opts:
        value = re.search(r'value="([^"]*)"', attrs).group(1)
        out.append((value, label))
        if "selected" in attrs:
            selected = value
    return out, selected


def test_technician_signer_is_one_of_the_cases_technicians(client, auth, store, dispatched_case):
    two = dispatched_case(store, technicians=("tech", "tech2"))
    auth.login("engineer")  # 技质部 fills the form in for the technicians
    options, selected = _signer_options(client.get(f"/forms/case/{two['id']}/tablet").get_data(as_text=True))
    assert [v for v, _ in options] == ["", "tech", "tech2"] and selected in (None, "")
    assert ("tech2", "tech2-姓名") in options and not any("engineer" in label for _, label in options)

    resp = client.post(f"/forms/case/{two['id']}/tablet", data=tablet_data(technician_signer=""))
    assert resp.status_code == 200 and "请选择签字的售后服务技术人员" in resp.get_data(as_text=True)
    resp = client.post(f"/forms/case/{two['id']}/tablet", data=tablet_data(technician_signer="engineer"))
    assert resp.status_code == 200  # not one of the case's technicians
    assert_nothing_stored(store)

    resp = client.post(f"/forms/case/{two['id']}/tablet",
                       data=tablet_data(technician_signer="tech2", technician_signature=_signature_data_url()))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    [doc] = form_archive.archived_versions(store, two["id"])
    assert doc["uploaded_by"] == "engineer"
    assert doc["fields"]["technician_signer"] == "tech2-姓名" and doc["fields"]["technician_signer_username"] == "tech2"
    text = flat(pdf_text(client.get(f"/forms/file/{doc['id']}").data))
    assert "姓名：tech2-姓名" in text and "engineer-姓名" not in text

    # A technician of the case gets their own name preselected; 技质部 on a one-technician case
    # gets that technician.
    auth.logout()
    auth.login("tech2")
    _, selected = _signer_options(client.get(f"/forms/case/{two['id']}/tablet").get_data(as_text=True))
    assert selected == "tech2"
    auth.logout()
    auth.login("manager")
    one = dispatched_case(store, technicians=("tech",))
    options, selected = _signer_options(client.get(f"/forms/case/{one['id']}/tablet").get_data(as_text=True))
    assert options == [("tech", "tech-姓名")] and selected == "tech"


# --- the keep-alive of the tablet page ---------------------------------------------------------
@pytest.fixture
def csrf_client(csrf_app, csrf_token_from):
    """The app with CSRF protection on (as in production) and a client logged in as tech."""
    c = csrf_app.test_client()
    token = csrf_token_from(c.get("/login").get_data(as_text=True))
    assert c.post("/login", data={"username": "tech", "password": PASSWORD, "csrf_token": token}).status_code == 302
    c.store = csrf_app.extensions["aftersales.store"]
    return c


def _last_seen(store, username: str):
    from datetime import datetime


    user = accounts.find_by_username(store, username)
    return max(datetime.fromisoformat(v["seen"]) for v in user["_sessions"].values())


def test_keepalive_refreshes_the_session_and_changes_no_data(csrf_client, dispatched_case):
    from datetime import datetime, timedelta, timezone

    store = csrf_client.store
    case = dispatched_case(store)
    page = csrf_client.get(f"/forms/case/{case['id']}/tablet").get_data(as_text=True)
    assert 'data-keepalive-url="/forms/keepalive"' in page and 'data-keepalive-seconds="300"' in page
    assert f'data-draft-key="tablet:{case["id"]}:v1"' in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    assert csrf_client.post("/forms/keepalive").status_code == 400  # no CSRF token
    assert csrf_client.get("/forms/keepalive").status_code == 405

    age_sessions(store, "tech", 25)  # 25 idle minutes: 5 more and the session would end
    audit_before = len(list(store.audit))
    case_before = store.get("cases", case["id"])
    resp = csrf_client.post("/forms/keepalive", headers={"X-CSRFToken": token})
    assert resp.status_code == 204 and resp.data == b""
    assert datetime.now(timezone.utc) - _last_seen(store, "tech") < timedelta(minutes=1)
    assert len(list(store.audit)) == audit_before and store.get("cases", case["id"]) == case_before

    # Kept alive, the page's token still submits after more than 30 minutes in all.
    age_sessions(store, "tech", 25)
    assert csrf_client.post("/forms/keepalive", headers={"X-CSRFToken": token}).status_code == 204
    resp = csrf_client.post(f"/forms/case/{case['id']}/tablet", data={**tablet_data(), "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert len(form_archive.archived_versions(store, case["id"])) == 1


def test_keepalive_after_the_session_ended_is_not_a_204(csrf_client, dispatched_case):
    store = csrf_client.store
    case = dispatched_case(store)
    page = csrf_client.get(f"/forms/case/{case['id']}/tablet").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    age_sessions(store, "tech", 31)
    resp = csrf_client.post("/forms/keepalive", headers={"X-CSRFToken": token})
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]  # the page then warns
