"""A customer's and a product's pages list their cases and follow-up calls, the product page the
parts replaced (from the written reports, 6.2.7); the case page links to its customer and product.
Real store and app: the cases go through the workflow, the calls through records.followups."""
from __future__ import annotations

import re

import pytest

from records.cases import lookup as case_lookup
from records.followups import calls, tasks
from tests.fixtures.calendar import at

CALLED = at("2026-12-04T10:00")


def html(resp) -> str:
    return resp.get_data(as_text=True)


def section(page: str, ident: str) -> str:
    start = page.index(f'id="{ident}"')
    return page[start:page.index("</table>", start)]


@pytest.fixture
def history(world, users, onsite_free_until, new_case):
    """near: an on-site case reported with a part replaced (IN-001, by the receiver), a consultation
    taken by 技质部 (no product), and a follow-up call that raised a case; far: one case of its own."""
    reported = onsite_free_until("awaiting_confirmation")
    consult = new_case(user="engineer", kind="consultation", serial="", now="2026-11-30T09:00")
    other = new_case(serial="OUT-001", now="2026-11-30T10:00")
    plans = [p for p in tasks.plan_tasks(world.store, CALLED) if p["customer_id"] == world.near["id"]
             and p["kind"] == tasks.FOLLOW_UP]
    with world.store.transaction("test") as tx:
        [task] = tasks.create_tasks(tx, plans, CALLED)
    done = calls.record_call(world.store, task["id"], {
        "called_at": CALLED, "contact_name": "刘参谋", "contact_phone": "0312-5550101", "usage": "使用正常",
        "guidance": "定期除尘", "problems": "询问保养周期", "create_case": True, "case_type": "consultation"},
        users["engineer"], CALLED)
    return {"reported": reported, "consult": consult, "other": other, "task": done}


def test_customer_page_lists_its_cases_and_calls_and_the_case_page_links_back(client, auth, world, history):
    auth.login("engineer")
    page = html(client.get(f"/customers/{world.near['id']}"))
    cases = section(page, "related-cases")
    raised = history["task"]["call"]["case_number"]
    for c in (history["reported"], history["consult"]):
        assert f'href="/cases/{c["id"]}">{c["number"]}<' in cases
    assert raised in cases and history["other"]["number"] not in cases  # far's case is not near's
    assert "质量问题" in cases and "咨询" in cases and history["reported"]["received_at"][:10] in cases
    assert "待确认及费用审核" in cases
    followups = section(page, "related-calls")
    assert f'href="/followups/{history["task"]["id"]}"' in followups and "已完成" in followups
    assert "engineer-姓名" in followups and "2026-12-04 10:00" in followups and raised in followups


def test_who_may_not_read_a_case_sees_it_listed_without_a_link(client, auth, world, history):
    auth.login("receiver")  # took the on-site call; not the consultation, nor the call's case
    page = html(client.get(f"/customers/{world.near['id']}"))
    cases = section(page, "related-cases")
    assert f'href="/cases/{history["reported"]["id"]}"' in cases
    assert history["consult"]["number"] in cases and f'href="/cases/{history["consult"]["id"]}"' not in cases
    followups = section(page, "related-calls")
    assert "/followups/" not in followups and "已完成" in followups  # the call pages are 技质部's
    assert not re.search(r'href="/cases/\d+"', followups)


def test_product_page_lists_its_cases_parts_and_the_customers_calls(client, auth, world, history):
    assert case_lookup.parts_replaced(history["reported"]) == [{"part": "电源模块", "quantity": 1}]
    assert case_lookup.parts_replaced(history["consult"]) == []
    auth.login("tech")
    product = world.store.get("products", history["reported"]["product_id"])
    page = html(client.get(f"/products/{product['id']}"))
    cases = section(page, "related-cases")
    assert history["reported"]["number"] in cases
    assert history["consult"]["number"] not in cases and history["other"]["number"] not in cases
    parts = section(page, "parts-replaced")
    assert "电源模块" in parts and history["reported"]["number"] in parts
    assert "定期除尘" not in page and "已完成" in section(page, "related-calls")

    # the case page links to its customer and product
    case = history["reported"]
    page = html(client.get(f"/cases/{case['id']}"))
    assert f'href="/customers/{world.near["id"]}"' in page
    assert f'href="/products/{case["product_id"]}"' in page
    page = html(client.get(f"/cases/{history['consult']['id']}"))  # no product: no product link
    assert f'href="/customers/{world.near["id"]}"' in page and 'id="case-product"' not in page
