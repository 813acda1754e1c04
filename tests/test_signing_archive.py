"""The company signature on what is archived (issue 18): the final 技术服务单 (a PDF signed; a
JPEG/PNG scan kept as it came with a signed wrapper), the dossier, the admin warned without a key,
the archive page's result and its re-check, ``aftersales verify --signatures``."""
from __future__ import annotations

import hashlib

import pytest

from records.cases import vocab
from records.core import pdf as core_pdf
from records.core import signing
from records.notifications.inbox import inbox
from records.reports import quarterly
from records.service_forms import archive as form_archive
from tests.fixtures.archive import png_bytes
from tests.fixtures.calendar import at
from tests.fixtures.pdfs import flat, pdf_text


@pytest.fixture(scope="module")
def form_pdf() -> bytes:
    return core_pdf.render_pdf("<html><body><p>技术服务单（平板签署）</p></body></html>")


def archive(store, case, content, mime, reason=""):
    return form_archive.archive_form(store, case, content, case_table=vocab.TABLE, kind="tablet" if mime.endswith("pdf") else "scan",
                                     mime=mime, filename="form.pdf" if mime.endswith("pdf") else "scan.png",
                                     actor="tech", reason=reason, matched_by="qr")


def test_a_pdf_is_archived_signed_and_both_hashes_are_kept(store, dispatched_case, signing_key, form_pdf):
    case = dispatched_case(store)
    doc = archive(store, case, form_pdf, "application/pdf")
    sig = doc["signature"]
    assert sig["status"] == "valid" and sig["fingerprint"] == signing_key.fingerprint
    meta, stored = form_archive.read_archived(store, doc["id"])
    assert hashlib.sha256(stored).hexdigest() == meta["sha256"]  # the archived file is the signed one
    assert hashlib.sha256(stored[:sig["unsigned_size"]]).hexdigest() == sig["unsigned_sha256"] == \
        hashlib.sha256(form_pdf).hexdigest()
    assert signing.kept_fingerprints(store.root) == {signing_key.fingerprint}


def test_an_image_scan_stays_as_it_came_with_a_signed_wrapper(app, client, auth, store, dispatched_case, signing_key):
    case = dispatched_case(store)
    scan = png_bytes()
    doc = archive(store, case, scan, "image/png")
    assert doc["sha256"] == hashlib.sha256(scan).hexdigest()  # the case points to the original
    assert form_archive.latest_version(store, case["id"])["sha256"] == doc["sha256"]
    assert doc["signature"]["status"] == "valid" and doc["signature"]["derived_sha256"]
    auth.login("engineer")
    page = client.get(f"/forms/case/{case['id']}").get_data(as_text=True)
    assert "签章有效" in page and "签章版 PDF" in page
    wrapper = client.get(f"/forms/file/{doc['id']}/signed")
    assert wrapper.status_code == 200 and wrapper.mimetype == "application/pdf"
    assert wrapper.headers["X-Content-SHA256"] == doc["signature"]["derived_sha256"]
    assert doc["sha256"] in flat(pdf_text(wrapper.data))  # the wrapper names the original's hash
    again = client.post(f"/forms/file/{doc['id']}/check", follow_redirects=True).get_data(as_text=True)
    assert "第 1 版：签章有效" in again


def test_without_a_key_forms_are_archived_unsigned_and_the_admins_told_once_a_day(
        client, auth, store, dispatched_case, form_pdf):
    case = dispatched_case(store)
    first = archive(store, case, form_pdf, "application/pdf")
    archive(store, case, form_pdf + b"\n", "application/pdf", reason="重签")
    assert first["signature"]["status"] == "unsigned"
    assert form_archive.read_archived(store, first["id"])[1] == form_pdf  # archived as it came
    told = [n for n in inbox(store, "admin")[0] if n["kind"] == "signing"]
    assert len(told) == 1 and "未加盖电子签章" in told[0]["body"]
    auth.login("admin")
    status = client.get("/admin/status").get_data(as_text=True)
    assert "未配置签章密钥" in status and "未签章归档的技术服务单 2 份" in status
    auth.logout()
    auth.login("engineer")
    page = client.get(f"/forms/case/{case['id']}").get_data(as_text=True)
    assert "未签章（未配置签章密钥）" in page


def test_versions_archived_before_signing_say_so(client, auth, store, dispatched_case, form_pdf):
    case = dispatched_case(store)
    doc = archive(store, case, form_pdf, "application/pdf")
    with store.transaction("test") as tx:  # as a version archived before issue 18 was stored
        tx.update(form_archive.TABLE, doc["id"], {"signature": None})
    auth.login("engineer")
    assert "未签章（启用前归档）" in client.get(f"/forms/case/{case['id']}").get_data(as_text=True)


def test_verify_signatures_after_a_new_key_and_after_a_changed_file(runner, data_dir, store, dispatched_case,
                                                                    signing_key, form_pdf, tmp_path):
    case = dispatched_case(store)
    doc = archive(store, case, form_pdf, "application/pdf")
    signing.init_key(signing_key.path, "测试公司", force=True)  # a new key: the old certificate is kept
    archive(store, case, png_bytes(), "image/png", reason="补扫")
    ok = runner.invoke(["verify", "--signatures", "--data-dir", str(data_dir)])
    assert ok.exit_code == 0, ok.output
    assert "电子签章：检查 2 份，有效 2 份，无效 0 份" in ok.output
    plain = runner.invoke(["verify", "--data-dir", str(data_dir)])
    assert plain.exit_code == 0 and "电子签章" not in plain.output
    blob = form_archive.files_dir(store) / doc["sha256"]
    data = bytearray(blob.read_bytes())
    data[len(data) // 3] ^= 0x01
    blob.write_bytes(bytes(data))
    bad = runner.invoke(["verify", "--signatures", "--data-dir", str(data_dir)])
    assert bad.exit_code == 1 and f"#{doc['id']}" in bad.output and "无效 1 份" in bad.output


def test_the_dossier_download_is_signed(client, auth, make_case, signing_key, tmp_path):
    c = make_case(username="receiver", roles=("receiver",))
    auth.login("receiver")
    resp = client.get(f"/archive/cases/{c['id']}/dossier.pdf")
    assert resp.status_code == 200
    assert signing.check_pdf(resp.data, {signing_key.fingerprint}).status == "valid"
    assert "电子签章：技质部" in flat(pdf_text(resp.data))


def test_the_issued_quarterly_report_is_signed_and_checked_with_the_others(
        client, auth, store, users, cal, signing_key, runner, data_dir):
    doc, _ = quarterly.create_draft(store, "2026Q3", cal, at("2026-10-08T09:00"), "manager")
    doc = quarterly.save_summary(store, doc["id"], "本季度平稳。", users["manager"], at("2026-10-08T09:00"))
    issued = quarterly.issue(store, doc["id"], users["manager"], at("2026-10-09T09:00"))
    sig = issued["pdf"]["signature"]
    assert sig["status"] == "valid"
    pdf = quarterly.archived(store, issued, "pdf")
    assert signing.check_pdf(pdf, {signing_key.fingerprint}).status == "valid"
    auth.login("gm")
    page = client.get(f"/quarterly/{issued['id']}").get_data(as_text=True)
    assert "归档 PDF 电子签章" in page and "签章有效" in page
    again = client.post(f"/quarterly/{issued['id']}/check", follow_redirects=True).get_data(as_text=True)
    assert "归档 PDF：签章有效" in again
    checked = runner.invoke(["verify", "--signatures", "--data-dir", str(data_dir)])
    assert checked.exit_code == 0 and "检查 1 份，有效 1 份" in checked.output
