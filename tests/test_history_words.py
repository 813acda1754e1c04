"""History pages in the users' words (issue 12): state labels, display names, local times, a
per-clause summary of deadline changes, the timeline's entries; never raw JSON or internal keys;
a fine's person and amount only for those who may see it (records/fines/visibility.py)."""
from __future__ import annotations

import re

import pytest

from records.catalog import products
from records.fines.visibility import HIDDEN_TEXT
from records.followups import calls, tasks
from records.users import accounts
from tests.fixtures.calendar import at

RAW = re.compile(r"[a-z]+_[a-z_]+|[{}\[\]]|\"\w+\":|\d{4}-\d\d-\d\dT\d\d|\+08:00|awaiting|onsite|service_request")


def visible_text(html: str) -> str:
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main.split(">", 1)[1]))


def history_text(client, auth, user: str, case_id: int) -> str:
    auth.login(user)
    resp = client.get(f"/history/cases/{case_id}")
    assert resp.status_code == 200
    auth.logout()
    return visible_text(resp.get_data(as_text=True))


def test_a_case_history_reads_in_the_users_words(client, auth, onsite_free_until):
    case = onsite_free_until("awaiting_confirmation")
    text = history_text(client, auth, "manager", case["id"])
    for words in ("待确定解决方案 → 待派出",          # state labels
                  "engineer-姓名", "tech-姓名",          # display names
                  "6.2.8 确认及费用审核 到期 12-10 17:30",  # deadlines per clause, local time
                  "6.2.7 书面汇报 完成 12-03 10:00",
                  "5.1.1.3 到达现场 责任人 engineer-姓名 → tech-姓名",
                  "2026-12-02 11:10 同意返回（6.2.6） · engineer-姓名",  # the timeline's new entry
                  "报销费用：2026-12-01 交通 差旅 800 元；2026-12-01 住宿 住宿 300 元", "返回物料：电源模块 × 1（损坏品）",
                  "现场服务·质保期内免费（5.1.1.1）", "技术服务单编号：JF2026-0001"):
        assert words in text, words
    assert not RAW.search(text), RAW.search(text).group(0)


@pytest.mark.parametrize("user, sees", [
    ("manager", True),    # 技质部经理 reads every fine
    ("receiver", True),   # the person concerned
    ("engineer", False),  # 技质部工程师: only that a proposal exists
    ("tech", False),
])
def test_a_fine_in_the_history_shows_only_to_those_who_may_see_it(client, auth, world, new_case, user, sees):
    case = new_case(received_at=at("2026-11-25T09:00"))  # recorded late: a 6.1.4 proposal for receiver
    assert [f["person"] for f in case["fines"]] == ["receiver"]
    text = history_text(client, auth, user, case["id"])
    assert ("6.1.4 receiver-姓名 50 元 待处理" in text) is sees
    assert (HIDDEN_TEXT in text) is not sees
    assert not RAW.search(text), RAW.search(text).group(0)


def test_a_product_history_names_its_customer(client, auth, app_world):
    product = products.by_serial(app_world.store, "IN-001")
    auth.login("engineer")
    text = visible_text(client.get(f"/history/products/{product['id']}").get_data(as_text=True))
    assert "顾客单位：某部队第一修理所" in text.replace(" ", "") and "IN-001" in text
    assert not RAW.search(text), RAW.search(text).group(0)


def test_a_follow_up_call_and_a_user_read_in_words(client, auth, world, users):
    called = at("2026-12-15T10:00")
    plans = [p for p in tasks.plan_tasks(world.store, called)
             if p["customer_id"] == world.near["id"] and p["kind"] == tasks.FOLLOW_UP]
    with world.store.transaction("test") as tx:
        [task] = tasks.create_tasks(tx, plans, called)
    calls.record_call(world.store, task["id"], {
        "called_at": called, "contact_name": "刘参谋", "contact_phone": "0312-5550101", "usage": "使用正常",
        "guidance": "定期除尘", "problems": "询问保养周期", "create_case": True, "case_type": "consultation"},
        users["engineer"], called)
    vp = accounts.find_by_username(world.store, "vp")
    accounts.update_user(world.store, vp["id"], "admin", display_name="副总", roles=["vp", "gm"])
    for user, url, words in (
            ("engineer", f"/history/followups/{task['id']}",
             ("状态：待回访 → 已完成", "顾客单位：某部队第一修理所", "回访人：engineer-姓名", "反映的问题：询问保养周期")),
            ("admin", f"/history/users/{vp['id']}", ("姓名：vp-姓名 → 副总", "角色：信息接收人、分管副总 → 总经理、分管副总"))):
        auth.login(user)
        text = visible_text(client.get(url).get_data(as_text=True)).replace(" ：", "：")
        auth.logout()
        for w in words:
            assert w in text, (url, w)
        assert not RAW.search(text), RAW.search(text).group(0)


def test_the_history_hides_a_ruling_from_those_who_may_not_see_the_fine(client, auth, world, new_case, act):
    """GLOSSARY 处罚: the history page reads a timeline entry about a fine as the case page does."""
    case = new_case(received_at=at("2026-11-25T09:00"))  # recorded late: a 6.1.4 proposal on the receiver
    case = act(case, "rule_fine", "manager", "2026-11-27T17:00", key="handover", decision="confirmed", amount="50",
               reason="确属延迟，已提醒")
    seen = {}
    for user in ("engineer", "tech", "sales", "receiver", "manager"):
        auth.login(user)
        seen[user] = client.get(f"/history/cases/{case['id']}").get_data(as_text=True)
        auth.logout()
    for user in ("engineer", "tech", "sales"):
        assert "确属延迟，已提醒" not in seen[user] and "有处罚建议（不公开）" in seen[user], user
    for user in ("receiver", "manager"):  # the person concerned and 技质部经理
        assert "确属延迟，已提醒" in seen[user], user
