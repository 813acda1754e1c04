"""The case dossier (10; records/archive/dossier.py): one A4 PDF with the case's whole story, read
back with pdftotext; fines as records/fines/visibility.py lets each reader see them; the case
page's 「下载案卷 PDF」 for the case's readers only."""
from __future__ import annotations

import hashlib

import pytest

from records import policy
from records.archive import dossier
from records.calendar.corrections import current_calendar
from records.cases import conduct, expenses
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
    text, data = dossier_of(c, "manager")  # its time is a figure for the bench, not a test that flakes
    assert data.startswith(b"%PDF")
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


# --- the timeline's entries about a fine: the case page's one rule (records.cases.timeline.for_reader) ---
def _late_handover(new_case, act, then):
    """A call recorded two days after it came in: a 6.1.4 proposal against ``receiver``; ``then``
    = [(action, user, time, data)] taken on it."""
    c = new_case(received_at=at("2026-11-25T09:00"))
    for action, user, now, data in then:
        c = act(c, action, user, now, **data)
    return c


STATEMENT = ("state_fine", "receiver", "2026-11-27T16:30", {"key": "handover", "text": "申辩内容甲"})
REFERRAL = ("refer_fine", "manager", "2026-11-27T17:00", {"key": "handover", "reason": "转报理由乙"})
RULING = ("rule_fine", "manager", "2026-11-27T17:00", {"key": "handover", "decision": "confirmed", "amount": "50",
                                                       "reason": "裁定理由丙"})
CORRECTION = ("correct", "manager", "2026-11-27T17:10", {"received_at": at("2026-11-27T15:30"), "reason": "时间登记错"})


@pytest.mark.parametrize("then, secrets", [
    ([STATEMENT, REFERRAL], ("申辩内容甲", "转报理由乙", "报总经理裁定，")),        # the person's statement, the referral
    ([RULING, CORRECTION], ("裁定理由丙", "处罚已处理")),                        # a correction after the ruling
])
@pytest.mark.parametrize("reader, sees", [("engineer", False), ("tech", False), ("manager", True), ("receiver", True)])
def test_the_timelines_fine_entries_only_for_the_fines_readers(db, users, cal, new_case, act, then, secrets, reader, sees):
    c = _late_handover(new_case, act, then)
    rows = dossier.context(dossier.gather(db, c["id"]), users[reader], cal, at("2026-11-28T10:00"))["timeline"]
    text = "\n".join(f"{r['label']} {r['text']}" for r in rows)
    for secret in secrets:
        assert (secret in text) is sees, (reader, secret)
    assert (HIDDEN_TEXT in text) is not sees, reader
    if CORRECTION in then:  # the correction itself is no secret: its change and reason read by all
        assert "收到时间：2026-11-25 09:00 → 2026-11-27 15:30。理由：时间登记错" in text


# --- the report as audited (issue 12's report: 6.2.7, 6.2.8, 6.2.9, 7.1–7.4) ------------------
def test_the_dossier_shows_the_report_as_audited(db, audited_case, dossier_of):
    c = audited_case()
    text, _ = dossier_of(c, "manager")
    receipts = [f for e in c["report"]["expenses"] for f in e.get("receipts") or []]
    assert [f["filename"] for f in receipts] == ["高铁票.png", "发票.png"] and len({f["sha256"] for f in receipts}) == 2
    rule = f"{policy.ENTERTAINMENT.clause}：{policy.rule_text(policy.ENTERTAINMENT)}"
    for expected in (
            # every line in the case page's words (date, category, text; none blank), claimed and approved
            *(expenses.label(e) for e in c["report"]["expenses"]), "2026-12-02 补助",
            "800.00", "100.00", "120.00", "150.00", "280.00", "1330.00", "1200.00",
            "超额核准", "驻地补助标准调整",                                    # the override and its reason
            rule, "7.4：主管领导已事先同意（manager-姓名，2026-12-01 11:25）",  # 7.4: refused, and approved beforehand
            *(x for f in receipts for x in (f["filename"], f["sha256"])),    # every receipt with its SHA-256
            *(text_ for _, text_ in conduct.CHECKLIST.values()), "全面检测正常", "刘参谋 0312-5550101",  # 7.1–7.3
            "招待顾客工作餐，约 300 元", conduct.APPROVAL_STATES["approved"],  # the 7.4 approval
            "答复时间 2026-12-01 11:25（2026-12-03 09:00 记录）",
            "书面汇报", "顾客意见与建议", "服务及时，希望多带备件", "顾客电话补充"):  # the signed form's difference
        assert flat(expected) in text, expected
    assert expenses.CATEGORIES["entertainment"] == "交际应酬（7.4）"
    rows = dossier.context(dossier.gather(db, c["id"]), None, current_calendar(db), at("2026-12-04T12:00"))["expenses"]
    assert all(r["label"].strip() for r in rows["rows"]) and rows["rows"][1]["label"] == "2026-12-02 补助"
