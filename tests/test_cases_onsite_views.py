"""One record of what happened on site, through the app (issue 12): the technician's path
(arrive → sign on the tablet → 维修完毕 → report) with the forms as the pages prefill them, the
tablet path's requirement at 维修完毕, the differences and the scan at the confirmation, an emoji
in the archived PDF, and an old case's quick rating."""
from __future__ import annotations

import base64
import io
import re
import subprocess
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image, ImageDraw

from records.calendar.corrections import current_calendar
from records.cases import vocab, workflow
from records.core.pdf import EMOJI_TEXT, printable
from records.service_forms import archive as form_archive
from tests.fixtures.calendar import TZ
from tests.fixtures.pdfs import flat, pdf_text
from tests.fixtures.service_forms import CONDUCT

ENG = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
TECH = {"username": "tech", "roles": ["technician", "receiver"]}


def html(resp) -> str:
    return resp.get_data(as_text=True)


def minute(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M")


class FormFields(HTMLParser):
    """The values a browser would post from the form whose action ends with ``action`` (or whose id
    it is): inputs
    (checked radios only), selects' selected options, textareas."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._textarea = self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = (a.get("action") or "").endswith(self.action) or a.get("id") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("radio", "checkbox") or "checked" in a:
                self.values[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


def form_values(page: str, action: str) -> dict:
    parser = FormFields(action)
    parser.feed(page)
    values = parser.values
    for name, value in values.items():  # a textarea's first newline is not part of its value
        values[name] = re.sub(r"^\r?\n", "", value)
    return values


def signature() -> str:
    img = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(30, 120), (120, 30), (220, 120), (360, 40)], fill=(0, 0, 0, 255), width=5)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def arrived(store, make_case):
    """``arrived()``: a free on-site case, the technician sent 40 minutes ago and there for 30."""
    def make():
        cal, now = current_calendar(store), datetime.now(TZ).replace(second=0, microsecond=0)
        c = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=60)
        c = workflow.perform(store, cal, c["id"], "decide", ENG, {"solution": "onsite_free", "analysis": "a"})
        c = workflow.perform(store, cal, c["id"], "dispatch", ENG, {"technicians": ["tech"], "plan": "p", "precautions": "q",
                                                                  "departed_at": now - timedelta(minutes=40)})
        return workflow.perform(store, cal, c["id"], "arrive", TECH, {"arrived_at": now - timedelta(minutes=30)})
    return make


def test_the_technicians_path_makes_one_record(client, auth, store, arrived):
    c = arrived()
    cid, now = c["id"], datetime.now(TZ).replace(second=0, microsecond=0)
    auth.login("tech")
    page = html(client.get(f"/cases/{cid}"))
    assert 'id="complete-needs-form"' in page and f'href="/forms/case/{cid}/tablet"' in page
    assert "evaluation" not in form_values(page, "/complete")  # no quick rating at 维修完毕 any more
    # the tablet path needs the signed version (6.2.6: sign, then call 技质部)
    resp = client.post(f"/cases/{cid}/complete", data={"complete-rev": c["_rev"], "complete-form_path": "tablet",
                                                       "complete-work_done": "w", "complete-completed_at": minute(now)})
    assert resp.status_code == 400 and "请先在平板上填写《技术服务单》并由顾客签字归档" in html(resp)

    # the tablet form: arrival from the arrive step, 服务性质 preset from the decision (free)
    tablet = form_values(html(client.get(f"/forms/case/{cid}/tablet")), "tablet-form")
    assert tablet["arrived_at"] == minute(now - timedelta(minutes=30)) and tablet["charge"] == "free"
    filled = {**tablet, "completed_at": minute(now - timedelta(minutes=5)), "fault_found": "无输出",
              "cause": "保护元件损坏", "work_done": "更换电源模块", "parts-0-name": "电源模块", "parts-0-qty": "1",
              "attitude": "satisfied", "skill": "satisfied", "timeliness": "basically", "overall": "satisfied",
              "remarks": "服务很好👍🏻，谢谢😀", "customer_signer": "陈工", "customer_signature": signature()}
    # the time rules of every path: a completion in the future is refused here as at the report
    resp = client.post(f"/forms/case/{cid}/tablet", data={**filled, "completed_at": minute(now + timedelta(hours=2))})
    assert resp.status_code == 200 and "完成时间不能晚于当前时间" in html(resp)
    assert form_archive.archived_versions(store, cid) == []
    assert client.post(f"/forms/case/{cid}/tablet", data=filled).status_code == 302
    [signed] = form_archive.archived_versions(store, cid)
    # the emoji typed on the tablet keyboard print as a visible replacement, never an empty box
    text = flat(pdf_text(client.get(f"/forms/file/{signed['id']}").data))
    assert f"服务很好{EMOJI_TEXT}，谢谢{EMOJI_TEXT}" in text and "👍" not in text and "😀" not in text
    fonts = subprocess.run(["pdffonts", "-"], input=client.get(f"/forms/file/{signed['id']}").data,
                           capture_output=True, check=True).stdout.decode()
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # every font embedded

    # 维修完毕 as the page prefills it: the signed version's values, no difference
    page = html(client.get(f"/cases/{cid}"))
    assert 'id="complete-signed"' in page
    done = form_values(page, "/complete")
    assert (done["complete-form_path"], done["complete-work_done"]) == ("tablet", "更换电源模块")
    assert done["complete-completed_at"] == filled["completed_at"]
    assert client.post(f"/cases/{cid}/complete", data=done).status_code == 302
    c = store.get("cases", cid)
    assert c["onsite"]["form_path"] == "tablet" and c["onsite"]["differences"] == []
    c = workflow.perform(store, current_calendar(store), cid, "approve_return", ENG, {})
    c = workflow.perform(store, current_calendar(store), cid, "record_return", TECH, {"returned_at": now})

    # the report as the page prefills it, with the report's own part: no difference
    report = form_values(html(client.get(f"/cases/{cid}")), "/report")
    assert report["report-remarks"] == "服务很好👍🏻，谢谢😀" and report["report-timeliness"] == "basically"
    report.update({"report-text": "已修复", "report-expenses-0-date": now.date().isoformat(),
                   "report-expenses-0-category": "transport", "report-expenses-0-item": "差旅",
                   "report-expenses-0-amount": "100", **{f"report-{k}": v for k, v in CONDUCT.items()}})
    resp = client.post(f"/cases/{cid}/report", data=report)
    assert resp.status_code == 302, re.findall(r'invalid-feedback[^>]*>([^<]+)', html(resp))
    c = store.get("cases", cid)
    assert c["state"] == "awaiting_confirmation" and c["report"]["path"] == "tablet" and c["report"]["differences"] == []
    assert c["report"]["service_form"]["completed_at"] == c["onsite"]["completed_at"]  # one completion time
    auth.logout()
    auth.login("engineer")
    page = html(client.get(f"/cases/{cid}"))
    assert 'id="action-confirm"' in page and 'id="record-differences"' not in page


def test_paper_path_the_confirmation_shows_the_transcription_beside_the_scan(client, auth, store, arrived,
                                                                            archive_signed_form):
    c = arrived()
    cal, now = current_calendar(store), datetime.now(TZ).replace(second=0, microsecond=0)
    c = workflow.perform(store, cal, c["id"], "complete", TECH, {"form_path": "paper", "work_done": "更换电源模块",
                                                                 "completed_at": now - timedelta(minutes=10)})
    c = workflow.perform(store, cal, c["id"], "approve_return", ENG, {})
    c = workflow.perform(store, cal, c["id"], "record_return", TECH, {"returned_at": now})
    scan = archive_signed_form(store, c)  # a PNG scan of the paper form
    pre = {"arrived_at": c["onsite"]["arrived_at"], "completed_at": c["onsite"]["completed_at"], "fault_found": "无输出",
           "cause": "损坏", "work_done": "更换电源模块", "parts": [], "charge": "free", "amount": "",
           "ratings": {"attitude": "satisfied", "skill": "satisfied", "timeliness": "satisfied", "overall": "satisfied"},
           "remarks": ""}
    c = workflow.perform(store, cal, c["id"], "report", TECH, {**pre, **CONDUCT, "text": "已修复"})
    assert c["report"]["path"] == "paper"
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    beside = re.search(r'id="confirm-scan">(.*?)</div>', page, re.S).group(1)
    assert f'<img src="/forms/file/{scan["id"]}?inline=1"' in beside and "在新窗口查看扫描件" in beside
    assert "纸质表单：汇报内容为表单的誊录" in page and 'id="record-differences"' not in page
    resp = client.get(f"/forms/file/{scan['id']}?inline=1")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("inline;")
    assert client.get(f"/forms/file/{scan['id']}").headers["Content-Disposition"].startswith("attachment;")


def test_old_case_with_a_quick_rating_at_complete_still_shows(client, auth, store, arrived):
    c = arrived()
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    c = workflow.perform(store, current_calendar(store), c["id"], "complete", TECH,
                         {"form_path": "paper", "work_done": "w", "completed_at": now})
    onsite = {k: v for k, v in c["onsite"].items() if k not in ("form_path", "form_version", "differences")}
    with store.transaction("test") as tx:  # as stored before issue 12
        tx.update(vocab.TABLE, c["id"], {"onsite": {**onsite, "evaluation": {"rating": "satisfied", "remarks": "及时"}}})
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    assert "旧记录：维修完毕时的快速评价" in re.search(r'id="onsite-old-evaluation">(.*?)</dd>', page, re.S).group(1)


@pytest.mark.parametrize("text, expected", [
    ("服务很好👍", f"服务很好{EMOJI_TEXT}"),
    ("👍🏻👍🏻", EMOJI_TEXT * 2),                 # a skin tone belongs to its emoji
    ("👨‍👩‍👧家", f"{EMOJI_TEXT}家"),             # one family, joined
    ("🇨🇳中国", f"{EMOJI_TEXT}中国"),            # a flag is two letters
    ("☎电话★", "☎电话★"),                      # the font draws these: they stay
    ("plain", "plain"),
])
def test_printable_replaces_what_no_font_draws(text, expected):
    assert printable(text) == expected


def test_a_difference_at_complete_shows_to_tq_with_its_reason(client, auth, store, arrived, archive_signed_form):
    c = arrived()
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    signed_at = now - timedelta(minutes=20)
    archive_signed_form(store, c, kind="tablet", fields={"completed_at": signed_at.strftime("%Y-%m-%d %H:%M"),
                                                         "work_done": "更换电源模块"})
    c = workflow.perform(store, current_calendar(store), c["id"], "complete", TECH, {
        "form_path": "tablet", "work_done": "更换电源模块", "completed_at": now - timedelta(minutes=5),
        "difference_reason": "签字后又调试了一刻钟"})
    auth.login("engineer")  # 技质部, who approves the return (6.2.6), sees it before the report
    page = html(client.get(f"/cases/{c['id']}"))
    row = re.search(r'data-difference="completed_at">(.*?)</tr>', page, re.S).group(1)
    for s in ("维修完毕", "完成时间", signed_at.strftime("%Y-%m-%d %H:%M"), minute(now - timedelta(minutes=5)).replace("T", " "),
              "签字后又调试了一刻钟"):
        assert s in row, s
