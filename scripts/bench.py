"""Benchmarks, run by ``aftersales bench`` (or ``python -m scripts.bench [--quick] [--only NAME]``).

Sections live in ``SECTIONS`` ({name: fn(quick) -> dict}); a later feature adds its own figures
by registering a function there (``@section("name")``). Each section prints its figures and
returns them as a dict; ``run`` returns {section name: figures}.

The storage section lives in ``scripts/bench_storage.py``; the synthetic ten-year data set
the sections share, in ``scripts/bench_data.py``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from .bench_data import percentiles, ten_year_data
from .bench_storage import bench_storage

SECTIONS: dict[str, Callable[[bool], dict]] = {}


def section(name: str):
    """Register a benchmark section: ``fn(quick: bool) -> dict`` that prints its figures."""
    def register(fn):
        SECTIONS[name] = fn
        return fn
    return register


def run(quick: bool = False, only: set[str] = frozenset()) -> dict:
    unknown = set(only) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown bench section(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(SECTIONS)}")
    results = {}
    for name, fn in SECTIONS.items():
        if only and name not in only:
            continue
        print(f"\n== {name}{' (quick)' if quick else ''} ==", flush=True)
        results[name] = fn(quick)
    return results


section("storage")(bench_storage)


@section("worktime")
def bench_worktime_section(quick: bool = False) -> dict:
    from .bench_worktime import bench

    result = bench(10_000 if quick else 100_000)
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


@section("workflow")
def bench_workflow_section(quick: bool = False) -> dict:
    """Issue 4: a workflow transition (perform "decide") on the ten-year data set."""
    from records.core.store import Store
    from records.demo import load_demo
    from scripts.bench_workflow import bench_transition

    with ten_year_data(quick, "aftersales-bench-wf-") as data_dir:
        store = Store(data_dir)
        load_demo(store)  # real customers and products beside the synthetic ones
        times = bench_transition(store, 20 if quick else 200)
    result = percentiles(times)
    print(f"transition p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms (target p95 ≤ 50 ms), n={result['n']}")
    return result


@section("pdf")
def bench_pdf_section(quick: bool = False) -> dict:
    """Issue 5: one-page 技术服务单 PDFs (target median ≤ 0.5 s)."""
    from .bench_pdf import bench

    result = bench(5 if quick else 20)
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


@section("cron")
def bench_cron_section(quick: bool = False) -> dict:
    """Issue 6: `overdue` and `followups` over the ten-year data set (target ≤ 1 s each)."""
    from .bench_cron import section_cron

    return section_cron(quick)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    results = run(quick=args.quick, only=set(args.only))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
