"""Every page of tests/ui_pages.py in headless Chromium: nothing scrolls sideways at 768, 1024
or 1366 px wide (neither the page nor a box inside it), and axe-core finds no serious or
critical accessibility violation (at one width, to keep the suite short).

One browser, one login per role, one server for the whole module: the pages are only read.
"""
from __future__ import annotations

import shutil
from contextlib import ExitStack
from datetime import date, datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe

from app import create_app
from records.calendar.periods import quarter_label
from records.calendar.workdays import WorkCalendar
from records.cases import workflow
from records.core.store import Store
from records.reports import quarterly
from tests.browser_support import LiveServer, login, watched_page
from tests.fixtures.calendar import TZ
from tests.fixtures.users import PASSWORD, TEST_USERS
from tests.ui_pages import PAGES, ROLE_USERS, Site, url_of

pytestmark = pytest.mark.browser

WIDTHS = ((768, 1024), (1024, 768), (1366, 768))
AXE_WIDTH = 1024
# Boxes allowed to scroll sideways inside a page (selectors): ideally none.
ALLOWED_SCROLLERS: tuple[str, ...] = ()

OVERFLOW_JS = """(allowed) => {
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) out.push(`页面 ${root.scrollWidth} > ${window.innerWidth}`);
  for (const el of document.querySelectorAll('body *')) {
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const x = getComputedStyle(el).overflowX;
    if (x !== 'auto' && x !== 'scroll') continue;
    if (allowed.some((sel) => el.matches(sel))) continue;
    out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')}`
             + ` ${el.scrollWidth} > ${el.clientWidth}`);
  }
  return out;
}"""


def _users(user: str) -> dict:
    return {"username": user, "roles": TEST_USERS[user]}


@pytest.fixture(scope="module")
def site_server(seeded_dir, tmp_path_factory, near_and_far, archive_signed_form):
    """The app on a copy of the seeded folder with one case on site (its signed form archived,
    a 6.1.4 fine proposal for the late hand-over) and one waiting for the decision."""
    data_dir = tmp_path_factory.mktemp("ui_pages") / "data"
    shutil.copytree(seeded_dir, data_dir)
    store, cal = Store(data_dir), WorkCalendar.default()
    made = near_and_far(store)
    now = datetime.now(TZ).replace(second=0, microsecond=0)
    data = {"type": "service_request", "customer_id": made["near"]["id"], "product_serial": "IN-001",
            "caller_name": "刘参谋", "caller_phone": "0312-5550101", "channel": "phone",
            "description": "电源控制箱无输出，指示灯不亮", "received_at": now - timedelta(days=12)}
    case = workflow.intake(store, cal, data, _users("receiver"), now=now - timedelta(days=5))

    def act(action, user, days_ago, **fields):
        nonlocal case
        case = workflow.perform(store, cal, case["id"], action, _users(user), fields, expect_rev=case["_rev"],
                                now=now - timedelta(days=days_ago))

    act("decide", "engineer", 4, solution="onsite_free", analysis="电源模块损坏")
    act("dispatch", "engineer", 3, technicians=["tech"], plan="更换电源模块", precautions="带备件",
        departed_at=now - timedelta(days=3) + timedelta(minutes=30))
    act("arrive", "tech", 1, arrived_at=now - timedelta(days=1, minutes=30))
    archive_signed_form(store, case)
    waiting = workflow.intake(store, cal, {**data, "received_at": now - timedelta(hours=1),
                                           "caller_name": "王参谋", "description": "显示屏无显示"},
                              _users("engineer"), now=now)
    product = store.find("products", lambda p: p["serial_no"] == "IN-001")[0]
    last_quarter = quarter_label(date(now.year, (now.month - 1) // 3 * 3 + 1, 1) - timedelta(days=1))
    quarterly.create_draft(store, last_quarter, cal, now, "manager")  # report 1 (tests/ui_pages.py)
    site = Site(case_id=case["id"], case_number=case["number"], new_case_id=waiting["id"],
                customer_id=made["near"]["id"], product_id=product["id"])
    server = LiveServer(create_app({"DATA_DIR": data_dir})).start()
    try:
        yield server, site
    finally:
        server.stop()


@pytest.fixture(scope="module")
def role_pages(browser, site_server):
    """One logged-in page per role, opened when first needed and reused."""
    server, _ = site_server
    opened = {}
    with ExitStack() as stack:
        def page_for(role: str):
            if role not in opened:
                pg = stack.enter_context(watched_page(browser, server, viewport={"width": 1366, "height": 768}))
                login(pg, server, ROLE_USERS[role], PASSWORD)
                opened[role] = pg
            return opened[role]

        yield page_for


@pytest.mark.parametrize("entry", PAGES, ids=[e[0] for e in PAGES])
def test_page_fits_every_width_and_passes_axe(entry, site_server, role_pages):
    server, site = site_server
    page = role_pages(entry[1])
    url = url_of(entry, site)
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    problems = []
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for p in page.evaluate(OVERFLOW_JS, list(ALLOWED_SCROLLERS)):
            problems.append(f"{width}px: {p}")
        if width == AXE_WIDTH:
            results = Axe().run(page)
            for v in results.response["violations"]:
                if v["impact"] in ("serious", "critical"):
                    targets = "; ".join(str(n["target"]) for n in v["nodes"][:5])
                    problems.append(f"axe {v['id']} ({v['impact']}, {len(v['nodes'])} 处): {targets}")
    page.set_viewport_size({"width": 1366, "height": 768})
    assert not problems, f"{entry[0]} {url}:\n" + "\n".join(problems)
