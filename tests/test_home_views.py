"""The start page, per role: my open work with overdue and soon-due counts, the most urgent
items, the calls I recorded, and for 技质部 / managers / the GM what needs chasing."""
from __future__ import annotations

import re


def count(page: str, ident: str) -> int:
    m = re.search(rf'id="{ident}".*?<div class="fs-3[^"]*">(\d+)</div>', page, re.S)
    assert m, ident
    return int(m.group(1))


def html(resp) -> str:
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_empty_home_still_guides(client, auth, store):
    auth.login("receiver")
    page = html(client.get("/"))
    assert "receiver-姓名" in page and "登记来电" in page and 'href="/cases/new"' in page
    assert count(page, "count-work") == 0 and "没有等待您处理的案例" in page
    assert 'id="count-late-cases"' not in page and 'id="home-waiting-handover"' not in page
    assert "用户管理" not in page


def test_receiver_has_no_hand_over_to_do_and_sees_the_calls_taken(client, auth, store, make_case):
    late = make_case(minutes_ago=60 * 24 * 7)  # recorded a week after the call: handed over late (6.1.4)
    make_case()
    auth.login("receiver")
    page = html(client.get("/"))
    assert count(page, "count-work") == 0 and count(page, "count-work-overdue") == 0  # recording is the hand-over
    assert count(page, "count-mine-open") == 2
    assert late["number"] in page and f'href="/cases/{late["id"]}"' in page


def test_tq_sees_its_work_and_late_cases_and_no_hand_over_tile(client, auth, store, make_case):
    late = make_case(username="engineer", roles=("tq_engineer", "receiver"), minutes_ago=60 * 24 * 7)
    auth.login("engineer")
    page = html(client.get("/"))
    assert count(page, "count-work") == 1 and count(page, "count-work-overdue") == 1
    assert count(page, "count-late-cases") == 1 and late["number"] in page and "6.2.2" in page
    assert "count-waiting-handover" not in page and "home-waiting-handover" not in page
    assert "awaiting_handover" not in page and "待传递" not in page
    assert 'href="/cases/?overdue=y"' in page and "空白技术服务单" in page


def test_manager_and_gm_see_pending_fines(client, auth, store, make_case):
    make_case(minutes_ago=60 * 24 * 7)  # recorded late: 6.1.4 proposed at the recording
    auth.login("manager")
    page = html(client.get("/"))
    assert count(page, "count-pending-fines") == 1 and 'id="home-fines"' in page and "6.1.4" in page
    assert count(page, "count-work") == 1  # one case: its decision and its fine ruling
    assert "确定解决方案（6.2.2）；处理处罚建议" in page
    auth.logout()
    auth.login("gm")
    page = html(client.get("/"))
    assert count(page, "count-pending-fines") == 1 and 'id="count-late-cases"' in page
    auth.logout()
    auth.login("finance")
    page = html(client.get("/"))
    assert 'id="count-pending-fines"' not in page and 'id="home-fines"' not in page
