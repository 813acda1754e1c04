"""Disabling a person with the list of their open work and its one-step hand-over
(records/cases/reassign.py, records/followups/handover.py, the pages of views/admin.py): the case
owner, reply assignments (6.2.1), technicians sent and not arrived (6.2.5), deadline
responsibles, open follow-up calls (8.1, 8.2) — never the person of a fine."""
from __future__ import annotations

import pytest

from app import create_app
from records.cases import workflow
from records.cases.vocab import TABLE as CASES
from records.core.errors import DomainError
from records.followups import handover
from records.followups.tasks import TABLE as FOLLOWUPS
from records.notifications.inbox import TABLE as NOTICES
from records.users import accounts
from tests.fixtures.calendar import at
from tests.fixtures.users import PASSWORD, set_supervisor

ALL = {"owner": "engineer", "reply": "sales", "technician": "tech", "deadline": "tech2", "followup": "manager"}


@pytest.fixture
def busy(world, cal, users, new_case, act):
    """A person (``allround``: 技质部 engineer and technician) holding one piece of each kind of open work."""
    store = world.store
    with store.transaction("test") as tx:
        person = accounts.add_user(tx, "allround", "no-login", ["tq_engineer", "technician", "receiver"],
                                   display_name="全能")
    users = {**users, "allround": {"username": "allround", "roles": person["roles"]}}

    def step(case, action, who, now, **data):
        return workflow.perform(store, cal, case["id"], action, users[who], data, expect_rev=case["_rev"], now=at(now))

    owned = workflow.intake(store, cal, {"type": "service_request", "customer_id": world.near["id"],
                                         "product_serial": "IN-001", "caller_name": "刘参谋",
                                         "caller_phone": "0312-5550101", "channel": "phone",
                                         "description": "电源控制箱无输出"}, users["allround"], now=at("2026-11-27T16:00"))
    owned = step(owned, "decide", "allround", "2026-11-27T16:30", solution="onsite_free", analysis="电源模块损坏")
    owned = step(owned, "dispatch", "allround", "2026-11-27T17:00", technicians=["allround"], plan="更换",
                 precautions="带备件", departed_at=at("2026-11-27T17:10"))  # owner + sent, not arrived
    consult = new_case(kind="consultation", serial="", now="2026-11-30T09:00")
    consult = act(consult, "assign_reply", "engineer", "2026-11-30T09:10", assignee="allround")
    done = new_case(serial="IN-FAR", now="2026-11-30T09:00")
    done = act(done, "decide", "engineer", "2026-11-30T10:00", solution="onsite_free", analysis="接口松动")
    done = step(done, "dispatch", "engineer", "2026-11-30T10:30", technicians=["allround"], plan="紧固",
                precautions="无", departed_at=at("2026-11-30T11:00"))
    done = step(done, "arrive", "allround", "2026-12-01T10:00", arrived_at=at("2026-12-01T09:30"))
    done = step(done, "complete", "allround", "2026-12-01T11:00", work_done="紧固接口", form_path="paper",
                completed_at=at("2026-12-01T10:30"))
    done = step(done, "approve_return", "engineer", "2026-12-01T11:10")
    done = step(done, "record_return", "allround", "2026-12-01T16:00", returned_at=at("2026-12-01T15:00"))
    done = act(done, "propose_fine", "manager", "2026-12-01T16:30", kind="record_unclear", person="allround",
               facts="记录不清")  # the report deadline is theirs, and a fine
    with store.transaction("test") as tx:
        task = tx.insert(FOLLOWUPS, {"key": "follow_up:1:2026Q4", "kind": "follow_up", "clause": "8.1",
                                     "customer_id": world.near["id"], "period": "2026Q4", "period_start": "2026-10-01",
                                     "due": "2026-12-31", "assignee": "allround", "status": "open", "call": None})
    return {"store": store, "person": person, "owned": owned, "consult": consult, "done": done, "task": task}


def test_the_open_work_lists_one_of_each_kind(busy):
    work = handover.open_work(busy["store"], "allround")
    assert {k: sorted(r.get("case_id") or r["task_id"] for r in rows) for k, rows in work.items()} == {
        "owner": [busy["owned"]["id"]], "reply": [busy["consult"]["id"]],
        "technician": sorted([busy["owned"]["id"], busy["done"]["id"]]),  # not arrived; arrived, report open
        "deadline": [busy["done"]["id"]], "followup": [busy["task"]["id"]],
        "approval": []}  # no 7.4 request waits for them (test_a_waiting_74_request_goes_to_the_successor…)
    assert work["deadline"][0]["key"] == "report"
    assert handover.open_work(busy["store"], "gm") == {k: [] for k in handover.KINDS}


def test_the_hand_over_moves_everything_but_the_fine_and_tells_the_successors(busy):
    store = busy["store"]
    handover.disable_and_hand_over(store, busy["person"]["id"], ALL, "admin", at("2026-12-02T09:00"))
    assert store.get("users", busy["person"]["id"])["active"] is False
    owned, consult, done = (store.get(CASES, busy[k]["id"]) for k in ("owned", "consult", "done"))
    assert owned["tq_owner"] == "engineer" and owned["dispatch"]["technicians"] == ["tech"]
    assert owned["deadlines"]["arrival"]["responsible"] == "engineer"
    assert consult["reply_assignee"] == "sales" and consult["deadlines"]["consult_reply"]["responsible"] == "sales"
    assert done["deadlines"]["report"]["responsible"] == "tech2"
    # arrived: did the work and stays on the record; the successor joins to write the report (6.2.7)
    assert done["dispatch"]["technicians"] == ["allround", "tech"]
    assert [f["person"] for f in done["fines"]] == ["allround"]  # a fine stays with whom it concerns
    assert store.get(FOLLOWUPS, busy["task"]["id"])["assignee"] == "manager"
    assert handover.open_work(store, "allround") == {k: [] for k in handover.KINDS}
    told = {n["recipient"]: n for n in store.scan(NOTICES) if n["kind"] == "handover"}
    assert set(told) == {"engineer", "sales", "tech", "tech2", "manager"}
    assert "全能（allround）已停用" in told["tech2"]["body"] and done["number"] in told["tech2"]["body"]
    entry = store.history(CASES, owned["id"])[-1]
    assert (entry["action"], entry["actor"]) == ("handover", "admin")
    assert owned["timeline"][-1]["label"] == "停用交接"
    assert store.verify().ok


@pytest.mark.parametrize("change, field, message", [
    ({"technician": "sales"}, "to_technician", "售后服务技术人员"),
    ({"owner": "sales"}, "to_owner", "技质部"),
    ({"followup": "tech"}, "to_followup", "技质部工程师"),
    ({"deadline": ""}, "to_deadline", "请选择接手人"),
    ({"reply": "allround"}, "to_reply", "不能是被停用的人"),
])
def test_all_or_nothing(busy, change, field, message):
    store = busy["store"]
    before = {t: [dict(d) for d in store.scan(t)] for t in (CASES, FOLLOWUPS, NOTICES, "users")}
    with pytest.raises(DomainError) as err:
        handover.disable_and_hand_over(store, busy["person"]["id"], {**ALL, **change}, "admin", at("2026-12-02T09:00"))
    assert err.value.field == field and message in str(err.value)
    assert {t: [dict(d) for d in store.scan(t)] for t in before} == before


# --- the pages ---------------------------------------------------------------------------------


def test_disabling_asks_first_and_hands_over_in_one_step(world, busy):
    app = create_app({"DATA_DIR": world.store.root, "TESTING": True, "WTF_CSRF_ENABLED": False})
    store = app.extensions["aftersales.store"]
    admin = app.test_client()
    assert admin.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    uid = busy["person"]["id"]
    r = admin.post(f"/admin/users/{uid}/active/0")  # the old one-click: now the confirmation page
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/admin/users/{uid}/disable")
    assert store.get("users", uid)["active"] is True
    page = admin.get(f"/admin/users/{uid}/disable").get_data(as_text=True)
    for kind, label in handover.KINDS.items():
        assert (label in page) == (kind != "approval"), kind  # the kinds they hold work of
    assert busy["done"]["number"] in page and "处罚" in page  # says the fines stay
    r = admin.post(f"/admin/users/{uid}/disable", data={"confirmed": "1", "to_all": "engineer"})
    assert r.status_code == 400  # engineer is no technician: refused beside the field, nothing done
    html = r.get_data(as_text=True)
    block = html[html.index('id="to_technician"'):]
    assert "售后服务技术人员" in block[:block.index("</select>") + 300]
    assert store.get("users", uid)["active"] is True
    r = admin.post(f"/admin/users/{uid}/disable", data={"confirmed": "1", "to_all": "manager", "to_technician": "tech",
                                                         "to_reply": "sales"})
    assert r.status_code == 302
    assert store.get("users", uid)["active"] is False
    assert store.get(CASES, busy["owned"]["id"])["tq_owner"] == "manager"
    assert store.get(FOLLOWUPS, busy["task"]["id"])["assignee"] == "manager"
    assert "已停用用户 全能" in admin.get("/admin/users").get_data(as_text=True)



def test_a_replaced_technician_leaves_the_lead_in_place(world, new_case, act):
    """The successor takes the leaver's place in the team: the lead (first technician, who answers
    for 6.2.7) stays the lead."""
    store = world.store
    with store.transaction("test") as tx:
        accounts.add_user(tx, "tech3", "no-login", ["technician"], display_name="接替")
    case = new_case(now="2026-11-30T09:00")
    case = act(case, "decide", "engineer", "2026-11-30T10:00", solution="onsite_free", analysis="接口松动")
    case = act(case, "dispatch", "engineer", "2026-11-30T10:30", technicians=["tech", "tech2"], plan="紧固",
               precautions="无", departed_at=at("2026-11-30T11:00"))
    leaver = accounts.find_by_username(store, "tech2")
    handover.disable_and_hand_over(store, leaver["id"], {**ALL, "technician": "tech3"}, "admin", at("2026-11-30T12:00"))
    assert store.get(CASES, case["id"])["dispatch"]["technicians"] == ["tech", "tech3"]


def test_a_waiting_74_request_goes_to_the_successor_of_the_supervisor(world, new_case, act):
    """Only the 主管领导 asked may answer a 7.4 request: disabling them hands it over, or it would wait for ever."""
    store = world.store
    with store.transaction("test") as tx:
        boss = accounts.add_user(tx, "boss", "no-login", ["tq_engineer"], display_name="主管")
    set_supervisor(store, "tech", "boss")
    case = new_case(now="2026-11-30T09:00")
    case = act(case, "decide", "engineer", "2026-11-30T10:00", solution="onsite_free", analysis="接口松动")
    case = act(case, "dispatch", "engineer", "2026-11-30T10:30", technicians=["tech"], plan="紧固",
               precautions="无", departed_at=at("2026-11-30T11:00"))
    case = act(case, "request_approval", "tech", "2026-11-30T11:20", purpose="招待顾客工作餐，约 300 元")
    work = handover.open_work(store, "boss")
    assert [r["case_id"] for r in work["approval"]] == [case["id"]]
    handover.disable_and_hand_over(store, boss["id"], {**ALL, "approval": "manager"}, "admin", at("2026-11-30T12:00"))
    case = store.get(CASES, case["id"])
    assert case["approvals"][0]["approver"] == "manager" and case["approvals"][0]["state"] == "requested"
    case = act(case, "decide_approval", "manager", "2026-11-30T13:00", request="1", agreed="yes",
               given_at=at("2026-11-30T12:30"))
    assert case["approvals"][0]["state"] == "approved"
