"""Summary indexes of a table: what list pages filter and sort on, without reading the documents.

A ``TableIndex`` keeps, for every document of its table, a small summary (a dict made by the
table's own ``summarize(doc)``: its state, customer, received time, …), per shard file, validated
by that file's signature (inode, size, mtime in ns) on every use through a ``ShardDigest``. So the
index is always the shards' own: a commit of this process or of another one replaces a shard
file, the next use re-summarizes only that shard (256 documents), and nothing has to be kept in
step by hand — a missing index is simply built at the first use (a new process reads each shard
once; ``warm`` does it ahead). Only the shards of the rows a page shows are then read whole.

The combined value (``Rows``) holds the summaries sorted by the table's ``order`` (newest first),
and per indexed field a bucket of rows per value, so that ``select(state=…, customer_id=…)``
starts from the smallest bucket instead of every row. Plain Python, no domain words: the
summaries and the fields are the table owner's.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from .digest import ShardDigest
from .store import Store


def _holds(value, wanted) -> bool:
    return wanted in value if isinstance(value, (list, tuple)) else value == wanted


class Rows:
    """Every summary of a table, sorted by ``order`` descending, with buckets per field value.

    Callers must not mutate the rows (they are shared by every request until a shard changes).
    """

    def __init__(self, items: Iterable[dict], order: Callable[[dict], Any], fields: tuple[str, ...]):
        self.rows: list[dict] = sorted(items, key=order, reverse=True)
        self.by_id: dict[int, dict] = {r["id"]: r for r in self.rows}
        self.buckets: dict[str, dict[Any, list[dict]]] = {f: {} for f in fields}
        for r in self.rows:
            for f in fields:
                value = r.get(f)
                for v in (value if isinstance(value, (list, tuple)) else (value,)):
                    self.buckets[f].setdefault(v, []).append(r)

    def bucket(self, field: str, value) -> list[dict]:
        """The rows whose ``field`` is (or, for a list, holds) ``value``, in order."""
        return self.buckets[field].get(value, [])

    def select(self, **equal) -> list[dict]:
        """The rows matching every given field (None or "" means any), in order."""
        wanted = [(f, v) for f, v in equal.items() if v not in (None, "")]
        if not wanted:
            return self.rows
        wanted.sort(key=lambda fv: len(self.bucket(*fv)))
        (f0, v0), rest = wanted[0], wanted[1:]
        return [r for r in self.bucket(f0, v0) if all(_holds(r.get(f), v) for f, v in rest)]


class TableIndex:
    """The summary index of one table: ``rows(store)`` → ``Rows``, current with the shards.

    ``version`` names the summary's shape (change it whenever ``summarize`` changes);
    ``fields`` are the fields given buckets (a list-valued field puts its row in each value's).
    """

    def __init__(self, table: str, summarize: Callable[[dict], dict], version: str,
                 order: Callable[[dict], Any], fields: tuple[str, ...]):
        self.table = table
        self._digest = ShardDigest(table, summarize, version, combine=lambda items: Rows(items, order, fields))

    def rows(self, store: Store) -> Rows:
        return self._digest.collect(store)

    def warm(self, store: Store) -> None:
        """Build the index now (e.g. when a server starts) rather than at the first page."""
        self.rows(store)
