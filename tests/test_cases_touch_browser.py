"""A tablet that fingers can use (issue 12): at 768 px with touch, the dispatch technician picker
(6.2.5), the customer's ratings on the tablet 技术服务单 and the signature pad's clear and submit
buttons are touch targets at least 44 px high; the ratings are segmented buttons that the
keyboard drives too, with a visible focus ring."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from records.calendar.corrections import current_calendar
from records.cases import workflow
from tests.browser_support import login, watched_page
from tests.fixtures.calendar import TZ
from tests.fixtures.users import PASSWORD

pytestmark = pytest.mark.browser

MIN = 44  # px: the smallest touch target (WCAG 2.5.5, Apple HIG)
ENG = {"username": "engineer", "roles": ["tq_engineer", "receiver"]}


def heights(page, selector: str) -> list[float]:
    boxes = [el.bounding_box() for el in page.locator(selector).all()]
    assert boxes, f"nothing matches {selector}"
    return [round(b["height"], 1) for b in boxes]


def test_touch_targets_at_768_px(browser, live_server, near_and_far):
    store = live_server.store
    made = near_and_far(store)
    data = {"type": "service_request", "customer_id": made["near"]["id"], "product_serial": "IN-001",
            "caller_name": "刘参谋", "caller_phone": "0312-5550101", "description": "电源控制箱无输出",
            "received_at": datetime.now(TZ).replace(microsecond=0) - timedelta(hours=1)}
    c = workflow.intake(store, current_calendar(store), data, ENG)
    c = workflow.perform(store, current_calendar(store), c["id"], "decide", ENG, {"solution": "onsite_free",
                                                                                "analysis": "电源模块损坏"})
    with watched_page(browser, live_server, viewport={"width": 768, "height": 1024}, has_touch=True,
                      is_mobile=True) as page:
        # 6.2.5: the technician picker, one tile per technician with their open cases
        login(page, live_server, "engineer", PASSWORD)
        page.goto(f"/cases/{c['id']}")
        box = page.locator("#action-dispatch")
        assert min(heights(page, "#action-dispatch .touch-tile")) >= MIN
        tile = box.locator(".touch-tile", has_text="tech-姓名")
        assert "在办案例 0 件" in tile.inner_text()
        tile.tap()  # the middle of the tile (its label spans it) toggles its checkbox
        assert box.get_by_label("tech-姓名", exact=True).is_checked()
        assert min(heights(page, "#action-dispatch [type=submit]")) >= MIN
        workflow.perform(store, current_calendar(store), c["id"], "dispatch", ENG,
                         {"technicians": ["tech"], "plan": "更换电源模块", "precautions": "断电后再开箱"})

        # the tablet 技术服务单: ratings as segmented buttons, clear and submit buttons
        page.context.clear_cookies()
        login(page, live_server, "tech", PASSWORD)
        page.goto(f"/forms/case/{c['id']}/tablet")
        assert min(heights(page, ".segmented .segment")) >= MIN
        assert len(heights(page, ".segmented .segment")) == 14  # 服务性质 免费/有偿, 4 aspects × 3 ratings
        assert min(heights(page, "[data-signature-clear]")) >= MIN
        assert min(heights(page, "#tablet-form [type=submit]")) >= MIN
        page.locator("#attitude-segments .segment", has_text="基本满意").tap()
        assert page.locator("#attitude-1").is_checked()
        # keyboard: the arrow key moves the choice; the focused segment shows a ring
        page.locator("#attitude-1").focus()
        page.keyboard.press("ArrowRight")
        assert page.locator("#attitude-2").is_checked()
        ring = page.locator("label[for=attitude-2]").evaluate("e => getComputedStyle(e).outlineStyle")
        assert ring == "solid"
        assert page.watch.errors() == [] and page.watch.csp_violations() == []
