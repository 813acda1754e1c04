"""One record of what happened on site (issue 12; 6.2.6, 6.2.7, 6.2.9): the time rules every path
shares, the differences from the signed form, 维修完毕 on the tablet and the paper path, 服务性质
preset from the decision, and old cases with a quick rating at 维修完毕."""
from __future__ import annotations

import pytest

from records.cases import onsite_record
from records.cases.vocab import CaseError
from records.service_forms import consistency
from tests.fixtures.calendar import at
from tests.fixtures.service_forms import RATED, report_form

NOW = at("2026-12-02T12:00")
DEPARTED, ARRIVED, COMPLETED, RETURNED = (at("2026-11-30T16:30"), at("2026-12-01T09:30"), at("2026-12-02T10:30"),
                                          at("2026-12-02T15:00"))


# --- the time rules of every path (tablet form, 维修完毕, report) -------------------------------
@pytest.mark.parametrize("times, expected", [
    ({}, None),
    ({"completed": at("2026-12-02T12:00:30")}, None),                   # this very minute
    ({"completed": at("2026-12-02T12:01")}, ("completed_at", "完成时间不能晚于当前时间")),
    ({"arrived": at("2026-12-03T08:00"), "completed": None}, ("arrived_at", "到达时间不能晚于当前时间")),
    ({"arrived": at("2026-11-30T16:29")}, ("arrived_at", "到达时间不能早于出发时间（2026-11-30 16:30）")),
    ({"arrived": at("2026-11-30T16:30:40")}, None),                     # to the minute
    ({"completed": at("2026-12-01T09:29")}, ("completed_at", "完成时间不能早于到达时间（2026-12-01 09:30）")),
    ({"completed": at("2026-12-02T15:01"), "returned": RETURNED, "now": at("2026-12-03T10:00")},
     ("completed_at", "完成时间不能晚于返回公司时间（2026-12-02 15:00）")),
    ({"completed": at("1999-12-02T10:00"), "arrived": None}, ("completed_at", "完成时间不合理")),
    ({"departed": None, "arrived": at("2026-11-01T08:00")}, None),       # 维修完毕: the departure is not its to check
])
def test_time_rules(times, expected):
    args = {"now": NOW, "arrived": ARRIVED, "completed": COMPLETED, "departed": DEPARTED, "returned": None, **times}
    assert consistency.time_problem(**args) == expected


# --- the differences from the signed form -------------------------------------------------------
SIGNED = {"arrived_at": "2026-12-01 09:30", "completed_at": "2026-12-02 10:30", "fault_found": "电源模块无输出",
          "cause": "过流保护元件损坏", "work_done": "更换电源模块，全面检测正常", "charge": "free", "amount": "",
          "parts": [{"name": "电源模块", "spec": "", "qty": 1, "note": ""}], "ratings": dict(RATED),
          "remarks": "服务及时", "customer_signer": "陈工"}


def _reported(**over) -> dict:
    """The report's service_form as the step stores it (ISO times, parts {part, quantity})."""
    out = {"arrived_at": "2026-12-01T09:30:00+08:00", "completed_at": "2026-12-02T10:30:00+08:00",
           "fault_found": "电源模块无输出", "cause": "过流保护元件损坏", "work_done": "更换电源模块，全面检测正常",
           "parts": [{"part": "电源模块", "quantity": 1}], "charge": "free", "amount": None, "ratings": dict(RATED),
           "remarks": "服务及时"}
    out.update(over)
    return out


@pytest.mark.parametrize("over, expected", [
    ({}, []),
    ({"work_done": " 更换电源模块，全面检测正常\r\n"}, []),              # spaces and line ends are no difference
    ({"completed_at": "2026-12-02T10:30:59+08:00"}, []),                  # to the minute
    ({"completed_at": "2026-12-02T11:00:00+08:00"}, [("completed_at", "完成时间", "2026-12-02 10:30", "2026-12-02 11:00")]),
    ({"ratings": {**RATED, "overall": "unsatisfied"}}, [("ratings.overall", "顾客评价·总体评价", "满意", "不满意")]),
    ({"parts": []}, [("parts", "更换零部件", "电源模块 × 1", "无")]),
    ({"charge": "paid", "amount": 800.0}, [("charge", "服务性质", "免费", "有偿"), ("amount", "收费金额", "", "800.00 元")]),
    ({"remarks": ""}, [("remarks", "顾客意见与建议", "服务及时", "")]),
])
def test_differences_from_the_signed_form(over, expected):
    diffs = consistency.differences(consistency.signed_record(SIGNED), _reported(**over))
    assert [(d["field"], d["label"], d["signed"], d["reported"]) for d in diffs] == expected


def test_only_the_fields_reported_are_compared():
    signed = consistency.signed_record(SIGNED)
    assert consistency.differences(signed, {"completed_at": COMPLETED, "work_done": SIGNED["work_done"]}) == []
    [d] = consistency.differences(signed, {"completed_at": COMPLETED, "work_done": "更换"})
    assert d["field"] == "work_done"


# --- 维修完毕: the tablet path needs the signed version; the paper path is typed ------------------
def test_complete_on_the_tablet_path_needs_the_signed_version_then_takes_it(db, act, onsite_free_until,
                                                                            archive_signed_form):
    c = onsite_free_until("on_site")
    with pytest.raises(CaseError) as e:
        act(c, "complete", "tech", "2026-12-02T11:00", form_path="tablet")
    assert e.value.field == "form_path" and "6.2.6" in str(e.value)
    archive_signed_form(db, c, kind="tablet", fields=SIGNED)
    with pytest.raises(CaseError) as e:  # signed on the tablet: not the paper path
        act(c, "complete", "tech", "2026-12-02T11:00", form_path="paper", work_done="w", completed_at=COMPLETED)
    assert e.value.field == "form_path"
    done = act(c, "complete", "tech", "2026-12-02T11:00", form_path="tablet")  # the signed values, as they are
    assert (done["onsite"]["completed_at"], done["onsite"]["work_done"]) == ("2026-12-02T10:30:00+08:00", SIGNED["work_done"])
    assert done["onsite"]["form_path"] == "tablet" and done["onsite"]["differences"] == []
    assert "evaluation" not in done["onsite"]  # no quick rating: the ratings are the signed form's


def test_complete_differing_from_the_signed_form_needs_a_reason(db, act, onsite_free_until, archive_signed_form):
    c = onsite_free_until("on_site")
    archive_signed_form(db, c, kind="tablet", fields=SIGNED)
    later = {"form_path": "tablet", "work_done": SIGNED["work_done"], "completed_at": at("2026-12-02T10:50")}
    with pytest.raises(CaseError) as e:
        act(c, "complete", "tech", "2026-12-02T11:00", **later)
    assert e.value.field == "difference_reason" and "完成时间" in str(e.value)
    done = act(c, "complete", "tech", "2026-12-02T11:00", **later, difference_reason="签字后又调试了 20 分钟")
    assert done["onsite"]["differences"] == [{"field": "completed_at", "label": "完成时间", "signed": "2026-12-02 10:30",
                                              "reported": "2026-12-02 10:50", "reason": "签字后又调试了 20 分钟"}]
    assert [d["step"] for d in onsite_record.differences(done)] == ["维修完毕"]


@pytest.mark.parametrize("completed, field", [("2026-12-02T11:05", "completed_at"),   # after now
                                              ("2026-12-01T09:00", "completed_at")])  # before the arrival
def test_complete_keeps_the_time_rules_on_the_paper_path(act, onsite_free_until, completed, field):
    c = onsite_free_until("on_site")
    with pytest.raises(CaseError) as e:
        act(c, "complete", "tech", "2026-12-02T11:00", form_path="paper", work_done="w", completed_at=at(completed))
    assert e.value.field == field


def test_report_on_the_tablet_path_records_differences_with_their_reason(db, act, onsite_free_until,
                                                                         archive_signed_form):
    c = onsite_free_until("awaiting_report")  # completed on the paper path, then signed again on the tablet
    archive_signed_form(db, c, kind="tablet", fields=SIGNED, reason="平板重签")
    changed = {**report_form(), "remarks": "服务及时，希望多带备件"}
    with pytest.raises(CaseError) as e:
        act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **changed)
    assert e.value.field == "difference_reason" and "顾客意见与建议" in str(e.value)
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", **changed, difference_reason="顾客电话补充")
    assert c["report"]["path"] == "tablet"
    assert [(d["step"], d["field"], d["reason"]) for d in onsite_record.differences(c)] == [
        ("书面汇报", "remarks", "顾客电话补充")]


def test_report_on_the_paper_path_is_the_transcription(db, act, onsite_free_until):
    c = onsite_free_until("awaiting_confirmation")  # a scan archived: no signed fields to compare with
    assert c["report"]["path"] == "paper" and c["report"]["differences"] == []


# --- 服务性质 from the decision -----------------------------------------------------------------
@pytest.mark.parametrize("path, expected", [
    ("free", ("free", None)),
    ("paid_accepted", ("paid", 5500.0)),
    ("misuse_accepted", ("paid", 5500.0)),     # misuse in warranty is paid (5.1.1.2)
    ("paid_refused_vp", ("free", None)),       # the VP approved after a refusal: nothing collected
])
def test_charge_is_preset_from_the_decision(act, onsite_free_until, paid_until, path, expected):
    if path == "free":
        c = onsite_free_until("awaiting_dispatch")
    else:
        c = paid_until("awaiting_customer", serial="IN-001" if path.startswith("misuse") else "OUT-001",
                       misuse=path.startswith("misuse"))
        c = act(c, "customer_response", "engineer", "2026-11-30T15:00", accepted="no" if "refused" in path else "yes",
                responded_at=at("2026-11-30T14:00"), person="陈工")
        if "refused" in path:
            c = act(c, "vp_decision", "vp", "2026-11-30T16:00", approved="yes", reason="保障任务需要")
    pre = onsite_record.tablet_prefill(c)
    assert (pre["charge"], pre["amount"]) == expected


# --- old cases: a quick rating at 维修完毕 stays readable -----------------------------------------
def test_old_case_with_a_quick_rating_still_prefills_and_reads(db, onsite_free_until):
    c = onsite_free_until("awaiting_report")
    onsite = {k: v for k, v in c["onsite"].items() if k not in ("form_path", "form_version", "differences")}
    with db.transaction("test") as tx:  # as stored before issue 12
        tx.update("cases", c["id"], {"onsite": {**onsite, "evaluation": {"rating": "satisfied", "remarks": "及时"}}})
    c = db.get("cases", c["id"])
    assert onsite_record.report_prefill(db, c)["ratings"] == {}
    assert onsite_record.differences(c) == []


def test_paper_path_the_report_explains_what_differs_from_the_onsite_steps(db, onsite_free_until, act,
                                                                          archive_signed_form):
    """One record on paper too (6.2.9): the report's transcription may differ from what 维修完毕
    recorded only with a reason, shown at the confirmation like a tablet difference."""
    c = onsite_free_until("awaiting_report")
    archive_signed_form(db, c)  # the scan of the paper form
    expenses = [{"date": "2026-12-01", "category": "transport", "item": "", "amount": "800"}]
    completed = c["onsite"]["completed_at"]
    other = "2026-12-02T13:45" if not completed.startswith("2026-12-02T13:45") else "2026-12-02T14:15"
    with pytest.raises(CaseError, match="与维修完毕时的记录不一致") as refused:
        act(c, "report", "tech", "2026-12-03T10:00", text="已修复", expenses=expenses,
            **report_form(completed=other))
    assert refused.value.field == "difference_reason"
    c = act(c, "report", "tech", "2026-12-03T10:00", text="已修复", expenses=expenses,
            difference_reason="维修完毕时记错了时间，以纸质表单为准", **report_form(completed=other))
    [diff] = [d for d in c["report"]["differences"] if d["field"] == "completed_at"]
    assert diff["against"] == "维修完毕记录" and diff["reason"].startswith("维修完毕时记错了时间")
