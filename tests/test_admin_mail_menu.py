"""邮件设置 in the admin menu (issue 15): the administrator finds the e-mail settings page there."""
from __future__ import annotations

import re


def menu(page: str) -> dict[str, str]:
    """label -> href of the main menu's links."""
    nav = page[page.index("<nav"):page.index("</nav>")]
    return {label.strip(): href for href, label in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


def test_the_admin_menu_shows_mail_settings_and_the_page_opens(client, auth):
    auth.login("admin")
    entries = menu(client.get("/").get_data(as_text=True))
    assert entries.get("邮件设置") == "/inbox/settings"
    resp = client.get(entries["邮件设置"])
    assert resp.status_code == 200 and "邮件" in resp.get_data(as_text=True)


def test_others_do_not_see_it(client, auth):
    auth.login("manager")
    assert "邮件设置" not in menu(client.get("/").get_data(as_text=True))
    assert client.get("/inbox/settings").status_code == 403
