"""技术通报: the notice's life (draft → issued → done), deliveries and acknowledgements, the
follow-up task of a customer not acknowledged in time (the daily task run twice), and the
campaign: a case per affected product, free, at dispatch with only the notice's due date, run
twice (GLOSSARY; records/technical_notices/, records/cases/from_notice.py)."""
from __future__ import annotations

import pytest

from records import policy
from records.cases import from_notice
from records.cases.vocab import SOURCE_TABLES
from records.followups import tasks as followups
from records.jobs import daily
from records.technical_notices import campaign, deliveries, notices, selection
from records.technical_notices.vocab import TABLE, TechnicalNoticeError
from tests.fixtures.calendar import at
from tests.fixtures.service_forms import report_form

DRAFT = {"title": "电源模块过流保护改进", "model": "JX-200", "kind": "change", "text": "更换电源模块的过流保护元件。",
         "mode": "model", "onsite": True, "onsite_due": "2027-01-29"}


@pytest.fixture
def issued(db, users):
    """``issued(**over)``: a notice issued by 技质部 on Fri 27 Nov 2026 10:00 (all three JX-200 products)."""
    def make(**over):
        n = notices.create(db, {**DRAFT, **over}, users["engineer"], now=at("2026-11-27T09:00"))
        return notices.issue(db, n["id"], users["engineer"], now=at("2026-11-27T10:00"))
    return make


def test_the_case_vocabulary_names_this_table():
    assert SOURCE_TABLES[from_notice.SOURCE][0] == TABLE


def test_draft_issue_and_done(db, users, issued):
    with pytest.raises(TechnicalNoticeError) as err:
        notices.create(db, {**DRAFT, "onsite_due": ""}, users["engineer"], now=at("2026-11-27T09:00"))
    assert err.value.field == "onsite_due"
    with pytest.raises(TechnicalNoticeError):
        notices.create(db, DRAFT, users["tech"], now=at("2026-11-27T09:00"))  # 技质部 only
    draft = notices.create(db, {**DRAFT, "ack_days": ""}, users["engineer"], now=at("2026-11-27T09:00"))
    assert draft["number"] == "TB2026-0001" and draft["state"] == "draft"
    assert draft["ack_days"] == policy.parameter(db, "notice_ack_days") == 30  # the company parameter
    draft = notices.update_draft(db, draft["id"], {**DRAFT, "ack_days": "10"}, users["engineer"],
                                 now=at("2026-11-27T09:30"))
    assert draft["ack_days"] == 10
    n = notices.issue(db, draft["id"], users["engineer"], now=at("2026-11-27T10:00"))
    assert (n["state"], n["ack_due"]) == ("issued", "2026-12-07")
    assert sorted(p["serial_no"] for p in n["affected"]) == ["IN-001", "IN-FAR", "OUT-001"]
    assert len(n["pdf"]["sha256"]) == 64
    with pytest.raises(TechnicalNoticeError):
        notices.update_draft(db, n["id"], DRAFT, users["engineer"])  # issued: never changes
    assert selection.covered_serials(db) == {"IN-001": ["TB2026-0001"], "IN-FAR": ["TB2026-0001"],
                                             "OUT-001": ["TB2026-0001"]}
    assert notices.complete(db, n["id"], users["engineer"], now=at("2026-12-01T10:00"))["state"] == "done"
    empty = notices.create(db, {**DRAFT, "mode": "list", "serials": "NOPE-1"}, users["engineer"], now=at("2026-11-27T09:00"))
    with pytest.raises(TechnicalNoticeError):
        notices.issue(db, empty["id"], users["engineer"], now=at("2026-11-27T10:00"))  # covers nothing


def test_acknowledgement_and_the_followup_task(world, db, users, cal, issued):
    n = issued(ack_days="5")  # due Wed 2 Dec
    near, far = world.near["id"], world.far["id"]
    deliveries.record_delivery(db, n["id"], near, {"method": "fax", "at": at("2026-11-27T11:00")}, users["engineer"],
                               now=at("2026-11-27T11:00"))
    deliveries.record_delivery(db, n["id"], far, {"method": "post", "at": at("2026-11-27T11:00")}, users["engineer"],
                               now=at("2026-11-27T11:00"))
    with pytest.raises(TechnicalNoticeError) as err:
        deliveries.record_delivery(db, n["id"], near, {"method": "pigeon"}, users["engineer"], now=at("2026-11-27T11:00"))
    assert err.value.field == "method"
    deliveries.record_acknowledgement(db, n["id"], near, {"acknowledged_by": "刘参谋", "acknowledged_at": at("2026-11-30T09:00")},
                                      users["engineer"], now=at("2026-11-30T09:00"))
    with pytest.raises(TechnicalNoticeError):  # once
        deliveries.record_acknowledgement(db, n["id"], near, {"acknowledged_by": "王"}, users["engineer"],
                                          now=at("2026-11-30T10:00"))
    # Within the days: nothing to follow up.
    assert deliveries.make_followups(db, at("2026-12-02T20:00"), cal, False) == {"created": 0, "dry_run": False}
    assert daily.TASKS["technical_notice_acknowledgements"] is deliveries.make_followups
    first = daily.run_daily(db, at("2026-12-03T08:00"), cal, False)["technical_notice_acknowledgements"]
    again = daily.run_daily(db, at("2026-12-04T08:00"), cal, False)["technical_notice_acknowledgements"]
    assert (first["created"], again["created"]) == (1, 0)  # idempotent
    tasks = [t for t in db.scan(followups.TABLE) if t["kind"] == followups.TECHNICAL_NOTICE]
    assert [(t["customer_id"], t["period"], t["assignee"], t["clause"]) for t in tasks] == \
        [(far, "TB2026-0001", "engineer", "8.1")]
    rows = {r["customer_id"]: r for r in deliveries.progress(db, db.get(TABLE, n["id"]), at("2026-12-04T08:00").date())}
    assert (rows[near]["acknowledged_by"], rows[near]["late"], [d["method"] for d in rows[near]["deliveries"]]) == \
        ("刘参谋", False, ["fax"])
    assert (rows[far]["late"], rows[far]["followup_id"], rows[far]["serials"]) == (True, tasks[0]["id"], ["IN-FAR", "OUT-001"])
    assert followups.partners(db.scan(followups.TABLE), tasks[0]) == []  # never joined with an 8.1/8.2 call
    assert [(x["id"], k) for x, k in deliveries.overdue_notices(db, at("2026-12-04T08:00").date())] == [(n["id"], 1)]


def test_campaign_twice_free_at_dispatch_then_like_any_case(db, users, cal, issued, act, archive_signed_form):
    n = issued()
    first = campaign.run(db, n["id"], users["engineer"], now=at("2026-11-27T11:00"))
    again = campaign.run(db, n["id"], users["engineer"], now=at("2026-11-27T12:00"))
    assert (len(first.created), len(first.existing), len(again.created), len(again.existing)) == (3, 0, 0, 3)
    cases = {c["product_serial"]: c for c in first.created}
    for c in cases.values():
        assert c["state"] == "awaiting_dispatch"  # 待派出
        assert list(c["deadlines"]) == ["notice_due"]  # no 6.1.3, 6.2.1, 6.2.2, 5.1.1.3
        assert c["deadlines"]["notice_due"]["due"] == "2027-01-29T23:59:00+08:00"
        assert c["decision"]["solution"] == "onsite_free"
        assert c["source"] == {"type": "technical_notice", "id": n["id"], "label": "TB2026-0001"}
    assert cases["OUT-001"]["warranty"]["in_warranty"] is False  # free whatever the warranty
    c = cases["OUT-001"]
    c = act(c, "dispatch", "engineer", "2026-11-30T16:00", technicians=["tech"], plan="更换过流保护元件",
            precautions="带备件", departed_at=at("2026-11-30T16:30"))
    assert c["dispatch"]["form_no"].startswith("JF2026-")
    c = act(c, "arrive", "tech", "2026-12-01T10:00", arrived_at=at("2026-12-01T09:30"))
    c = act(c, "complete", "tech", "2026-12-02T11:00", work_done="更换过流保护元件",
            completed_at=at("2026-12-02T10:30"), form_path="paper")
    assert c["deadlines"]["notice_due"]["done_at"] == "2026-12-02T10:30:00+08:00"
    c = act(c, "approve_return", "engineer", "2026-12-02T11:10")
    c = act(c, "record_return", "tech", "2026-12-02T16:00", returned_at=at("2026-12-02T15:00"))
    assert c["deadlines"]["report"]["clause"] == "6.2.7"
    archive_signed_form(db, c)
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已按通报更改", **report_form(), expenses=[],
            returned_materials=[])
    assert c["report"]["service_form"]["charge"] == "free"
    assert c["deadlines"]["confirm"]["clause"] == "6.2.8"
    c = act(c, "confirm", "manager", "2026-12-04T10:00", quality="按通报完成", lines=[])
    assert (c["state"], c["outcome"]) == ("closed", "completed")
    rows = deliveries.progress(db, db.get(TABLE, n["id"]), at("2026-12-04T10:00").date())
    far = next(r for r in rows if "OUT-001" in r["serials"])
    assert (len(far["cases_open"]), len(far["cases_done"])) == (1, 1)


def test_campaign_refusals(db, users, issued):
    n = issued(onsite=False, onsite_due="")
    with pytest.raises(TechnicalNoticeError):
        campaign.run(db, n["id"], users["engineer"], now=at("2026-11-27T11:00"))  # no on-site work
    n = issued()
    with pytest.raises(TechnicalNoticeError):
        campaign.run(db, n["id"], users["sales"] if "sales" in users else users["tech"], now=at("2026-11-27T11:00"))
