"""The load section of ``aftersales bench`` in its quick form: a small data set served by the
real ``aftersales serve`` (two worker processes) and driven by wrk for a second per page."""
from __future__ import annotations

from scripts import bench
from scripts.bench_load import PAGES, build_load_data, run_load


def test_load_section_drives_the_real_server(tmp_path, capsys):
    data = build_load_data(tmp_path, 0.005)  # 100 cases, 10 of them open
    pages = tuple(p for p in PAGES if p[0] in ("login", "home (技质部)", "case list"))
    figures = run_load(data, seconds=1, connections=8, case_id=1, workers=2, pages=pages)
    out = capsys.readouterr().out
    for name, _, _ in pages:
        row = figures[name]
        assert row["requests"] > 0 and row["non_2xx"] == 0 and row["errors"] == 0, (name, row)
        assert row["p95_ms"] >= row["p50_ms"] > 0
        assert name in out
    assert 0 < figures["rss_mb"] < 300
    assert "load" in bench.SECTIONS
