"""The case pages say what is true (issue 12), through the test client: the provisional 5.1.1.3
arrival and the paid arrival's real start on the case page, 待出发 / 已出发 on the case page, the
list and 我的待办, the dispatch picker's open cases, and 记录返回's server-side second step (6.2.6)."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from records.calendar.corrections import current_calendar
from records.cases import workflow
from tests.fixtures.calendar import TZ

ENG = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
TECH = {"username": "tech", "roles": ["technician", "receiver"]}


def html(resp) -> str:
    return resp.get_data(as_text=True)


def minute(dt: datetime) -> str:
    return dt.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def step(store):
    """``step(case, action, user, **data)``: one workflow step on the app's store, now."""
    def perform(case, action, user, **data):
        return workflow.perform(store, current_calendar(store), case["id"], action, user, data)
    return perform


@pytest.fixture
def free_case(make_case, step):
    """``free_case(departed=None)``: near's in-warranty IN-001 decided free on site and dispatched to
    tech, leaving at ``departed`` (default now)."""
    def make(departed: datetime | None = None):
        c = make_case(username="engineer", roles=("tq_engineer", "receiver"))
        c = step(c, "decide", ENG, solution="onsite_free", analysis="电源模块损坏")
        return step(c, "dispatch", ENG, technicians=["tech"], plan="p", precautions="q",
                    **({"departed_at": departed} if departed else {}))
    return make


def test_provisional_arrival_from_intake_until_the_decision(client, auth, make_case, step):
    c = make_case()
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'data-deadline="arrival_provisional" data-status="provisional"' in page
    assert 'id="provisional-arrival"' in page and "如需现场服务，5.1.1.3 到达时限" in page
    assert "暂定（如需现场服务）" in page and "路程 150 公里，接到请求后 24 小时内到达现场" in page
    c = step(c, "decide", ENG, solution="onsite_free", analysis="a")
    page = html(client.get(f"/cases/{c['id']}"))
    assert "如需现场服务" not in page and 'data-deadline="arrival" ' in page


def test_paid_arrival_page_cites_the_customers_confirmation(client, auth, app_world, intake_data, step):
    store = app_world.store
    data = {**intake_data(customer_id=str(app_world.far["id"]), product_serial="OUT-001"),
            "received_at": datetime.now(TZ).replace(microsecond=0) - timedelta(hours=1)}
    c = workflow.intake(store, current_calendar(store), data, ENG)
    auth.login("engineer")
    assert "如需现场服务" not in html(client.get(f"/cases/{c['id']}"))  # out of warranty: paid, no provisional arrival
    c = step(c, "decide", ENG, solution="onsite_paid", analysis="主板损坏")
    c = step(c, "quote", ENG, service_fee="2000", parts=[])
    c = step(c, "send_quote", ENG, method="fax", recipient="刘参谋")  # how, to whom (5.2.5)
    c = step(c, "customer_response", ENG, accepted="yes", person="陈工",
             responded_at=datetime.now(TZ).replace(second=0, microsecond=0, tzinfo=None))
    page = html(client.get(f"/cases/{c['id']}"))
    row = re.search(r'<tr[^>]*data-deadline="arrival".*?</tr>', page, re.S).group(0)
    assert "顾客确认承担费用（5.2.5、6.2.4）后 48 小时内到达现场" in row and "接到请求" not in row


def test_waiting_to_leave_then_left_on_the_page_the_list_and_my_work(client, auth, free_case):
    later = free_case(departed=datetime.now(TZ).replace(second=0, microsecond=0, tzinfo=None) + timedelta(hours=3))
    gone = free_case()
    auth.login("engineer")
    page = html(client.get(f"/cases/{later['id']}"))
    assert 'id="state-label">待出发<' in page and 'data-departure="待出发"' in page
    assert 'id="state-label">已出发<' in html(client.get(f"/cases/{gone['id']}"))
    listing = html(client.get("/cases/"))
    assert re.search(rf'{later["number"]}</a></td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>待出发</td>', listing)
    assert re.search(rf'{gone["number"]}</a></td>\s*<td[^>]*>[^<]*</td>\s*<td[^>]*>已出发</td>', listing)
    auth.logout()
    auth.login("tech")
    mine = html(client.get("/cases/my"))
    assert re.search(r"<td[^>]*>待出发</td>", mine) and re.search(r"<td[^>]*>已出发</td>", mine)


def test_dispatch_picker_shows_each_technicians_open_cases(client, auth, make_case, step, free_case):
    free_case()
    c = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    c = step(c, "decide", ENG, solution="onsite_free", analysis="a")
    auth.login("engineer")
    page = html(client.get(f"/cases/{c['id']}"))
    box = re.search(r'<div[^>]*class="touch-tiles".*?</div></div>', page, re.S).group(0)
    tile = re.search(r'<div class="touch-tile">(<input[^>]*value="tech"[^>]*>).*?</div>', page, re.S)
    assert tile and 'aria-describedby="dispatch-technicians-' in tile.group(1)
    assert re.search(r'>tech-姓名</label><span class="touch-tile-note" id="[^"]+">在办案例 1 件</span>', page)
    assert 'role="group"' in box and 'aria-label="售后服务技术人员"' in box


def test_return_before_approval_is_a_confirmed_second_step(client, auth, store, free_case, step):
    c = free_case()
    c = step(c, "arrive", TECH, arrived_at=c["dispatch"]["departed_at"])
    c = step(c, "complete", TECH, work_done="w", completed_at=c["onsite"]["arrived_at"])
    auth.login("tech")
    page = html(client.get(f"/cases/{c['id']}"))
    assert 'id="action-record_return"' in page and "record_return-confirm_unapproved" not in page
    back = minute(datetime.fromisoformat(c["onsite"]["completed_at"]))
    form = {"record_return-rev": c["_rev"], "record_return-returned_at": back}
    resp = client.post(f"/cases/{c['id']}/record-return", data=form)
    assert resp.status_code == 400
    page = html(resp)
    assert 'name="record_return-confirm_unapproved"' in page and f'value="{back}"' in page
    assert "未经技质部同意返回，将按 6.2.6 提出处罚建议" in page and "50—500" in page
    assert re.search(r'<input[^>]*is-invalid[^>]*name="record_return-confirm_unapproved"[^>]*required', page)
    assert "请先电话反馈技质部；确需现在记录返回，请勾选确认后再次提交" in page  # the refusal beside the box
    assert store.get("cases", c["id"])["state"] == "completed"  # nothing recorded by the first submission
    resp = client.post(f"/cases/{c['id']}/record-return", data={**form, "record_return-confirm_unapproved": "y"})
    assert resp.status_code == 302
    c = store.get("cases", c["id"])
    assert c["state"] == "awaiting_report" and [f["clause"] for f in c["fines"]] == ["6.2.6"]
