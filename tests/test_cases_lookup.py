"""Every employee's lookup of a case (6.1.1): by the exact number, at least 7 digits of the
caller's phone, or the unit's name; at most 20 rows of where the case stands; the case opens
only for those who may read it. The rules on a real store, then the page through the app."""
from __future__ import annotations

import shutil

import pytest

from records.cases import flow, workflow
from records.cases import lookup as case_lookup
from records.cases.deadlines import next_deadline_row
from records.catalog import phones
from records.core.store import Store
from tests.fixtures.calendar import at
from tests.fixtures.catalog import World

NOW = at("2026-11-27T17:00")
OTHER_RECEIVER = {"username": "someone", "roles": ["receiver"]}  # took no part in the case


def found(world, cal, query, user):
    return case_lookup.lookup(world.store, query, user, cal, NOW)


@pytest.fixture(scope="module")
def looked_up(seeded_dir, tmp_path_factory, near_and_far, cal, users):
    """One store for the read-only tables below: the seeded users, near and far, and two calls
    taken by the receiver: near's (phone 0312-5550101) and far's (phone 139 0000 0002)."""
    path = tmp_path_factory.mktemp("lookup") / "data"
    shutil.copytree(seeded_dir, path)
    store = Store(path)
    made = near_and_far(store)
    cases = []
    for who, serial, phone, when in (("near", "IN-001", "0312-5550101", "2026-11-27T16:00"),
                                     ("far", "OUT-001", "139 0000 0002", "2026-11-27T16:30")):
        data = {"type": "service_request", "customer_id": made[who]["id"], "product_serial": serial,
                "caller_name": "刘参谋", "caller_phone": phone, "channel": "phone", "description": "电源控制箱无输出"}
        cases.append(workflow.intake(store, cal, data, users["receiver"], now=at(when)))
    return World(store, made["near"], made["far"]), tuple(cases)


@pytest.fixture
def world(looked_up):
    return looked_up[0]


@pytest.fixture
def two_cases(looked_up):
    return looked_up[1]


@pytest.mark.parametrize("query, kind, expect", [
    ("{near}", "number", ["near"]),                    # the exact number
    ("{near_lower}", "number", ["near"]),              # any case
    ("FW2026-9999", "number", []),                     # a number nobody has
    ("5550101", "phone", ["near"]),                    # 7 digits of the phone
    ("0312-555 0101", "phone", ["near"]),              # spaces and dashes do not matter
    ("０３１２５５５０１０１", "phone", ["near"]),      # full-width digits
    ("13900000002", "phone", ["far"]),                 # stored with spaces, matched on digits
    ("12345678", "phone", []),                         # enough digits, nobody's phone
    ("第一修理所", "unit", ["near"]),                  # a part of the unit's name
    ("西北某试验基地", "unit", ["far"]),
    ("某", None, None),                                # too short to be a unit
    ("555010", None, None),                            # 6 digits: refused
    ("0312-55", None, None),
    ("   ", None, None),
])
def test_lookup_rules(world, cal, users, two_cases, query, kind, expect):
    near, far = two_cases
    numbers = {"near": near["number"], "far": far["number"]}
    query = query.format(near=near["number"], near_lower=near["number"].lower())
    if kind is None:
        with pytest.raises(case_lookup.LookupRefused) as refused:
            found(world, cal, query, users["receiver"])
        assert refused.value.field == "q" and any("\u4e00" <= ch <= "\u9fff" for ch in str(refused.value))
        return
    result = found(world, cal, query, users["receiver"])
    assert result.kind == kind
    assert [r["number"] for r in result.rows] == [numbers[k] for k in expect]
    assert result.total == len(expect) and not result.more


def test_a_row_says_where_the_case_stands_and_nothing_more(world, cal, users, two_cases):
    near, _ = two_cases
    [row] = found(world, cal, near["number"], users["receiver"]).rows
    assert set(row) == {"number", "unit", "status", "next_steps", "who", "due", "case_id"}
    case = world.store.get("cases", near["id"])
    steps = flow.next_steps(case)
    assert row["unit"] == "某部队第一修理所" and row["next_steps"] == [s["label"] for s in steps]
    assert row["who"]  # the people or roles who take the next step
    due = next_deadline_row(case, cal, NOW)
    assert row["due"]["label"] == due["label"] and row["due"]["due"] == due["due"] and row["due"]["clause"]
    assert "caller_name" not in row and "description" not in row


def test_who_acts_names_people_by_their_names(world, cal, users, two_cases):
    near, _ = two_cases
    [row] = found(world, cal, near["number"], users["engineer"]).rows
    step_users = {u for s in flow.next_steps(world.store.get("cases", near["id"])) for u in s["users"]}
    for username in step_users:  # the display names the seed gave them, never a bare username
        assert f"{username}-姓名" in row["who"]


@pytest.mark.parametrize("who, link", [
    ("receiver", True),     # took the call
    ("engineer", True),     # 技质部 reads every case
    ("tech", True),         # technicians read every case (CASE_READERS)
    ("admin", False),       # not a case reader
    ("someone", False),     # another receiver: sees where it stands, not the case
])
def test_only_those_who_may_read_the_case_get_its_link(world, cal, users, two_cases, who, link):
    near, _ = two_cases
    user = OTHER_RECEIVER if who == "someone" else users[who]
    [row] = found(world, cal, near["number"], user).rows
    assert (row["case_id"] == near["id"]) is link
    assert row["status"] and row["unit"]  # the status row itself is for everyone


def test_at_most_20_rows_newest_first(data_dir, near_and_far, cal, users):
    store = Store(data_dir)
    near = near_and_far(store)["near"]
    made = [workflow.intake(store, cal, {"type": "consultation", "customer_id": near["id"], "caller_name": "刘参谋",
                                         "caller_phone": "0312-5550101", "description": "如何保养"},
                            users["receiver"], now=at(f"2026-11-2{d}T{h:02d}:00"))
            for d in (3, 4, 5) for h in range(9, 16)]  # 21 calls
    result = case_lookup.lookup(store, "0312 5550101", users["receiver"], cal, NOW)
    assert result.total == 21 and len(result.rows) == case_lookup.MAX_ROWS == 20 and result.more
    newest = sorted(made, key=lambda c: c["received_at"], reverse=True)[:20]
    assert [r["number"] for r in result.rows] == [c["number"] for c in newest]


@pytest.mark.parametrize("stored, typed, hit", [
    ({"caller_phone": "0312-5550101"}, "5550101", True),
    ({"caller_phone": "（0312）555 0101 转 8"}, "03125550101", True),
    ({"caller_phone": "", "caller_phone_digits": "03125550101"}, "5550101", True),  # intake keeps digits
    ({"caller_phone": "0312-5550102"}, "5550101", False),
])
def test_phone_digits_of_a_case(stored, typed, hit):
    assert (phones.digits(typed) in phones.case_phone_digits(stored)) is hit


# --- The page -----------------------------------------------------------------------------------


def html(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("who", ["receiver", "tech"])
def test_lookup_page_for_every_employee(client, auth, store, make_case, who):
    case = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    auth.login(who)
    home = html(client.get("/"))
    assert 'href="/lookup/"' in home and "查询案例" in home  # in the menu for everyone
    assert client.get("/lookup/").status_code == 200
    page = html(client.get("/lookup/", query_string={"q": case["number"]}))
    assert case["number"] in page and "某部队第一修理所" in page and 'id="lookup-results"' in page
    link = f'href="/cases/{case["id"]}"'
    if who == "tech":  # a technician reads every case
        assert link in page
    else:  # the receiver took no part in this case: its status, not the case
        assert link not in page
        assert client.get(f"/cases/{case['id']}").status_code == 403
    page = html(client.get("/lookup/", query_string={"q": "5550101"}))
    assert case["number"] in page


def test_lookup_page_refuses_too_few_digits_in_chinese(client, auth):
    auth.login("receiver")
    resp = client.get("/lookup/", query_string={"q": "555010"})
    page = html(resp)
    assert resp.status_code == 400 and "至少输入 7 位数字" in page and 'value="555010"' in page
    assert 'id="lookup-results"' not in page
