"""The text slips of issue 12, each where the users read it: one 消息 entry in the menu, the
greeting naming the user once, the archive table with display names and a short hash and no
SHA-256 in the flash, no stray spaces in 「住宿的调整理由」 and 「已免除，」."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from records.cases.vocab import CaseError
from records.service_forms import archive as form_archive
from tests.fixtures.calendar import at


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_menu_has_one_inbox_entry_and_the_greeting_names_the_user_once(client, auth):
    auth.login("manager")  # 技质部经理, also an engineer and a receiver
    html = client.get("/").get_data(as_text=True)
    nav = html.split("<nav", 1)[1].split("</nav>", 1)[0]
    assert len(re.findall(r'href="/inbox/[^"]*"', nav)) == 1 and "未读消息" not in text_of(nav)
    greeting = text_of(re.search(r'<p class="mb-0" id="greeting">(.*?)</p>', html, re.S).group(1)).strip()
    assert greeting == "您好，manager-姓名。 角色：技质部经理"


def test_the_archive_names_people_shows_a_short_hash_and_the_flash_no_hash(client, auth, store, dispatched_case):
    case = dispatched_case(store)
    auth.login("tech")
    png = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(png, format="PNG")
    resp = client.post(f"/forms/case/{case['id']}/upload", content_type="multipart/form-data", follow_redirects=True,
                       data={"file": (io.BytesIO(png.getvalue()), "scan.png"), "confirm_no": case["dispatch"]["form_no"]})
    html = resp.get_data(as_text=True)
    [doc] = form_archive.archived_versions(store, case["id"])
    [flash] = [text_of(m) for m in re.findall(r'<div class="alert alert-success[^>]*>(.*?)</div>', html, re.S)
               if "已归档" in m]
    assert "SHA" not in flash and doc["sha256"][:8] not in flash
    page = client.get(f"/forms/case/{case['id']}").get_data(as_text=True)
    table = page.split("<table", 1)[1].split("</table>", 1)[0]
    assert "tech-姓名" in table and ">tech<" not in table
    assert f">{doc['sha256'][:12]}</code>" in table and f'title="SHA-256：{doc["sha256"]}"' in table
    assert doc["sha256"] not in text_of(table)


def test_a_missing_reason_names_its_line_without_a_space(onsite_free_until, act):
    case = onsite_free_until("awaiting_confirmation")  # 差旅 800, 住宿 300
    with pytest.raises(CaseError, match="第 2 行有误") as refused:  # the 住宿 line; its message beside it
        act(case, "confirm", "engineer", "2026-12-03T11:00", quality="服务到位",
            lines=[{"approved": "800"}, {"approved": "200"}])
    assert refused.value.rows == [(1, "reason", "核准金额与报销不同，请写明调整理由")]


def test_a_waived_fine_reads_without_a_stray_space(client, auth, world, new_case, act):
    case = new_case(received_at=at("2026-11-25T09:00"))  # recorded late: a 6.1.4 proposal
    act(case, "rule_fine", "manager", "2026-11-27T17:00", key="handover", decision="waived", reason="首次，口头提醒")
    auth.login("manager")
    html = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "已免除，manager-姓名：首次，口头提醒" in html
