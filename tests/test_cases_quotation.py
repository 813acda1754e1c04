"""The 报价单 of a paid service (5.2.3—5.2.5, 6.2.4; issue 15): 「通知顾客费用」 records how, when and
to whom it was sent, with its validity (a company parameter); the 报价单 is an A4 PDF read back
with pdftotext; the customer's answer may attach their written confirmation."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image

from records import policy
from records.calendar.corrections import current_calendar
from records.cases import notes, quotation, workflow
from records.cases.vocab import CaseError
from tests.fixtures.calendar import at
from tests.fixtures.pdfs import flat, font_names, pdf_text


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("data, field", [
    ({"recipient": "刘参谋"}, "method"),
    ({"method": "post", "recipient": "刘参谋"}, "method"),
    ({"method": "fax"}, "recipient"),
    ({"method": "fax", "recipient": "刘参谋", "sent_at": at("2026-11-30T08:00")}, "sent_at"),  # before the quote
    ({"method": "fax", "recipient": "刘参谋", "sent_at": at("2026-11-30T11:00")}, "sent_at"),  # in the future
])
def test_sending_needs_how_when_and_to_whom(paid_until, act, data, field):
    c = act(paid_until("quoted"), "price", "finance", "2026-11-30T10:00", prices=["3500"])
    with pytest.raises(CaseError) as e:
        act(c, "send_quote", "engineer", "2026-11-30T10:30", **data)
    assert e.value.field == field


def test_the_sending_is_recorded_with_its_validity(paid_until):
    c = paid_until("awaiting_customer")  # sent by fax to 刘参谋 at 10:30 (tests/fixtures/cases.py)
    q = c["quote"]
    assert (q["method"], q["recipient"], q["sent_at"][:16], q["total"]) == ("fax", "刘参谋", "2026-11-30T10:30", 5500.0)
    assert q["valid_days"] == policy.QUOTE_VALID_DAYS
    assert q["valid_until"] == (date(2026, 11, 30) + timedelta(days=policy.QUOTE_VALID_DAYS)).isoformat()
    assert "传真" in c["timeline"][-1]["text"] and q["valid_until"] in c["timeline"][-1]["text"]


def test_the_quotation_pdf_reads_back(db, paid_until):
    c = paid_until("awaiting_customer")
    assert quotation.available(c)
    pdf = quotation.render_quotation(db, c, at("2026-12-01T09:00"))
    assert pdf.startswith(b"%PDF") and {"FormCJK", "FormCJK-Bold"} <= font_names(pdf)  # pdf_templates/fonts.css
    text = flat(pdf_text(pdf))
    assert "报价单" in text and c["number"] in text
    assert "服务费" in text and "2,000.00" in text  # the service fee
    assert "备件：主板" in text and "3,500.00" in text  # the part at 财务部's price
    assert "合计5,500.00" in text  # the total
    assert f"有效期{policy.QUOTE_VALID_DAYS}天，至{c['quote']['valid_until']}止" in text
    assert "主板损坏" in text  # the solution's analysis
    assert "以传真发送给刘参谋" in text and "草稿" not in text


def test_the_customer_may_attach_a_written_confirmation(db, paid_until, act):
    c = paid_until("awaiting_customer")
    with pytest.raises(CaseError) as e:
        act(c, "customer_response", "sales", "2026-11-30T15:00", accepted="yes",
            responded_at=at("2026-11-30T14:00"), person="陈工", confirmation=b"not a file", confirmation_filename="x.pdf")
    assert e.value.field == "confirmation"
    assert notes.notes_of(db, c["id"]) == []  # nothing half-written
    done = act(c, "customer_response", "sales", "2026-11-30T15:00", accepted="yes",
               responded_at=at("2026-11-30T14:00"), person="陈工", confirmation=png_bytes(),
               confirmation_filename="回执.png")
    [note] = notes.notes_of(db, c["id"])
    assert note["id"] == done["customer_response"]["confirmation_note_id"]
    assert note["file"]["category"] == "confirmation" and note["file"]["filename"] == "回执.png"
    assert notes.read_attachment(db, note["id"], {"username": "sales", "roles": ["sales"]})[1] == png_bytes()


def test_pages_send_download_and_confirm(client, auth, app_world, make_case, store):
    c = make_case(username="engineer", roles=("tq_engineer",))
    cal = current_calendar(store)
    eng, fin = {"username": "engineer", "roles": ["tq_engineer"]}, {"username": "finance", "roles": ["finance"]}
    c = workflow.perform(store, cal, c["id"], "decide", eng, {"solution": "onsite_paid", "analysis": "主板损坏",
                                                            "misuse": True, "misuse_reason": "未按说明书保养"})
    c = workflow.perform(store, cal, c["id"], "quote", eng, {"service_fee": "800", "parts": [{"part": "主板", "quantity": "2"}]})
    auth.login("engineer")
    assert client.get(f"/cases/{c['id']}/quotation.pdf").status_code == 404  # not priced yet
    c = workflow.perform(store, cal, c["id"], "price", fin, {"prices": ["1000"]})
    page = client.get(f"/cases/{c['id']}").get_data(as_text=True)
    assert 'id="quotation-link"' in page and "草稿" in page and 'value="刘参谋"' in page
    draft = client.get(f"/cases/{c['id']}/quotation.pdf")
    assert draft.mimetype == "application/pdf" and "草稿" in pdf_text(draft.data)
    # missing method: the message next to the field, nothing recorded
    resp = client.post(f"/cases/{c['id']}/send-quote", data={"send_quote-rev": c["_rev"], "send_quote-recipient": "刘参谋",
                                                             "send_quote-sent_at": "2000-01-01T00:00"})
    assert resp.status_code == 400 and "请选择通知方式" in resp.get_data(as_text=True)
    sent_at = re.search(r'name="send_quote-sent_at"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post(f"/cases/{c['id']}/send-quote", data={
        "send_quote-rev": c["_rev"], "send_quote-method": "email", "send_quote-sent_at": sent_at,
        "send_quote-recipient": "刘参谋", "send_quote-address": "liu@example.com"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "已完成：通知顾客费用" in text and "以电子邮件发给 刘参谋（liu@example.com）" in text
    c = store.get("cases", c["id"])
    final = flat(pdf_text(client.get(f"/cases/{c['id']}/quotation.pdf?download=1").data))
    assert "合计2,800.00" in final and "草稿" not in final
    # the customer's answer with the written confirmation, listed on the case page
    auth.logout()
    auth.login("sales")
    resp = client.post(f"/cases/{c['id']}/customer-response", data={
        "customer_response-rev": c["_rev"], "customer_response-accepted": "yes",
        "customer_response-responded_at": sent_at, "customer_response-person": "陈工",
        "customer_response-confirmation": (io.BytesIO(png_bytes()), "回执.png")},
        content_type="multipart/form-data", follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert 'id="customer-confirmation"' in text and "回执.png" in text
