"""The yearly number series of the case workflow: case numbers FW2026-0001 (6.1.1, 6.1.2) and
技术服务单 numbers JF2026-0001 (6.2.5), kept in the counters table."""
from __future__ import annotations

from typing import Callable, Iterator

from records.core.transaction import Transaction

from .vocab import COUNTERS


def next_number(tx: Transaction, prefix: str, year: int, existing: Callable[[], Iterator[str]]) -> str:
    """The next number ``<prefix><year>-0001`` of a yearly series, kept in the counters table (the
    case numbers; the 技术服务单 numbers issued at the dispatch, 6.2.5)."""
    name = f"{prefix}{year}"
    counter = next((c for c in tx.scan(COUNTERS) if c["name"] == name), None)
    if counter is None:
        # First number of the year in this data folder: start after any number already used.
        last = 0
        for number in existing():
            if number and number.startswith(name + "-"):
                try:
                    last = max(last, int(number.rsplit("-", 1)[1]))
                except ValueError:
                    pass
        value = last + 1
        tx.insert(COUNTERS, {"name": name, "value": value})
    else:
        value = counter["value"] + 1
        tx.update(COUNTERS, counter["id"], {"value": value})
    return f"{name}-{value:04d}"
