"""The "quarterly" section of ``aftersales bench``: the quarterly report to the GM (9.2) at ten-year
volume: the seconds to compute its sections for a quarter (every provider of
``records.reports.quarterly.PROVIDERS`` over the whole data set) and to render its PDF (issue 17
target: the quarterly PDF ≤ 3 s, p95 over 20 renderings), and the workbook.

    .venv/bin/python -m scripts.bench_quarterly [--quick] [-n N]

Builds the synthetic ten-year data set (``scripts.bench_data.ten_year_data``) in a temp folder and
takes the quarter of its latest case.
"""
from __future__ import annotations

import argparse
import json
import time
from datetime import date

from .bench_data import percentiles, ten_year_data

TARGET_S = 3.0


def _timed(fn, n: int) -> tuple[dict, object]:
    walls, cpus, out = [], [], None
    for _ in range(n):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return percentiles(walls, cpus), out


def bench(data_dir, n: int = 20) -> dict:
    from records.calendar.periods import period_of
    from records.calendar.workdays import WorkCalendar
    from records.core import pdf
    from records.core.store import Store
    from records.reports import quarterly, quarterly_documents

    pdf.ensure_fonts()
    store, cal = Store(data_dir), WorkCalendar.default()
    last = max(c.get("received_at") or "" for c in store.scan("cases"))
    period = period_of(3, date.fromisoformat(last[:10]))
    sections, computed = _timed(lambda: quarterly.compute(store, period, cal), max(3, n // 4))
    doc = {"quarter": period.label, "version": 1, "status": "issued", "sections": computed, "summary": "本季度总结。" * 40,
           "generated_at": "2026-01-05T09:00:00+08:00", "issued_at": "2026-01-06T09:00:00+08:00", "issued_by": "manager"}
    quarterly_documents.report_pdf(store, doc)  # warm up: imports, the font cut
    rendered, data = _timed(lambda: quarterly_documents.report_pdf(store, doc), n)
    book, _ = _timed(lambda: quarterly_documents.report_workbook(store, doc), max(3, n // 4))
    return {"quarter": period.label, "cases": store.count("cases"), "sections": sections, "pdf": rendered,
            "pdf_bytes": len(data), "workbook": book, "target_pdf_p95_ms": TARGET_S * 1e3,
            "pdf_ok": rendered["p95_ms"] <= TARGET_S * 1e3}


def section_quarterly(quick: bool) -> dict:
    with ten_year_data(quick, "aftersales-bench-quarterly-") as data_dir:
        figures = bench(data_dir, 5 if quick else 20)
    print(f"季度报告 {figures['quarter']}（{figures['cases']} 个案例）：计算各部分 p95 {figures['sections']['p95_ms']:.0f} ms，"
          f"PDF p50 {figures['pdf']['p50_ms']:.0f} ms / p95 {figures['pdf']['p95_ms']:.0f} ms（目标 ≤ {TARGET_S:g} s），"
          f"Excel p95 {figures['workbook']['p95_ms']:.0f} ms", flush=True)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(section_quarterly(args.quick), ensure_ascii=False, indent=1))
