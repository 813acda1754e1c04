"""The "worktime" section of ``aftersales bench``: many deadlines from random starts over 2024–2027.

``bench(n)`` times the working calendar; ``section_worktime(quick)`` prints its figures.
Run by hand from the project root: ``python -m scripts.bench_worktime [n]``.
"""
from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta

from records.calendar import time_limits
from records.calendar.workdays import WorkCalendar

# Mixed sizes: the regulation's 4 h (6.1.3) and 8 h (6.2.1, 6.2.2), plus fractions and long
# spans (up to 200 working hours, about five weeks).
_FIXED_HOURS = (4, 8, 0.5, 1.25, 16, 40)


def _inputs(n: int, seed: int) -> list[tuple[datetime, float]]:
    rng = random.Random(seed)
    first = datetime(2024, 1, 1)
    span_s = int((datetime(2028, 1, 1) - first).total_seconds())
    out = []
    for _ in range(n):
        start = first + timedelta(seconds=rng.randrange(span_s))
        hours = rng.choice(_FIXED_HOURS) if rng.random() < 0.7 else rng.uniform(0, 200)
        out.append((start, hours))
    return out


def bench(n: int = 100_000, seed: int = 2026) -> dict:
    """Time ``n`` add_working_hours calls (cold calendar, then warm), and ``n`` Deadlines."""
    work = _inputs(n, seed)
    cal = WorkCalendar.default()

    t0 = time.perf_counter()
    for start, hours in work:
        cal.add_working_hours(start, hours)
    cold = time.perf_counter() - t0  # includes loading the holiday data for each year

    t0 = time.perf_counter()
    for start, hours in work:
        cal.add_working_hours(start, hours)
    warm = time.perf_counter() - t0

    t0 = time.perf_counter()
    for start, _ in work:
        time_limits.decision_deadline(cal, start)  # 6.2.2, a full Deadline object
    full = time.perf_counter() - t0

    return {
        "n": n,
        "total_s": round(cold, 3),
        "per_deadline_us": round(cold / n * 1e6, 2),
        "warm_total_s": round(warm, 3),
        "warm_per_deadline_us": round(warm / n * 1e6, 2),
        "deadline_objects_total_s": round(full, 3),
        "deadline_objects_per_us": round(full / n * 1e6, 2),
    }


def report(n: int) -> dict:
    """``bench(n)``, its figures printed one per line."""
    result = bench(n)
    for key, value in result.items():
        print(f"{key}: {value}")
    return result


def section_worktime(quick: bool = False) -> dict:
    """For ``scripts/bench.py``: ``bench`` on 100,000 deadlines (10,000 when quick)."""
    return report(10_000 if quick else 100_000)


if __name__ == "__main__":
    report(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
