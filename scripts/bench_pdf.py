"""The "pdf" section of ``aftersales bench``: seconds to render one one-page 技术服务单 PDF
(issue 5 target: median ≤ 0.5 s). ``bench(n)`` times it, ``section_pdf(quick)`` prints the figures.

    .venv/bin/python -m scripts.bench_pdf [n] [--fonttools]

Builds a throw-away data folder with one customer, product and dispatched case, renders the
form once to warm up (font cut from the cache, WeasyPrint imports), then ``n`` more times.
``--fonttools`` makes WeasyPrint subset with fontTools, as it does on a machine without
libharfbuzz-subset0 (the slow path the issue measured).
"""
from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time


def _setup(folder: str):
    from records.catalog import customers, products
    from records.core.store import Store
    from records.users import accounts

    store = Store(folder)
    accounts.create_user(store, "tech", "Bench-password-2026", ["technician"], "bench", display_name="赵师傅")
    cust = customers.create_customer(store, {
        "name": "西北某试验基地", "address": "甘肃省酒泉市", "distance_km": 820,
        "contacts": [{"name": "陈工", "phone": "0937-5550202"}]}, "bench")
    prod = products.create_product(store, {
        "model": "RD-5", "name": "雷达信号处理机", "serial_no": "RD5-2025-003", "customer_id": cust["id"],
        "delivery_date": "2025-09-20", "warranty_months": 36}, "bench")
    case = store.insert("cases", {
        "number": "FW2026-0001", "type": "service_request", "state": "on_route", "customer_id": cust["id"],
        "product_id": prod["id"], "caller_name": "陈工", "caller_phone": "0937-5550202",
        "description": "开机后显示屏无显示，电源指示灯不亮；更换保险丝后仍无法启动。",
        "received_at": "2026-03-02T09:15:00+08:00",
        "decision": {"in_warranty": True, "warranty_label": "", "misuse": False, "solution": "onsite_free"},
        "dispatch": {"technicians": ["tech"], "plan": "派技术人员携带备用电源模块到现场更换。",
                     "precautions": "断电后再拆机。", "form_no": "JF2026-0001",
                     "issued_at": "2026-03-02T14:00:00+08:00", "departed_at": "2026-03-02T15:00:00+08:00"},
    }, "bench")
    return store, case["id"]


def bench(n: int = 20, fonttools: bool = False) -> dict:
    """Render the form n times: {"n", "median", "p95", "min", "max", "cpu_median"} in seconds, "pages", "bytes"."""
    from pypdf import PdfReader

    from records.cases.vocab import TABLE as CASES
    from records.core import pdf
    from records.service_forms import document as form_document

    if fonttools:
        import weasyprint.pdf.fonts as wfonts
        saved, wfonts.harfbuzz_subset = wfonts.harfbuzz_subset, None
    try:
        pdf.ensure_fonts()  # built once per machine (about half a minute the very first time)
        with tempfile.TemporaryDirectory(prefix="aftersales-bench-pdf-") as folder:
            store, case_id = _setup(folder)
            case = store.get(CASES, case_id)
            data = form_document.render_case_form(store, case)  # warm-up
            times, cpu = [], []
            for _ in range(n):
                t0, c0 = time.perf_counter(), time.process_time()
                data = form_document.render_case_form(store, case)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
    finally:
        if fonttools:
            wfonts.harfbuzz_subset = saved
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"n": n, "median": statistics.median(times), "p95": p95, "min": times[0], "max": times[-1],
            "cpu_median": statistics.median(cpu), "pages": len(PdfReader(io.BytesIO(data)).pages), "bytes": len(data)}


def section_pdf(quick: bool = False) -> dict:
    """Issue 5: one-page 技术服务单 PDFs (target median ≤ 0.5 s)."""
    result = bench(5 if quick else 20)
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


def main(argv: list[str]) -> None:
    import logging
    import warnings

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    n = next((int(a) for a in argv if a.isdigit()), 20)
    result = bench(n, fonttools="--fonttools" in argv)
    path = "fontTools subsetting" if "--fonttools" in argv else "default (HarfBuzz subsetting if installed)"
    print(f"技术服务单 PDF, {result['pages']} page(s), {result['bytes'] // 1024} KB, n={n}, {path}: "
          f"median {result['median']:.3f} s, p95 {result['p95']:.3f} s (min {result['min']:.3f}, max {result['max']:.3f}; "
          f"CPU median {result['cpu_median']:.3f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
