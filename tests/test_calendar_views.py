"""The working-calendar page (views/calendar.py, issue 3).

2026 (records/calendar/workdays.py, holidays' China data): 国庆 10/1–10/7 off (10/3 Sat and 10/4 Sun
are weekend days inside it), Sun 9/20 and Sat 10/10 are 调休上班. 2027 has no published
schedule.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import date

from records.calendar import corrections
from records.calendar.corrections import TABLE
from records.cases import calendar_change
from tests.fixtures.users import PASSWORD


def cell(page: str, iso: str) -> tuple[str, str]:
    """(class attribute, title) of a day's cell in the year grid."""
    m = re.search(r'<td class="([^"]*)" title="([^"]*)" data-date="' + iso + '"', page)
    assert m, f"no cell for {iso}"
    return m.group(1), htmllib.unescape(m.group(2))


def text(resp) -> str:
    return resp.get_data(as_text=True)


def test_year_2026_marks_national_day_weekends_and_makeup_days(client, auth):
    auth.login("engineer")  # any logged-in user may look
    resp = client.get("/calendar/?year=2026")
    assert resp.status_code == 200
    page = text(resp)
    assert "工作日历 2026 年" in page
    for d in ("01", "02", "05", "06", "07"):
        classes, title = cell(page, f"2026-10-{d}")
        assert "cal-holiday" in classes, (d, classes)
    assert "国庆节" in cell(page, "2026-10-01")[1]
    assert "cal-weekend" in cell(page, "2026-10-04")[0]  # a Sunday inside the holiday
    for iso in ("2026-10-10", "2026-09-20"):
        classes, title = cell(page, iso)
        assert "cal-makeup" in classes and "调休上班" in title
    assert "cal-workday" in cell(page, "2026-10-09")[0]
    assert "cal-weekend" in cell(page, "2026-10-11")[0]
    assert "尚无已公布的放假安排" not in page
    # The legend names every kind, with the same classes as the cells.
    for label, cls in (("法定节假日", "cal-holiday"), ("调休上班", "cal-makeup"), ("周末休息", "cal-weekend"),
                       ("公司校正：上班", "cal-corr-work"), ("公司校正：休息", "cal-corr-off")):
        assert re.search(r'cal-swatch ' + cls + r'">[^<]*</span> ' + label, page), label
    # Twelve months; only editors get the correction form.
    assert page.count('class="cal-month"') == 12
    assert 'name="reason"' not in page and "/calendar/corrections" not in page


def test_page_obeys_the_csp_and_links_its_stylesheet(client, auth):
    auth.login("engineer")
    page = text(client.get("/calendar/?year=2026"))
    assert " style=" not in page and "<style" not in page
    assert "<script>" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert 'href="/static/calendar.css"' in page
    css = client.get("/static/calendar.css")
    assert css.status_code == 200 and b"landscape" in css.data
    css.close()


def test_year_without_published_schedule_shows_a_warning(client, auth):
    auth.login("manager")
    page = text(client.get("/calendar/?year=2027"))
    assert "2027 年尚无已公布的放假安排" in page
    assert "cal-holiday" in cell(page, "2027-01-01")[0]  # the base holiday is still shown


def test_default_year_and_bad_years(client, auth):
    auth.login("engineer")
    assert client.get("/calendar/").status_code == 200
    assert client.get("/calendar/?year=abc").status_code == 200  # falls back to this year
    assert client.get("/calendar/?year=1800").status_code == 404


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/calendar/?year=2026")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_admin_correction_appears_and_is_audited(client, auth, store):
    auth.login("admin")
    page = text(client.get("/calendar/?year=2026"))
    assert 'name="reason"' in page  # editors get the form
    resp = client.post("/calendar/corrections",
                       data={"day": "2026-10-12", "is_workday": "0", "reason": "公司国庆延长休假"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/calendar/?year=2026")
    page = text(client.get(resp.headers["Location"]))
    assert "已将 2026-10-12 校正为休息日" in page
    assert "未结期限已按新日历重新计算" in page
    classes, title = cell(page, "2026-10-12")
    assert "cal-corr-off" in classes and "公司国庆延长休假" in title
    assert 'id="correction-2026-10-12"' in page and "公司国庆延长休假" in page
    assert "/calendar/corrections/2026-10-12/remove" in page

    (rec,) = corrections.list_corrections(store, 2026)
    assert (rec["date"], rec["is_workday"], rec["reason"], rec["_by"]) == ("2026-10-12", False, "公司国庆延长休假", "admin")
    (entry,) = store.history(TABLE, rec["id"])
    assert entry["action"] == "create" and entry["actor"] == "admin"
    assert entry["changes"]["reason"] == [None, "公司国庆延长休假"]
    assert not corrections.current_calendar(store).is_workday(date(2026, 10, 12))

    # A make-up working day turned into a day off, on a holiday turned into a working day.
    client.post("/calendar/corrections", data={"day": "2026-10-07", "is_workday": "1", "reason": "值班"})
    assert "cal-corr-work" in cell(text(client.get("/calendar/?year=2026")), "2026-10-07")[0]


def test_manager_removes_a_correction(client, auth, store):
    calendar_change.set_correction(store, "2026-10-10", False, "公司不调休", "admin")
    auth.login("manager")
    page = text(client.get("/calendar/?year=2026"))
    assert "cal-corr-off" in cell(page, "2026-10-10")[0]
    resp = client.post("/calendar/corrections/2026-10-10/remove")
    assert resp.status_code == 302
    page = text(client.get(resp.headers["Location"]))
    assert "已撤销 2026-10-10 的公司校正" in page
    assert "cal-makeup" in cell(page, "2026-10-10")[0]
    assert "本年度没有公司校正" in page
    (rec,) = corrections.list_corrections(store, include_inactive=True)
    assert rec["active"] is False
    assert [(e["actor"], e["changes"].get("active")) for e in store.history(TABLE, rec["id"])][-1] == \
        ("manager", [True, False])
    # Removing again says so instead of failing.
    resp = client.post("/calendar/corrections/2026-10-10/remove", follow_redirects=True)
    assert "没有公司校正" in text(resp)


def test_engineer_may_not_change_the_calendar(client, auth, store):
    auth.login("engineer")
    resp = client.post("/calendar/corrections", data={"day": "2026-10-12", "is_workday": "0", "reason": "x"})
    assert resp.status_code == 403
    calendar_change.set_correction(store, "2026-10-10", False, "公司不调休", "admin")
    assert client.post("/calendar/corrections/2026-10-10/remove").status_code == 403
    assert [r["date"] for r in corrections.list_corrections(store)] == ["2026-10-10"]
    page = text(client.get("/calendar/?year=2026"))  # the list is visible, without buttons
    assert "公司不调休" in page and "/remove" not in page


def test_form_error_keeps_the_typed_values(client, auth, store):
    auth.login("admin")
    resp = client.post("/calendar/corrections", data={"day": "2026-10-12", "is_workday": "0", "reason": "  "})
    assert resp.status_code == 400
    page = text(resp)
    assert "请填写校正原因" in page
    assert re.search(r'name="day"[^>]*value="2026-10-12"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="is_workday"[^>]*value="0"', page)
    assert "工作日历 2026 年" in page  # the grid of the typed date's year stays

    resp = client.post("/calendar/corrections", data={"day": "2026-02-30", "is_workday": "1", "reason": "补班"})
    assert resp.status_code == 400
    page = text(resp)
    assert "日期格式不正确" in page
    assert re.search(r'name="day"[^>]*value="2026-02-30"', page)
    assert re.search(r'name="reason"[^>]*value="补班"', page)
    assert re.search(r'<input[^>]*checked[^>]*name="is_workday"[^>]*value="1"', page)

    resp = client.post("/calendar/corrections", data={"day": "2026-10-12", "reason": "补班"})
    assert resp.status_code == 400 and "请选择该日是工作日还是休息日" in text(resp)
    assert corrections.list_corrections(store) == []


def test_clicking_a_day_prefills_the_form(client, auth):
    auth.login("admin")
    page = text(client.get("/calendar/?year=2026&day=2026-10-10"))
    assert re.search(r'name="day"[^>]*value="2026-10-10"', page)
    # 10/10 is a working day now, so the form proposes a day off.
    assert re.search(r'<input[^>]*checked[^>]*name="is_workday"[^>]*value="0"', page)
    assert 'href="/calendar/?year=2026&amp;day=2026-10-10#correction-form"' in page


def test_posts_need_the_csrf_token(csrf_app, csrf_token_from):
    client = csrf_app.test_client()  # CSRF on, as in production
    token = csrf_token_from(text(client.get("/login")))
    assert client.post("/login", data={"username": "admin", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    data = {"day": "2026-10-12", "is_workday": "0", "reason": "停工"}
    assert client.post("/calendar/corrections", data=data).status_code == 400
    page = text(client.get("/calendar/?year=2026"))
    resp = client.post("/calendar/corrections", data={**data, "csrf_token": csrf_token_from(page)})
    assert resp.status_code == 302
    page = text(client.get("/calendar/?year=2026"))
    remove_form = page[page.index('action="/calendar/corrections/2026-10-12/remove"'):]
    token = csrf_token_from(remove_form)
    assert client.post("/calendar/corrections/2026-10-12/remove").status_code == 400
    resp = client.post("/calendar/corrections/2026-10-12/remove", data={"csrf_token": token})
    assert resp.status_code == 302
    assert corrections.list_corrections(csrf_app.extensions["aftersales.store"]) == []


def test_menu_shows_the_calendar_to_its_roles(client, auth):
    auth.login("manager")
    assert 'href="/calendar/"' in text(client.get("/"))
    auth.logout()
    auth.login("engineer")
    assert 'href="/calendar/"' not in text(client.get("/"))
