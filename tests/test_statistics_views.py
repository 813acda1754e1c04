"""质量统计 page (9.3): who opens it, its figures, every count opening the case list that shows
exactly those cases (the drill-down), the charts inlined without script, the exports."""
from __future__ import annotations

import re
from html import unescape

import pytest

from records.calendar.periods import Period, parse_quarter
from records.reports.statistics import report_sections
from tests.fixtures.statistics import CUSTOMERS, NOW, PRODUCTS, stat_cases


@pytest.fixture
def q3(store):
    with store.transaction("test") as tx:
        for c in CUSTOMERS:
            assert tx.insert("customers", {"name": c["name"], "address": "", "contacts": []})["id"] == c["id"]
        for p in PRODUCTS:
            assert tx.insert("products", {k: v for k, v in p.items() if k != "id"} | {"warranty_months": 12})["id"] == p["id"]
        for c in stat_cases():
            assert tx.insert("cases", {k: v for k, v in c.items() if k != "id"})["id"] == c["id"]
    return store


def listed(client, url: str) -> list[int]:
    """The case ids the case list shows at ``url`` (one page: the data set is small)."""
    html = client.get(url).get_data(as_text=True)
    table = html[html.index('id="case-list"'):html.index("</table>", html.index('id="case-list"'))]
    return sorted(int(i) for i in re.findall(r'href="/cases/(\d+)"', table))


def counts(html: str, table_id: str) -> list[tuple[str, int, str]]:
    """(row key, count, link) of every linked count in the table ``table_id``."""
    start = html.index(f'id="{table_id}"')
    table = html[start:html.index("</table>", start)]
    out = []
    for row in re.findall(r"<tr[^>]*data-key=\"([^\"]*)\"[^>]*>(.*?)</tr>", table, re.S):
        for link, n in re.findall(r'<a href="([^"]+)" data-count="(\d+)"', row[1]):
            out.append((row[0], int(n), unescape(link)))
    return out


@pytest.mark.parametrize("user, status", [("vp", 200), ("sales", 200), ("tech", 403), ("finance", 403)])
def test_who_may_open(client, auth, user, status):
    auth.login(user)
    assert client.get("/statistics/").status_code == status


def test_every_count_opens_the_cases_behind_it(q3, client, auth):
    auth.login("manager")
    html = client.get("/statistics/?kind=quarter&quarter=2026Q3").get_data(as_text=True)
    assert "质量统计（9.3）：2026Q3" in html and "<script>" not in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    fault = counts(html, "stat-fault")
    assert [(k, n) for k, n, _ in fault] == [("power", 2), ("signal", 1), ("", 2)]
    cells = (fault + counts(html, "stat-cause") + counts(html, "stat-model") + counts(html, "stat-trend")
             + counts(html, "stat-on-time") + counts(html, "stat-summary"))
    assert len(cells) > 15
    for key, n, link in cells:
        assert len(listed(client, link)) == n, (key, link)
    model = dict((k, link) for k, _, link in counts(html, "stat-model"))
    assert listed(client, model["A"]) == [1, 2, 3, 7]  # P3 (delivered in October) has no case; 4 cancelled
    summary = {k: link for k, _, link in counts(html, "stat-summary")}
    assert list(summary) == ["faults", "gaps", "repeats", "reworks"]
    assert listed(client, summary["gaps"]) == [3, 7]  # 未分类
    assert listed(client, summary["repeats"]) == listed(client, summary["reworks"]) == [2]
    assert "质量统计的筛选" in client.get(summary["gaps"]).get_data(as_text=True)
    on_time = counts(html, "stat-on-time")
    assert [(k, n) for k, n, _ in on_time] == [("consult_reply", 1), ("decision", 2), ("decision", 1),
                                                ("arrival", 1), ("arrival", 1)]


def test_filters_and_periods(q3, client, auth):
    auth.login("gm")
    html = client.get("/statistics/?kind=quarter&quarter=2026Q3&customer_id=2").get_data(as_text=True)
    assert [(k, n) for k, n, _ in counts(html, "stat-model")] == [("A", 2)]
    for _, n, link in counts(html, "stat-model"):
        assert listed(client, link) == [3, 7]
    html = client.get("/statistics/?kind=custom&date_from=2026-06-01&date_to=2026-07-31&fault=power").get_data(as_text=True)
    assert [(k, n) for k, n, _ in counts(html, "stat-fault")] == [("power", 3)]  # 1, 5, 8
    bad = client.get("/statistics/?kind=custom&date_from=2026-08-01&date_to=2026-07-01").get_data(as_text=True)
    assert "结束日期早于开始日期" in bad


def test_the_tables_export(q3, client, auth):
    auth.login("engineer")
    resp = client.get("/statistics/?kind=quarter&quarter=2026Q3&table=fault&export=csv")
    text = resp.get_data().decode("utf-8-sig")
    assert resp.status_code == 200 and text.splitlines()[:2] == ["故障类别,数量,占比%,累计%", "电源,2,40.0,40.0"]
    resp = client.get("/statistics/?kind=quarter&quarter=2026Q3&table=on_time&export=xlsx")
    assert resp.status_code == 200 and resp.data[:2] == b"PK"


def test_report_sections(q3, store):
    """The 9.3 sections of the quarterly report (9.2): the same figures, the Pareto SVG with its table."""
    sections = {s.key: s for s in report_sections(store, Period("2026Q3", *parse_quarter("2026Q3")), None, NOW)}
    fault = sections["stats_by_fault"]
    assert fault.rows == (("电源", 2, 40.0, 40.0), ("信号处理", 1, 20.0, 60.0), ("未分类", 2, 40.0, 100.0))
    assert fault.chart_svg.startswith("<svg") and 'data-label="电源" data-value="2"' in fault.chart_svg
    assert sections["stats_by_model"].rows == (("A", 4, 2, 200.0), ("B", 1, 1, 100.0))
    assert sections["stats_repeat_rework"].rows == (("重复故障", 1), ("返修", 1))
    assert [r[:3] for r in sections["stats_on_time"].rows] == [("6.2.1", "答复咨询", 1), ("6.2.2", "确定解决方案", 2),
                                                              ("5.1.1.3", "到达现场", 1)]
    assert [r[0] for r in sections["stats_gaps"].rows] == ["T2026-0003", "T2026-0007"]
    assert all(s.clause == "9.3" for s in sections.values())
