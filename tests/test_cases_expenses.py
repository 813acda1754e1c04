"""The report's expense claim (6.2.7) and its audit (6.2.8) with the conduct rules (7.1–7.4):
amounts as people type them, every line error at once, the category vocabulary and its
migration, receipts kept per line, the override, and 交际应酬 with the 主管领导's prior approval.
Domain only (records.cases.expenses, .conduct, the steps through records.cases.workflow)."""
from __future__ import annotations

import io
from datetime import date

import orjson
import pytest
from PIL import Image

from records.cases import conduct, expenses, migrations, workflow
from records.cases.vocab import CaseError, NotPermitted
from records.core import schema
from records.core.files import StorageError
from records.core.store import Store
from tests.fixtures.calendar import at
from tests.fixtures.cases import CLASSIFIED
from tests.fixtures.service_forms import report_form
from tests.fixtures.users import set_supervisor


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


# --- Amounts as typed (issue 12) ---------------------------------------------------------------


@pytest.mark.parametrize("typed, value", [
    ("1860", 1860.0), ("1,860", 1860.0), ("１８６０", 1860.0), ("¥1,860.50", 1860.5), ("￥1860", 1860.0),
    ("￥ 1,860 元", 1860.0), ("１，８６０．５", 1860.5), ("12,345,678.9", 12345678.9), ("0.5", 0.5), (" 800 ", 800.0),
    ("", None), ("  ", None), (None, None), (1860, 1860.0),
])
def test_amounts_read_as_people_type_them(typed, value):
    assert expenses.amount(typed) == value


@pytest.mark.parametrize("typed, message", [
    ("1,86", "格式不正确"), ("18,60", "格式不正确"), ("12.345", "格式不正确"), ("-5", "负数"), ("¥-5", "负数"),
    ("abc", "格式不正确"), ("1e3", "格式不正确"), ("NaN", "格式不正确"), ("$100", "格式不正确"), ("100,000,001", "不能超过"),
])
def test_bad_amounts_are_refused_with_a_reason(typed, message):
    with pytest.raises(ValueError, match=message):
        expenses.amount(typed)


# --- Every line error at once, each beside its line --------------------------------------------

TODAY = date(2026, 12, 3)
EARLIEST = date(2026, 11, 27)
GOOD = {"date": "2026-12-01", "category": "transport", "item": "高铁", "amount": "1,860"}


@pytest.mark.parametrize("rows, errors", [
    ([GOOD], []),
    ([{}, GOOD, {"date": "", "category": "", "item": "", "amount": ""}], []),  # blank rows are left out
    ([{**GOOD, "date": ""}], [(0, "date")]),
    ([{**GOOD, "date": "2026-12-04"}], [(0, "date")]),  # later than today
    ([{**GOOD, "date": "2026-11-26"}], [(0, "date")]),  # before the request was received
    ([{**GOOD, "date": "12/01"}], [(0, "date")]),
    ([{**GOOD, "category": "meal"}], [(0, "category")]),
    ([{**GOOD, "category": "other", "item": ""}], [(0, "item")]),  # 其他 says what it was
    ([{**GOOD, "amount": "0"}], [(0, "amount")]),
    ([{**GOOD, "amount": ""}], [(0, "amount")]),
    # three bad lines and one good: all refused at once, each with its own cells
    ([{**GOOD, "amount": "1,86"}, GOOD, {**GOOD, "date": "", "category": ""}, {"item": "餐费"}],
     [(0, "amount"), (2, "date"), (2, "category"), (3, "date"), (3, "category"), (3, "amount")]),
])
def test_claim_lines_refuse_every_bad_cell_at_once(rows, errors):
    if not errors:
        lines = expenses.claim_lines(rows, TODAY, EARLIEST)
        assert [(x.date, x.category, x.amount) for x in lines] == [(date(2026, 12, 1), "transport", 1860.0)]
        return
    with pytest.raises(expenses.LineErrors) as e:
        expenses.claim_lines(rows, TODAY, EARLIEST)
    assert e.value.field == "expenses"
    assert [(i, cell) for i, cell, _ in e.value.rows] == errors
    assert all(message for _, _, message in e.value.rows)


def test_receipts_are_checked_per_line_and_kept_as_blobs(tmp_path):
    good = {"content": png_bytes(), "filename": "C:\\票据\\高铁票.png"}
    with pytest.raises(expenses.LineErrors) as e:
        expenses.claim_lines([{**GOOD, "receipts": [good]}, {**GOOD, "receipts": [{"content": b"not a scan",
                                                                                     "filename": "x.pdf"}]}],
                             TODAY, EARLIEST)
    assert [(i, cell) for i, cell, _ in e.value.rows] == [(1, "receipts")] and "x.pdf" in e.value.rows[0][2]
    too_many = [good] * (expenses.MAX_RECEIPTS + 1)
    with pytest.raises(expenses.LineErrors, match="第 1 行"):
        expenses.claim_lines([{**GOOD, "receipts": too_many}], TODAY, EARLIEST)
    lines = expenses.claim_lines([{**GOOD, "receipts": [good]}, GOOD], TODAY, EARLIEST)
    [first, second] = expenses.keep_receipts(tmp_path, lines)
    [receipt] = first["receipts"]
    assert receipt["filename"] == "高铁票.png" and receipt["type"] == "png" and second["receipts"] == []
    assert (tmp_path / receipt["sha256"][:2] / receipt["sha256"]).exists() or any(tmp_path.rglob(receipt["sha256"]))


# --- The audit (6.2.8) with the override, and 7.4 ----------------------------------------------

CLAIMED = {"date": "2026-12-01", "category": "lodging", "item": "住宿", "amount": 300.0, "receipts": []}
SOCIAL = {"date": "2026-12-01", "category": "entertainment", "item": "招待工作餐", "amount": 280.0, "receipts": []}
GIVEN_BEFORE = {"id": 1, "state": "approved", "given_at": "2026-11-30T18:00:00+08:00"}


@pytest.mark.parametrize("line, row, approvals, approved, rule, error", [
    (CLAIMED, {}, [], 300.0, None, None),                                            # blank: as claimed
    (CLAIMED, {"approved": "250", "reason": "超标准"}, [], 250.0, None, None),
    (CLAIMED, {"approved": "250"}, [], None, None, "reason"),                         # less needs a reason
    (CLAIMED, {"approved": "350", "reason": "补差"}, [], None, None, "approved"),     # more: the override first
    (CLAIMED, {"approved": "350", "override": True}, [], None, None, "reason"),       # … and a reason
    (CLAIMED, {"approved": "￥350", "override": True, "reason": "另有车费"}, [], 350.0, None, None),
    (CLAIMED, {"approved": "1,86"}, [], None, None, "approved"),
    # 7.4: 交际应酬 without a prior approval: 0, 7.4 cited, no other amount, no override
    (SOCIAL, {}, [], 0.0, "7.4", None),
    (SOCIAL, {"approved": "0"}, [], 0.0, "7.4", None),
    (SOCIAL, {"approved": "280"}, [], None, None, "approved"),
    (SOCIAL, {"approved": "", "override": True, "reason": "确有必要"}, [], None, None, "approved"),
    (SOCIAL, {}, [{**GIVEN_BEFORE, "given_at": "2026-12-01T08:00:00+08:00"}], 0.0, "7.4", None),  # on the day
    (SOCIAL, {}, [{**GIVEN_BEFORE, "given_at": "2026-12-02T09:00:00+08:00"}], 0.0, "7.4", None),  # after
    (SOCIAL, {}, [{**GIVEN_BEFORE, "state": "refused"}], 0.0, "7.4", None),
    (SOCIAL, {}, [{**GIVEN_BEFORE, "state": "requested", "given_at": None}], 0.0, "7.4", None),
    # … with the 主管领导's approval given before the expense's date: audited as any line
    (SOCIAL, {}, [GIVEN_BEFORE], 280.0, None, None),
    (SOCIAL, {"approved": "200", "reason": "超出标准"}, [GIVEN_BEFORE], 200.0, None, None),
    ({**SOCIAL, "date": None}, {}, [GIVEN_BEFORE], 0.0, "7.4", None),  # a migrated line without a date
])
def test_audit_lines(line, row, approvals, approved, rule, error):
    if error:
        with pytest.raises(expenses.LineErrors) as e:
            expenses.audit_lines([CLAIMED, line], [{}, row], approvals)
        assert [(i, cell) for i, cell, _ in e.value.rows] == [(1, error)]
        if line is SOCIAL:
            assert "7.4" in e.value.rows[0][2]
        return
    [_, got] = expenses.audit_lines([CLAIMED, line], [{}, row], approvals)
    assert (got["approved"], got["rule"]) == (approved, rule)
    assert got["override"] == (approved is not None and approved > line["amount"])
    if rule:
        assert got["reason"].startswith("7.4：")


def test_prior_approval_counts_only_before_the_expense_date():
    day = date(2026, 12, 1)
    rows = [{"id": 1, "state": "approved", "given_at": "2026-12-01T00:10:00+08:00"},
            {"id": 2, "state": "approved", "given_at": "2026-11-30T23:50:00+08:00"}]
    assert conduct.prior_approval(rows, day)["id"] == 2
    assert conduct.prior_approval(rows[:1], day) is None
    assert conduct.prior_approval(rows[:1], date(2026, 12, 2))["id"] == 1


# --- Migration v3 → v4: free-text lines become 其他 with their text kept ------------------------


def test_free_text_lines_migrate_to_other_with_their_text():
    assert migrations.OTHER == expenses.OTHER
    old = {"_schema": 2, "state": "closed",
           "report": {"expenses": [{"item": "差旅", "amount": 800.0}, {"item": "餐费", "amount": 120.0}]},
           "audit": {"lines": [{"item": "差旅", "claimed": 800.0, "approved": 700.0, "reason": "超标准"},
                               {"item": "餐费", "claimed": 120.0, "approved": 120.0, "reason": ""}]}}
    doc = schema.upgrade("cases", old)
    assert doc["_schema"] == 4
    assert doc["report"]["expenses"][0] == {"date": None, "category": "other", "item": "差旅", "amount": 800.0,
                                            "receipts": []}
    assert doc["audit"]["lines"][0] == {"date": None, "category": "other", "item": "差旅", "claimed": 800.0,
                                        "approved": 700.0, "reason": "超标准", "override": False, "rule": None}
    assert migrations.expense_categories(dict(doc)) == doc  # idempotent
    assert schema.upgrade("cases", {"_schema": 2, "state": "awaiting_decision", "report": None})["report"] is None


def test_an_old_case_still_reads_and_confirms(db, cal, users, onsite_free_until):
    c = onsite_free_until("awaiting_confirmation")
    path = db.shard_path("cases", c["id"])  # as stored before issues 12 and 13: free-text lines, schema 2
    data = orjson.loads(path.read_bytes())
    doc = data["cases"][str(c["id"])]
    doc.update(_schema=2)
    doc["report"]["expenses"] = [{"item": "差旅", "amount": 800.0}]
    path.write_bytes(orjson.dumps(data))
    c = Store(db.root).get("cases", c["id"])
    assert c["report"]["expenses"] == [{"date": None, "category": "other", "item": "差旅", "amount": 800.0,
                                        "receipts": []}]
    c = workflow.perform(Store(db.root), cal, c["id"], "confirm", users["manager"], {"quality": "好", "lines": [{}],
                                                                                  **CLASSIFIED},
                         now=at("2026-12-04T10:00"))
    assert c["audit"]["lines"][0]["approved"] == 800.0 and c["_schema"] == 4


# --- Through the workflow: the checklist, receipts, approvals, the contact ---------------------


def _to_report(db, onsite_free_until, archive_signed_form):
    c = onsite_free_until("awaiting_report")
    archive_signed_form(db, c)
    return c


def test_report_keeps_checklist_receipts_and_marks_social_lines(db, users, onsite_free_until, act, archive_signed_form):
    c = _to_report(db, onsite_free_until, archive_signed_form)
    scan = png_bytes()
    with pytest.raises(CaseError, match="7.2"):  # inspected: its result is required
        act(c, "report", "tech", "2026-12-03T10:00", text="t", **report_form(inspection_result=""),
            expenses=[GOOD], returned_materials=[])
    with pytest.raises(CaseError) as e:  # a name without a phone (7.3)
        act(c, "report", "tech", "2026-12-03T10:00", text="t", **report_form(customer_contact_phone=""),
            expenses=[GOOD], returned_materials=[])
    assert e.value.field == "customer_contact_phone"
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **report_form(), returned_materials=[],
            expenses=[{**GOOD, "receipts": [{"content": scan, "filename": "票.png"}]},
                      {"date": "2026-12-02", "category": "entertainment", "item": "工作餐", "amount": "¥280"}])
    r = c["report"]
    assert r["conduct"] == {"plan_explained": True, "asked_other_faults": True, "inspected": True,
                            "inspection_result": "全面检测正常", "left_contact": True,
                            "customer_contact": {"name": "刘参谋", "phone": "0312-5550101"}}
    assert [e["category"] for e in r["expenses"]] == ["transport", "entertainment"]
    assert "含交际应酬 1 项，7.4" in c["timeline"][-1]["text"] and "报销 2140.00 元" in c["timeline"][-1]["text"]
    meta, data = expenses.read_receipt(db, c["id"], 0, 0, users["tech"])
    assert data == scan and meta["filename"] == "票.png"
    with pytest.raises(NotPermitted):
        expenses.read_receipt(db, c["id"], 0, 0, users["receiver"] | {"username": "tech2"})
    with pytest.raises(Exception):
        expenses.read_receipt(db, c["id"], 1, 0, users["tech"])  # that line has none
    blob = next((db.root / "files").rglob(meta["sha256"]))
    blob.write_bytes(b"changed")
    with pytest.raises(StorageError):
        expenses.read_receipt(db, c["id"], 0, 0, users["tech"])


@pytest.mark.parametrize("given, approved", [
    (None, 0.0),                      # never asked: 7.4, approved at 0
    ("2026-12-01T11:25", 280.0),      # agreed the day before the dinner (recorded later)
    ("2026-12-02T12:00", 0.0),        # agreed on the day of the expense, after it: not beforehand
])
def test_social_expense_needs_the_supervisors_prior_approval(db, world, users, onsite_free_until, act,
                                                             archive_signed_form, given, approved):
    c = _to_report(db, onsite_free_until, archive_signed_form)
    with pytest.raises(CaseError, match="主管领导"):  # no 主管领导 set: nobody to ask
        act(c, "request_approval", "tech", "2026-12-01T11:20", purpose="招待顾客工作餐，约 300 元")
    set_supervisor(db, "tech", "manager")
    if given:
        c = act(c, "request_approval", "tech", "2026-12-01T11:20", purpose="招待顾客工作餐，约 300 元")
        assert c["approvals"][0]["approver"] == "manager" and c["approvals"][0]["state"] == "requested"
        with pytest.raises(NotPermitted):  # only the 主管领导 the request went to
            act(c, "decide_approval", "engineer", "2026-12-03T09:00", request="1", agreed="yes", given_at=at(given))
        with pytest.raises(CaseError, match="不能晚于当前时间"):
            act(c, "decide_approval", "manager", "2026-12-03T09:00", request="1", agreed="yes",
                given_at=at("2026-12-03T10:00"))
        c = act(c, "decide_approval", "manager", "2026-12-03T09:00", request="1", agreed="yes", given_at=at(given))
        assert c["approvals"][0]["given_at"] == at(given).isoformat()
        assert c["approvals"][0]["recorded_at"] == at("2026-12-03T09:00").isoformat()
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **report_form(), returned_materials=[],
            expenses=[{"date": "2026-12-02", "category": "entertainment", "item": "工作餐", "amount": "280"}])
    if not approved:
        with pytest.raises(expenses.LineErrors, match="第 1 行"):  # neither an amount nor the override
            act(c, "confirm", "manager", "2026-12-04T10:00", quality="好", lines=[{"approved": "280"}])
    c = act(c, "confirm", "manager", "2026-12-04T10:00", quality="好", lines=[{}])
    [line] = c["audit"]["lines"]
    assert line["approved"] == approved and c["audit"]["approved_total"] == approved
    assert (line["rule"] == "7.4") == (approved == 0.0)
    assert ("按 7.4 不予认可" in c["timeline"][-1]["text"]) == (approved == 0.0)


def test_confirmation_adds_the_customer_contact_with_one_tick(db, world, onsite_free_until, act):
    c = onsite_free_until("awaiting_confirmation")  # the report took 刘参谋 0312-5550101 (7.3)
    before = db.get("customers", world.near["id"])["contacts"]
    assert conduct.contact_is_new(db.get("customers", world.near["id"]), c["report"]["conduct"]["customer_contact"])
    c = act(c, "confirm", "manager", "2026-12-04T10:00", quality="好", lines=[{}, {}], add_contact=True)
    contacts = db.get("customers", world.near["id"])["contacts"]
    assert contacts == [*before, {"name": "刘参谋", "phone": "0312-5550101", "title": ""}]
    assert c["audit"]["contact_added"] == {"name": "刘参谋", "phone": "0312-5550101"}
    assert not conduct.contact_is_new(db.get("customers", world.near["id"]), c["audit"]["contact_added"])
