"""Every call can be recorded (6.1.1–6.1.4, 6.2.2; issue 10): recording is the hand-over to
技质部, the 接收人 who took the call, a unit or serial not in the system (待核实) and its
resolution, phone numbers, the duplicate warning, and the v1 → v2 migration of stored cases.

Domain tests at pinned times (the world of tests/fixtures/: near IN-001 in warranty, far OUT-001
out of warranty), then the intake page through the test client.
"""
from __future__ import annotations

import re

import orjson
import pytest

from records import policy
from records.calendar import time_limits
from records.calendar.workdays import WorkCalendar
from records.cases import vocab
from records.cases.duplicates import possible_duplicates
from records.catalog import customers, phones
from records.core import schema
from records.core.errors import DomainError
from records.core.store import Store
from records.fines.visibility import PROPOSED_TEXT
from records.jobs.overdue import run_overdue
from tests.fixtures.calendar import at

# --- Recording is the hand-over (6.1.3): who took the call, when it was recorded ------------------


@pytest.mark.parametrize("taker, recorder, received, recorded, fines, handover_done, tq_at, decision_due", [
    # a receiver records at once: 6.1.3 met at the recording; 技质部 has it then (6.2.2)
    ("receiver", "receiver", "2026-11-27T09:00", "2026-11-27T09:00", [], "2026-11-27T09:00",
     "2026-11-27T09:00", "2026-11-30T09:30"),
    # recorded 4 working hours after the call, to the minute: still on time
    ("receiver", "receiver", "2026-11-27T09:00", "2026-11-27T14:30", [], "2026-11-27T14:30",
     "2026-11-27T14:30", "2026-11-30T15:00"),
    # recorded later: one 6.1.4 proposal for the receiver; the 6.2.2 clock starts at the recording
    ("receiver", "receiver", "2026-11-27T09:00", "2026-11-27T14:31", ["receiver"], "2026-11-27T14:31",
     "2026-11-27T14:31", "2026-11-30T15:01"),
    # 技质部 records a call the receiver took: the receiver stays responsible
    ("receiver", "engineer", "2026-11-27T09:00", "2026-11-30T09:00", ["receiver"], "2026-11-30T09:00",
     "2026-11-30T09:00", "2026-12-01T09:30"),
    # a 技质部 member took the call: no 6.1.3 deadline; 技质部 had it at the call's own time
    ("engineer", "engineer", "2026-11-27T09:00", "2026-11-30T09:00", [], None,
     "2026-11-27T09:00", "2026-11-30T09:30"),
    ("manager", "engineer", "2026-11-27T09:00", "2026-11-30T09:00", [], None,
     "2026-11-27T09:00", "2026-11-30T09:30"),
])
def test_recording_is_the_hand_over(db, new_case, taker, recorder, received, recorded, fines, handover_done,
                                    tq_at, decision_due):
    c = new_case(user=recorder, now=recorded, received_at=at(received), received_by=taker)
    assert (c["received_by"], c["recorded_by"], c["state"]) == (taker, recorder, "awaiting_decision")
    assert [(f["clause"], f["person"], f["amount"]) for f in c["fines"]] == [
        ("6.1.4", p, policy.FINE_HANDOVER_LATE.value) for p in fines]
    entry = c["deadlines"].get("handover")
    assert (entry["done_at"][:16] if entry else None) == handover_done
    if entry:
        assert entry["start"][:16] == received and entry["responsible"] == taker  # from the call's own time
    assert c["tq_received_at"][:16] == tq_at
    assert c["deadlines"]["decision"]["due"][:16] == decision_due
    assert run_overdue(db, at("2026-12-10T10:00"), send_mail=False)["fines_proposed"] == 0  # never a second


def test_the_receiver_must_be_an_active_user(db, world, new_case):
    with pytest.raises(vocab.CaseError) as e:
        new_case(user="engineer", received_by="nobody")
    assert e.value.field == "received_by"
    assert db.count(vocab.TABLE) == 0


def test_only_tq_records_a_call_on_someone_elses_behalf(db, world, new_case):
    with pytest.raises(vocab.CaseError, match="只有技质部可以代他人登记") as e:
        new_case(user="receiver", received_by="tech")  # a receiver cannot make another person responsible
    assert e.value.field == "received_by" and db.count(vocab.TABLE) == 0


# --- Phone numbers (6.1.1) ------------------------------------------------------------------------


@pytest.mark.parametrize("typed, kept, digits", [
    ("0312-5550101", "0312-5550101", "03125550101"),
    ("０３１２－５５５０１０１", "0312-5550101", "03125550101"),  # full-width digits and hyphen
    ("+86 (312) 555 0101", "+86 (312) 555 0101", "863125550101"),
    ("0312-5550101 转 8", "0312-5550101 转 8", "031255501018"),
    ("0312 5550101 ext 12", "0312 5550101 ext 12", "0312555010112"),
    ("  138 0013  8000 ", "138 0013 8000", "13800138000"),
])
def test_phones_accepted_and_their_digits(typed, kept, digits):
    assert phones.normalise(typed) == kept and phones.digits(typed) == digits


@pytest.mark.parametrize("typed", ["0312/5550101", "电话 0312", "abc", "12#3", "---", "0312-555 转"])
def test_phones_refused_with_a_chinese_message(typed):
    with pytest.raises(DomainError) as e:
        phones.normalise(typed, "来电人电话", "caller_phone")
    assert e.value.field == "caller_phone" and "电话号码只能包含数字" in str(e.value)


def test_caller_phone_stored_with_its_digits_and_checked_at_intake(new_case):
    c = new_case(caller_phone="０３１２－５５５０１０１ 转 8")
    assert (c["caller_phone"], c["caller_phone_digits"]) == ("0312-5550101 转 8", "031255501018")
    with pytest.raises(vocab.CaseError) as e:
        new_case(caller_phone="0312-555 0101 找刘参谋")
    assert e.value.field == "caller_phone" and "电话" in str(e.value)


def test_customer_contacts_phones_checked(db):
    with pytest.raises(customers.CustomerError) as e:
        customers.create_customer(db, {"name": "新单位", "distance_km": 10,
                                       "contacts": [{"name": "王工", "phone": "王工的手机"}]}, "t")
    assert e.value.field == "contacts" and "王工" in str(e.value)
    made = customers.create_customer(db, {"name": "新单位", "distance_km": 10,
                                          "contacts": [{"name": "王工", "phone": "１３８００１３８０００"}]}, "t")
    assert made["contacts"][0]["phone"] == "13800138000"


# --- A unit or serial not in the system (待核实) -----------------------------------------------------


def unknown(new_case, kind="service_request", **over):
    data = {"customer_id": "", "serial": "", "kind": kind, "unverified": True, "unit_text": "某新列装部队",
            "product_serial": "JX-NEW-9"}
    data.update(over)
    return new_case(**data)


def test_unknown_unit_and_serial_recorded_as_unverified(new_case):
    c = unknown(new_case)
    assert c["unverified"] == {"unit": "某新列装部队", "serial": "JX-NEW-9"}
    assert (c["customer_id"], c["customer_name"], c["product_id"], c["product_serial"]) == (
        None, "某新列装部队", None, "JX-NEW-9")
    assert c["warranty"] is None and c["state"] == "awaiting_decision"
    assert "待核实" in c["timeline"][0]["text"]


@pytest.mark.parametrize("over, field", [
    ({"unverified": False}, "product_serial"),           # a serial not found, not marked 待核实
    ({"unit_text": ""}, "unit_text"),                    # no unit at all
    ({"unverified": False, "product_serial": ""}, "product_serial"),
])
def test_unknown_refusals_name_their_field(db, new_case, over, field):
    with pytest.raises(vocab.CaseError) as e:
        unknown(new_case, **over)
    assert e.value.field == field and db.count(vocab.TABLE) == 0


def test_a_known_unit_with_an_unknown_serial(world, new_case):
    c = new_case(serial="JX-NEW-1", customer_id=world.far["id"], unverified=True)
    assert c["unverified"] == {"unit": "", "serial": "JX-NEW-1"} and c["customer_id"] == world.far["id"]


def test_unknown_consultation_is_answered_and_closed_without_resolving(users, new_case, act):
    c = unknown(new_case, kind="consultation", product_serial="")
    assert c["state"] == "awaiting_reply" and c["unverified"] == {"unit": "某新列装部队", "serial": ""}
    c = act(c, "reply", "engineer", "2026-11-30T09:00", answer="按说明书操作")
    assert (c["state"], c["outcome"]) == ("closed", "answered") and c["unverified"]


def test_decision_refused_until_resolved_then_linked_to_existing(world, db, users, new_case, act):
    c = unknown(new_case, unit_text="近处的部队", product_serial="in-001")  # typed in lower case: still found
    assert c["unverified"] is None and c["product_serial"] == "IN-001"  # the product names its customer
    c = unknown(new_case, unit_text="近处的部队", product_serial="IN-404")
    with pytest.raises(vocab.CaseError) as e:
        act(c, "decide", "engineer", "2026-11-30T09:00", solution="onsite_free", analysis="a")
    assert "待核实" in str(e.value) and "6.2.2" in str(e.value)
    with pytest.raises(vocab.NotPermitted):
        act(c, "resolve_unknown", "receiver", "2026-11-30T09:00", customer_id=world.near["id"], product_serial="IN-001")
    with pytest.raises(vocab.CaseError) as e:  # the serial belongs to another customer
        act(c, "resolve_unknown", "engineer", "2026-11-30T09:00", customer_id=world.far["id"], product_serial="IN-001")
    assert e.value.field == "product_serial"
    c = act(c, "resolve_unknown", "engineer", "2026-11-30T09:00", customer_id=world.near["id"],
            product_serial="IN-001", note="电话核实")
    assert c["unverified"] is None and c["verified"]["was"] == {"unit": "近处的部队", "serial": "IN-404"}
    assert (c["customer_id"], c["product_serial"], c["warranty"]["in_warranty"]) == (world.near["id"], "IN-001", True)
    c = act(c, "decide", "engineer", "2026-11-30T10:00", solution="onsite_free", analysis="电源模块损坏")
    # 5.1.1.3 from the call's own time (Fri 16:00), 150 km: 24 clock hours
    assert c["deadlines"]["arrival"]["start"] == "2026-11-27T16:00:00+08:00"
    assert [t["action"] for t in c["timeline"]] == ["intake", "resolve_unknown", "decide"]


def test_resolution_creates_customer_and_product_warranty_from_the_call(db, new_case, act):
    c = unknown(new_case)
    bad = dict(customer_id=0, new_customer_name="某新列装部队", new_customer_distance_km="500", product_serial="JX-NEW-9",
               new_product=True, new_model="JX-200", new_product_name="电源控制箱", new_delivery_date="2024-11-28",
               new_warranty_months="")
    with pytest.raises(vocab.CaseError) as e:
        act(c, "resolve_unknown", "engineer", "2026-11-30T09:00", **bad)
    assert e.value.field == "new_warranty_months"
    assert db.count("customers") == 2 and db.count("products") == 3  # nothing half-written
    c = act(c, "resolve_unknown", "engineer", "2026-11-30T09:00", **{**bad, "new_warranty_months": "24"})
    made = db.get("customers", c["customer_id"])
    assert made["name"] == "某新列装部队" and made["contacts"] == [{"name": "刘参谋", "phone": "0312-5550101", "title": ""}]
    # delivered 2024-11-28 with 24 months: in warranty on the call's day (2026-11-27), not on the 28th
    assert c["warranty"]["in_warranty"] is True and c["warranty"]["last_day"] == "2026-11-27"
    assert c["verified"]["created"] == ["customer", "product"]
    c = act(c, "decide", "engineer", "2026-11-30T10:00", solution="onsite_free", analysis="a")
    assert c["deadlines"]["arrival"]["start"] == "2026-11-27T16:00:00+08:00"  # 500 km: 48 h from the call
    assert c["deadlines"]["arrival"]["due"] == "2026-11-29T16:00:00+08:00"


# --- The duplicate warning ---------------------------------------------------------------------------


def test_possible_duplicates_by_open_product_or_recent_phone(db, world, new_case, act):
    a = new_case(caller_phone="0312-555 0101")
    b = new_case(kind="consultation", serial="", caller_phone="(0937) 5550202", now="2026-11-20T17:00")
    closed = new_case(kind="consultation", serial="OUT-001", customer_id=world.far["id"], caller_phone="1",
                      answered_directly=True, direct_answer="已答复")
    now = at("2026-11-27T17:00")

    def found(serial, phone, when=now):
        return [(r["case"]["id"], r["why"]) for r in possible_duplicates(db, serial, phone, when)]
    assert found("in-001", "") == [(a["id"], ["product"])]
    assert found("", "０３１２５５５０１０１") == [(a["id"], ["phone"])]  # digits alone, full-width too
    assert found("IN-001", "0312-5550101") == [(a["id"], ["product", "phone"])]
    assert found("", "0937-5550202") == [(b["id"], ["phone"])]  # 7 days ago, to the day
    assert found("", "0937-5550202", at("2026-11-27T17:01")) == []  # a little over 7 days
    assert found("OUT-001", "") == []  # its case is closed
    assert found("", "0101") == []  # too few digits to match a phone
    assert closed["state"] == "closed"


# --- Stored cases waiting for the old hand-over step (schema v1 → v2) ---------------------------------


def write_v1_cases(root) -> None:
    """Cases as issue 9 stored them, waiting in ``awaiting_handover``; received Fri 27 Nov 09:00
    (6.1.3 due 14:30) and recorded at 10:00 (on time) or on Monday (late), plus one decided."""
    handover = {**time_limits.handover_deadline(WorkCalendar.default(), at("2026-11-27T09:00")).to_dict(),
                "done_at": None, "responsible": "receiver"}
    base = {"type": "service_request", "state": "awaiting_handover", "customer_id": 1, "customer_name": "甲",
            "caller_name": "刘", "caller_phone": "0312-555 0101", "received_at": "2026-11-27T09:00:00+08:00",
            "received_by": "receiver", "tq_received_at": None, "handed_over_by": None, "direct_answer": None,
            "deadlines": {"handover": handover}, "fines": [], "timeline": [], "_rev": 1, "_schema": 1,
            "_created": "2026-11-27T01:00:00.000+00:00", "_updated": "2026-11-27T01:00:00.000+00:00",
            "_by": "old", "_audit": []}
    docs = {
        "1": {**base, "id": 1, "number": "FW2026-0001", "recorded_at": "2026-11-27T10:00:00+08:00"},
        "2": {**base, "id": 2, "number": "FW2026-0002", "recorded_at": "2026-11-30T09:00:00+08:00"},
        "3": {**base, "id": 3, "number": "FW2026-0003", "type": "consultation", "recorded_at": "2026-11-27T10:00:00+08:00",
              "direct_answer": {"text": "已答复", "by": "receiver", "at": "2026-11-27T09:00:00+08:00"}},
        "4": {**base, "id": 4, "number": "FW2026-0004", "state": "awaiting_dispatch",
              "recorded_at": "2026-11-27T10:00:00+08:00"},
    }
    folder = root / "tables" / vocab.TABLE
    folder.mkdir(parents=True)
    (folder / "000000.json").write_bytes(orjson.dumps({vocab.TABLE: docs}))


def test_cases_waiting_for_hand_over_are_handed_over_at_their_recording(tmp_path, runner):
    root = tmp_path / "data"
    write_v1_cases(root)
    store = Store(root)
    on_time, late, answered, decided = (store.get(vocab.TABLE, i) for i in (1, 2, 3, 4))
    assert on_time["_schema"] == schema.current(vocab.TABLE) and on_time["state"] == "awaiting_decision"
    assert on_time["tq_received_at"] == on_time["deadlines"]["handover"]["done_at"] == "2026-11-27T10:00:00+08:00"
    assert on_time["deadlines"]["decision"]["due"] == "2026-11-30T10:30:00+08:00"  # 6.2.2 from the recording
    assert on_time["fines"] == [] and on_time["caller_phone_digits"] == "03125550101"
    assert late["deadlines"]["handover"]["done_at"] == "2026-11-30T09:00:00+08:00"
    assert [(f["clause"], f["person"], f["proposed_by"]) for f in late["fines"]] == [("6.1.4", "receiver", "migrate")]
    assert (answered["state"], answered["outcome"]) == ("closed", "answered")
    assert decided["state"] == "awaiting_dispatch" and decided["deadlines"]["handover"]["done_at"] is None
    assert [t["action"] for t in late["timeline"]] == ["intake"] and PROPOSED_TEXT in late["timeline"][0]["text"]  # the clause names the person: readers only

    result = runner.invoke(["migrate", "--data-dir", str(root)])
    assert result.exit_code == 0 and "cases 4" in result.output, result.output
    stored = orjson.loads((root / "tables" / vocab.TABLE / "000000.json").read_bytes())[vocab.TABLE]
    assert {d["_schema"] for d in stored.values()} == {schema.current(vocab.TABLE)}
    assert stored["2"]["state"] == "awaiting_decision"
    assert len(stored["2"]["fines"]) == 1
    assert runner.invoke(["migrate", "--data-dir", str(root)]).output.strip().endswith("无需迁移")


# --- The intake page --------------------------------------------------------------------------------


def html(resp) -> str:
    return resp.get_data(as_text=True)


def test_intake_page_offers_receiver_contacts_and_a_local_script(client, auth, store, app_world):
    customers.update_customer(store, app_world.near["id"], {
        **{k: app_world.near[k] for k in customers.FIELDS},
        "contacts": [{"name": "刘参谋", "phone": "0312-5550101"}, {"name": "王干事", "phone": "0312-5550102"}]}, "t")
    auth.login("engineer")
    page = html(client.get("/cases/new"))
    assert re.search(r'<option selected value="engineer">|<option value="engineer" selected>', page)
    assert '<option value="receiver">' in page  # 技质部 may record a call someone else took
    assert 'src="/static/intake.js"' in page and client.get("/static/intake.js").status_code == 200
    assert '"0312-5550102"' in page and "data-known=" in page  # the contacts, as data for the script
    resp = client.post("/cases/new", data={
        "type": "service_request", "customer_id": str(app_world.near["id"]), "product_serial": "IN-001",
        "caller_name": "王干事", "caller_phone": "0312-5550102", "description": "无输出", "received_by": "receiver"})
    assert resp.status_code == 302
    case = store.find(vocab.TABLE)[0]
    assert (case["received_by"], case["recorded_by"], case["state"]) == ("receiver", "engineer", "awaiting_decision")
    page = html(client.get(resp.headers["Location"]))
    assert 'id="case-recorded-by"' in page and "接收人仍为责任人" in page
    # the chosen customer's contacts as one-tap buttons when the form comes back (works without the script)
    resp = client.post("/cases/new", data={"type": "service_request", "customer_id": str(app_world.near["id"]),
                                           "caller_phone": "电话 abc", "caller_name": "", "description": "x"})
    page = html(resp)
    assert resp.status_code == 400 and 'data-contact-phone="0312-5550102"' in page
    assert "电话号码只能包含数字" in page and 'value="电话 abc"' in page


def test_duplicate_warning_names_the_case_and_lets_the_receiver_go_on(client, auth, store, intake_data, make_case):
    first = make_case()
    auth.login("receiver")
    resp = client.post("/cases/new", data=intake_data(caller_phone="0312 555 0101"))
    page = html(resp)
    assert resp.status_code == 200 and store.count(vocab.TABLE) == 1
    assert 'id="duplicate-warning"' in page and f'href="/cases/{first["id"]}"' in page and first["number"] in page
    assert "同一产品的未结案例" in page and "同一来电电话" in page and 'name="confirm_duplicate"' in page
    resp = client.post("/cases/new", data=intake_data(caller_phone="0312 555 0101", confirm_duplicate="y"))
    assert resp.status_code == 302 and store.count(vocab.TABLE) == 2


def test_unknown_unit_through_the_pages(client, auth, store, app_world, intake_data):
    auth.login("receiver")
    resp = client.post("/cases/new", data=intake_data(customer_id="0", product_serial="NEW-77", unit_text="某新部队"))
    assert resp.status_code == 400 and "待核实" in html(resp) and store.count(vocab.TABLE) == 0
    resp = client.post("/cases/new", data=intake_data(customer_id="0", product_serial="NEW-77", unit_text="某新部队",
                                                      unverified="y"))
    assert resp.status_code == 302
    case = store.find(vocab.TABLE)[0]
    auth.logout()
    auth.login("engineer")
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'data-unverified="unit"' in page and 'id="action-resolve_unknown"' in page
    assert 'id="action-decide"' not in page and '<datalist id="product-serials">' in page
    resp = client.post(f"/cases/{case['id']}/decide", data={"decide-rev": case["_rev"], "decide-solution": "onsite_free",
                                                           "decide-analysis": "a"})
    assert resp.status_code == 409 and "待核实" in html(resp)
    resp = client.post(f"/cases/{case['id']}/resolve-unknown", data={
        "resolve_unknown-rev": case["_rev"], "resolve_unknown-customer_id": "0",
        "resolve_unknown-new_customer_name": "某新部队", "resolve_unknown-new_customer_distance_km": "abc",
        "resolve_unknown-product_serial": "IN-001"})
    assert resp.status_code == 400
    resp = client.post(f"/cases/{case['id']}/resolve-unknown", data={
        "resolve_unknown-rev": case["_rev"], "resolve_unknown-customer_id": str(app_world.near["id"]),
        "resolve_unknown-product_serial": "IN-001"})
    assert resp.status_code == 302
    page = html(client.get(f"/cases/{case['id']}"))
    assert 'id="case-verified"' in page and "某新部队" in page and 'id="action-decide"' in page
