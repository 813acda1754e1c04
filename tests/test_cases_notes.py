"""Notes and attachments on a case's timeline (records.cases.notes, records.cases.timeline) and the
pages of record keeping: the note form, upload and download, correct / cancel / merge / restore."""
from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from records.calendar.corrections import current_calendar
from records.cases import notes, timeline, workflow
from records.cases.vocab import CaseError, NotPermitted
from records.core.uploads import UploadRefused
from tests.fixtures.calendar import at

HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def png_bytes(size=(40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def html(resp) -> str:
    return resp.get_data(as_text=True)


# --- The domain ---------------------------------------------------------------------------------


@pytest.mark.parametrize("brand", [b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"])
def test_heic_is_refused_saying_how_to_send_it(brand):
    with pytest.raises(UploadRefused, match="兼容性最佳") as err:
        notes.check_attachment(b"\x00\x00\x00\x18" + brand + b"\x00" * 64)
    assert err.value.field == "file" and "JPEG" in str(err.value)


@pytest.mark.parametrize("content, category, field, message", [
    (None, "", "text", "请填写备注"),                                   # nothing at all
    (b"%PDF-1.4 broken", "fax", "file", "PDF 文件已损坏"),               # checked by content
    (b"GIF89a" + b"\x00" * 20, "photo", "file", "不支持的文件类型"),
    ("png", "", "category", "请选择附件类别"),
])
def test_bad_notes_are_refused_and_nothing_is_kept(db, new_case, users, content, category, field, message):
    c = new_case()
    content = png_bytes() if content == "png" else content
    with pytest.raises((CaseError, UploadRefused), match=message) as err:
        notes.add_note(db, c["id"], users["engineer"], "", content=content, filename="x", category=category)
    assert err.value.field == field
    assert db.find(notes.TABLE) == [] and not (db.root / "files").exists()


def test_notes_and_attachments_join_the_timeline_in_order(db, new_case, act, users):
    c = new_case()
    notes.add_note(db, c["id"], users["receiver"], "顾客又来电催促", now=at("2026-11-27T16:30"))
    data = png_bytes()
    photo = notes.add_note(db, c["id"], users["engineer"], "现场照片", content=data, filename="C:\\相册\\现场.png",
                           category="photo", now=at("2026-11-30T08:45"))
    c = act(c, "correct", "engineer", "2026-11-30T09:00", description="电源控制箱无输出，指示灯不亮", reason="补充现象")
    assert db.get("cases", c["id"])["_rev"] == c["_rev"]  # a note never changes the case's revision
    rows = timeline.entries(c, notes.notes_of(db, c["id"]))
    assert [r["kind"] for r in rows] == ["step", "note", "attachment", "correction"]
    assert rows[2]["attachment"]["filename"] == "现场.png" and rows[2]["attachment"]["mime"] == "image/png"
    meta, back = notes.read_attachment(db, photo["id"], users["tech"])  # a technician reads every case
    assert back == data and meta["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert (db.root / "files" / meta["file"]["sha256"]).read_bytes() == data


def test_only_readers_of_the_case_add_or_read_notes(db, new_case, users):
    c = new_case(user="engineer")
    note = notes.add_note(db, c["id"], users["engineer"], "传真已收到", content=png_bytes(), filename="fax.png",
                          category="fax")
    with pytest.raises(NotPermitted):
        notes.add_note(db, c["id"], users["receiver"], "我不是这个案例的人")
    with pytest.raises(NotPermitted):
        notes.read_attachment(db, note["id"], users["receiver"])


# --- The pages ----------------------------------------------------------------------------------


def test_a_note_and_an_attachment_through_the_case_page(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    auth.login("engineer")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="note-form"' in page and 'enctype="multipart/form-data"' in page
    resp = client.post(f"/cases/{case['id']}/notes", data={"note-text": "顾客催促"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{case['id']}#timeline")
    data = png_bytes((64, 48))
    resp = client.post(f"/cases/{case['id']}/notes", content_type="multipart/form-data",
                       data={"note-text": "顾客的书面确认", "note-category": "confirmation",
                             "note-file": (io.BytesIO(data), "确认函.png")})
    assert resp.status_code == 302
    page = html(client.get(f"/cases/{case['id']}"))
    assert "顾客催促" in page and "确认函.png" in page and "顾客书面确认（5.2.5）" in page
    [att] = [n for n in store.find(notes.TABLE) if n["kind"] == "attachment"]
    resp = client.get(f"/cases/attachments/{att['id']}")
    assert resp.status_code == 200 and resp.data == data  # byte for byte
    assert resp.mimetype == "image/png" and resp.headers["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    auth.logout()
    auth.login("receiver")  # took no part in the case: may not read it
    assert client.get(f"/cases/attachments/{att['id']}").status_code == 403
    assert client.post(f"/cases/{case['id']}/notes", data={"note-text": "x"}).status_code == 403
    assert client.get("/cases/attachments/9999").status_code == 404


def test_a_heic_photo_is_refused_beside_the_field_with_the_note_kept(client, auth, store, make_case):
    case = make_case()
    auth.login("receiver")  # the receiver reads the case they recorded
    resp = client.post(f"/cases/{case['id']}/notes", content_type="multipart/form-data",
                       data={"note-text": "现场照片见附件", "note-category": "photo",
                             "note-file": (io.BytesIO(HEIC), "IMG_0001.HEIC")})
    assert resp.status_code == 400
    page = html(resp)
    assert "HEIC" in page and "兼容性最佳" in page and "现场照片见附件" in page and "is-invalid" in page
    assert store.find(notes.TABLE) == []


def test_correct_cancel_merge_and_restore_through_the_case_page(client, auth, store, make_case):
    case = make_case()
    other = make_case()
    auth.login("engineer")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="action-correct"' in page and 'id="action-cancel"' in page and 'id="action-restore"' not in page
    assert 'value="0312-5550101"' in page  # the form starts from the case's fields
    received = case["received_at"][:16]
    fields = {"correct-rev": case["_rev"], "correct-type": "service_request",
              "correct-customer_id": case["customer_id"], "correct-product_serial": "IN-001",
              "correct-caller_name": "刘参谋", "correct-caller_phone": "0312-5550199", "correct-channel": "phone",
              "correct-description": "电源控制箱无输出", "correct-received_at": received, "correct-reason": ""}
    resp = client.post(f"/cases/{case['id']}/correct", data=fields)
    assert resp.status_code == 400 and "请填写更正理由" in html(resp) and 'value="0312-5550199"' in html(resp)
    resp = client.post(f"/cases/{case['id']}/correct", data={**fields, "correct-reason": "电话记错"})
    assert resp.status_code == 302
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'data-kind="correction"' in page and "0312-5550101" in page and "0312-5550199" in page
    fresh = store.get("cases", case["id"])
    resp = client.post(f"/cases/{case['id']}/merge", data={"merge-rev": fresh["_rev"], "merge-target": "FW1999-0001",
                                                           "merge-reason": "重复"})
    assert resp.status_code == 400 and "没有编号为 FW1999-0001 的案例" in html(resp)
    resp = client.post(f"/cases/{case['id']}/merge", data={"merge-rev": fresh["_rev"], "merge-target": other["number"],
                                                           "merge-reason": "重复来电"})
    assert resp.status_code == 302
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="case-void"' in page and "本案例已合并到" in page and f"/cases/{other['id']}" in page
    assert 'id="case-merged-from"' in html(client.get(f"/cases/{other['id']}"))
    fresh = store.get("cases", other["id"])
    resp = client.post(f"/cases/{other['id']}/cancel", data={"cancel-rev": fresh["_rev"], "cancel-reason": "顾客撤回"})
    assert resp.status_code == 302 and store.get("cases", other["id"])["outcome"] == "cancelled"
    assert client.post(f"/cases/{other['id']}/restore", data={"restore-rev": fresh["_rev"] + 1,
                                                              "restore-reason": "误作废"}).status_code == 403
    auth.logout()
    auth.login("manager")
    page = html(client.get(f"/cases/{other['id']}"))
    assert "本案例已作废" in page and 'id="action-restore"' in page
    resp = client.post(f"/cases/{other['id']}/restore", data={"restore-rev": fresh["_rev"] + 1,
                                                              "restore-reason": "误作废"})
    assert resp.status_code == 302 and store.get("cases", other["id"])["state"] == "awaiting_decision"


def test_a_cancelled_case_leaves_the_work_lists_but_stays_readable(client, auth, store, make_case):
    case, kept = make_case(), make_case()
    auth.login("engineer")  # 技质部 decides them: in its 我的待办
    page = html(client.get("/cases/my"))
    assert case["number"] in page and kept["number"] in page
    assert client.post(f"/cases/{case['id']}/cancel", data={"cancel-rev": case["_rev"],
                                                            "cancel-reason": "误登记"}).status_code == 302
    page = html(client.get("/cases/my"))
    assert case["number"] not in page and kept["number"] in page
    page = html(client.get(f"/cases/{case['id']}"))
    assert "本案例已作废" in page and "误登记" in page and 'data-kind="cancel"' in page
    listed = html(client.get("/cases/?q=" + case["number"]))  # the case list names it as cancelled
    assert 'data-outcome="cancelled"' in listed and "已作废" in listed


def test_after_the_decision_the_managers_correction_form_has_the_caller_fields_only(client, auth, store, make_case):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    engineer = {"username": "engineer", "roles": ["tq_engineer"]}
    case = workflow.perform(store, current_calendar(store), case["id"], "decide", engineer,
                            {"solution": "onsite_free", "analysis": "电源模块损坏"})
    auth.login("engineer")
    assert 'id="action-correct"' not in html(client.get(f"/cases/{case['id']}"))
    auth.logout()
    auth.login("manager")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'name="correct-caller_phone"' in page and 'name="correct-description"' in page
    assert 'name="correct-received_at"' not in page and 'name="correct-type"' not in page
    resp = client.post(f"/cases/{case['id']}/correct", data={
        "correct-rev": case["_rev"], "correct-caller_name": "刘参谋", "correct-caller_phone": "0312-5550199",
        "correct-description": "电源控制箱无输出", "correct-reason": "电话记错",
        "correct-received_at": "2020-01-01T08:00"})  # a field the form no longer has is ignored
    assert resp.status_code == 302
    fresh = store.get("cases", case["id"])
    assert fresh["caller_phone"] == "0312-5550199" and fresh["received_at"] == case["received_at"]
