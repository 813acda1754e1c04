"""Benchmarks, run by ``aftersales bench`` (or ``python -m scripts.bench [--quick] [--only NAME]``).

This module holds only the registry of sections and the runner. A section is a function
``fn(quick: bool) -> dict`` that prints its figures and returns them; each lives in its own
module and knows nothing of this one:

* storage   ``scripts/bench_storage.py``  our store against plain TinyDB and SQLite
* worktime  ``scripts/bench_worktime.py`` the working calendar's deadline arithmetic
* workflow  ``scripts/bench_workflow.py`` one case transition
* pdf       ``scripts/bench_pdf.py``      the 技术服务单 PDF
* cron      ``scripts/bench_cron.py``     the scheduled ``overdue`` and ``followups`` runs
* verify    ``scripts/bench_verify.py``   ``verify`` (every record rebuilt), ``backup``, ``restore``
* load      ``scripts/bench_load.py``     the real server under 8 clients (wrk): p50/p95 per page
* quarterly ``scripts/bench_quarterly.py`` the quarterly report (9.2): its sections, PDF and workbook

The storage, workflow, cron, verify and load sections work on the synthetic ten-year data set of
``scripts/bench_data.py``. A later feature adds its figures by writing such a function and
listing it in ``SECTIONS`` below; ``run`` returns
{section name: figures}, in the order of ``SECTIONS``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from .bench_cron import section_cron
from .bench_load import section_load
from .bench_pdf import section_pdf
from .bench_quarterly import section_quarterly
from .bench_storage import bench_storage
from .bench_verify import section_verify
from .bench_workflow import section_workflow
from .bench_worktime import section_worktime

# The sections, in the order they run; the keys are the names ``--only`` takes.
SECTIONS: dict[str, Callable[[bool], dict]] = {
    "storage": bench_storage,
    "worktime": section_worktime,
    "workflow": section_workflow,
    "pdf": section_pdf,
    "cron": section_cron,
    "verify": section_verify,
    "load": section_load,
    "quarterly": section_quarterly,
}


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
