"""The case dossier (10; records/archive/dossier.py): one A4 PDF with the case's whole story, read
back with pdftotext; fines as records/fines/visibility.py lets each reader see them; the case
page's 「下载案卷 PDF」 for the case's readers only."""
from __future__ import annotations

import hashlib
import time

import pytest

from records.archive import dossier
from records.calendar.corrections import current_calendar
from records.fines.visibility import HIDDEN_TEXT
from records.service_forms import archive as form_archive
from tests.fixtures.archive import png_bytes
from tests.fixtures.calendar import at
from tests.fixtures.pdfs import flat, font_names, pdf_text


@pytest.fixture
def dossier_of(db, users):
    """``dossier_of(case, reader)``: the dossier's text as ``reader`` gets it, and the PDF."""
    def make(case, reader):
        data = dossier.render(dossier.gather(db, case["id"]), users[reader], current_calendar(db), at("2026-12-04T09:00"))
        return flat(pdf_text(data)), data
    return make


# Who reads the fine (records/fines/visibility.py): 技质部经理 (above), the person concerned (receiver),
# the GM; not a 技质部 engineer nor a technician, who read 「有处罚建议（不公开）」 in its place.
FINE_READERS = {"engineer": False, "tech": False, "receiver": True, "gm": True}


def test_the_dossier_tells_the_whole_story_and_fines_only_to_their_readers(db, closed_case, dossier_of):
    c = closed_case()
    started = time.perf_counter()
    text, data = dossier_of(c, "manager")
    seconds = time.perf_counter() - started
    assert data.startswith(b"%PDF") and seconds < 10
    assert {"FormCJK", "FormCJK-Bold"} <= font_names(data)  # pdf_templates/fonts.css, @imported (hashes: monospace)
    form = form_archive.archived_versions(db, c["id"])[0]
    photo = hashlib.sha256(png_bytes()).hexdigest()
    for expected in (c["number"], "售后服务案卷", "刘参谋", "0312-5550101", "电源控制箱无输出",  # intake
                     "现场服务·质保期内免费", "更换电源模块",  # decision, dispatch
                     "确定解决方案", "书面汇报", "确认及费用审核", "按时完成",  # deadlines, whether met
                     form["sha256"], "纸质扫描件",  # the signed form's version and its SHA-256
                     "已修复", "1100.00", "1000.00", "超出住宿标准",  # report, expenses claimed / approved
                     "顾客来电确认已恢复使用", "旧件.png", photo,  # a note, an attachment and its SHA-256
                     "6.1.5", "来电记录缺少故障现象的细节"):  # the fine, for its reader
        assert flat(expected) in text, expected
    assert HIDDEN_TEXT not in text
    for reader, sees in FINE_READERS.items():
        text, _ = dossier_of(c, reader)
        assert ("来电记录缺少故障现象的细节" in text) is sees, reader  # the proposal's facts: table and timeline
        assert (HIDDEN_TEXT in text) is not sees, reader


def test_the_case_page_offers_the_dossier_to_the_cases_readers_only(client, auth, make_case):
    c = make_case(username="receiver", roles=("receiver",))
    auth.login("receiver")
    page = client.get(f"/cases/{c['id']}").get_data(as_text=True)
    assert "下载案卷 PDF" in page and f"/archive/cases/{c['id']}/dossier.pdf" in page
    resp = client.get(f"/archive/cases/{c['id']}/dossier.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert "attachment" in resp.headers["Content-Disposition"] and "dossier-FW" in resp.headers["Content-Disposition"]
    text = flat(pdf_text(resp.data))
    assert c["number"] in text and "电源控制箱无输出" in text and "receiver-姓名" in text
    assert client.get("/archive/cases/999999/dossier.pdf").status_code == 404
    auth.logout()
    auth.login("admin")  # no case reader, and no part in this case: the case page's own rule
    assert client.get(f"/cases/{c['id']}").status_code == 403
    assert client.get(f"/archive/cases/{c['id']}/dossier.pdf").status_code == 403
