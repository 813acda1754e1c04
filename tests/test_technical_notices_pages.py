"""技术通报 pages (views/technical_notices.py) through the real app: a draft with the preview of its
affected products, bad input kept beside its field, issuing (the A4 PDF archived and read back with
pdftotext), a delivery and an acknowledgement, the campaign behind its confirmation, the case page's
link back, who may read and write."""
from __future__ import annotations

from datetime import date, timedelta

from records.technical_notices.vocab import TABLE
from tests.fixtures.pdfs import flat, pdf_text

DUE = (date.today() + timedelta(days=60)).isoformat()
FORM = {"title": "电源模块过流保护改进", "model": "JX-200", "kind": "change", "text": "更换过流保护元件，详见附图。",
        "mode": "model", "ack_days": "", "onsite": "y", "onsite_due": DUE}


def test_draft_issue_deliver_acknowledge_campaign(client, auth, app_world):
    store = app_world.store
    auth.login("engineer")
    assert client.get("/technical-notices/").status_code == 200
    resp = client.post("/technical-notices/new", data={**FORM, "mode": "list", "serials": "IN-001\nNOPE-9\nOUT-001",
                                                       "preview": "y"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="selection-preview"' in html
    assert "NOPE-9" in html and "OUT-001" in html and 'id="preview-count">1<' in html  # OUT-001 is a TX-9
    resp = client.post("/technical-notices/new", data={**FORM, "title": "", "mode": "range", "serial_from": "IN-001",
                                                       "serial_to": "XX-3"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "请填写标题" in html and "XX-3" in html  # typed values kept
    assert not list(store.scan(TABLE))
    resp = client.post("/technical-notices/new", data=FORM)
    assert resp.status_code == 302
    notice = next(store.scan(TABLE))
    page = client.get(f"/technical-notices/{notice['id']}").get_data(as_text=True)
    assert 'id="preview-count">1<' in page and "某部队第一修理所" in page
    resp = client.post(f"/technical-notices/{notice['id']}/issue", data={"rev": notice["_rev"]})
    assert resp.status_code == 302
    notice = store.get(TABLE, notice["id"])
    assert notice["state"] == "issued"
    assert any(notice["pdf"]["sha256"] in str(e) for e in store.history(TABLE, notice["id"]))  # in the audit trail
    pdf = client.get(f"/technical-notices/{notice['id']}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = flat(pdf_text(pdf.data))
    assert all(flat(s) in text for s in ("技术通报", notice["number"], "电源模块过流保护改进", "JX-200", "IN-001",
                                          "30天内", DUE))
    near = str(app_world.near["id"])
    assert client.post(f"/technical-notices/{notice['id']}/delivery",
                       data={"customer_id": near, "method": "fax", "at": "2026-01-05T10:00"}).status_code == 302
    resp = client.post(f"/technical-notices/{notice['id']}/acknowledgement",
                       data={"customer_id": near, "acknowledged_by": "", "acknowledged_at": "2026-01-06T10:00"})
    assert resp.status_code == 400 and "请填写顾客确认人" in resp.get_data(as_text=True)
    assert client.post(f"/technical-notices/{notice['id']}/acknowledgement",
                       data={"customer_id": near, "acknowledged_by": "刘参谋",
                             "acknowledged_at": "2026-01-06T10:00"}).status_code == 302
    resp = client.post(f"/technical-notices/{notice['id']}/campaign", data={})
    assert resp.status_code == 400 and "请勾选确认" in resp.get_data(as_text=True)
    assert not [c for c in store.scan("cases")]
    for _ in range(2):  # run twice: one case
        assert client.post(f"/technical-notices/{notice['id']}/campaign", data={"confirm": "y"}).status_code == 302
    cases = list(store.scan("cases"))
    assert len(cases) == 1 and cases[0]["state"] == "awaiting_dispatch"
    page = client.get(f"/technical-notices/{notice['id']}").get_data(as_text=True)
    assert "传真" in page and "刘参谋" in page and cases[0]["number"] in page and "进行中 1" in page
    case_page = client.get(f"/cases/{cases[0]['id']}").get_data(as_text=True)
    assert f'href="/technical-notices/{notice["id"]}"' in case_page and notice["number"] in case_page
    auth.logout()
    auth.login("sales")  # 销售部 reads
    assert client.get(f"/technical-notices/{notice['id']}").status_code == 200
    assert client.post(f"/technical-notices/{notice['id']}/campaign", data={"confirm": "y"}).status_code == 403
    assert client.get("/technical-notices/new").status_code == 403
    auth.logout()
    auth.login("tech")
    assert client.get("/technical-notices/").status_code == 403
