"""Per-shard digests of a table, recomputed only for the shards that changed.

The scheduled commands start as a new process every 15 minutes; reading a ten-year table means
parsing every shard again (about 60 MB of cases), although nearly all of them have not changed
since the last run. A digest keeps, per shard file, a small summary of its documents (the open
cases with an open deadline, the keys of the notices, ...) together with the shard's signature
(inode, size, mtime in ns: the store replaces a shard by renaming a new file over it and gives
every new version a later mtime, see records/core/files.py). Only shards whose signature changed are
parsed again, and the value combined from the summaries (their list, or e.g. the notices' index
of keys and unread counts) is rebuilt only when a shard changed. With ``persist=True`` the
digest is also kept in ``<data>/cache/`` (an atomic write), so the next process starts from it;
a missing, stale or damaged cache file only costs a full read. The cache holds nothing that is
not in the shards: deleting it is always safe.

Plain Python; the summaries must be JSON-ready.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from . import schema
from .files import StorageError, atomic_write
from .store import Store

CACHE_DIR = "cache"


class ShardDigest:
    """``collect(store)`` → ``combine`` of the summaries of every document (``summarize(doc)``
    not None); by default their list. The combined value is kept until a shard changes: callers
    must not mutate it.

    ``version`` names the summary's shape: change it whenever ``summarize`` changes, so that an
    old cache file is not used.
    """

    def __init__(self, table: str, summarize: Callable[[dict], Any], version: str,
                 combine: Callable[[Iterable], Any] = list):
        self.table, self.summarize, self.version, self.combine = table, summarize, version, combine
        # In ``store.derived[self]``: ({shard name: (sig, items)}, the combined value or None)
        self._lock = threading.Lock()

    def _file(self, store: Store) -> Path:
        return store.root / CACHE_DIR / f"digest-{self.table}.json"

    def _load_file(self, store: Store) -> dict[str, tuple[list, list]]:
        try:
            data = orjson.loads(self._file(store).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(data, dict) or data.get("version") != self.version:
            return {}
        return {name: (entry["sig"], entry["items"]) for name, entry in (data.get("shards") or {}).items()}

    def collect(self, store: Store, persist: bool = False):
        with self._lock:
            known, combined = store.derived.get(self) or (None, None)
        if known is None:
            known = self._load_file(store) if persist else {}
        fresh: dict[str, tuple[list, list]] = {}
        changed = False
        folder = store.tables_dir / self.table
        for name in store.shard_names(self.table):  # names and a stat each: no Path objects
            try:
                st = os.stat(f"{folder}/{name}")
            except FileNotFoundError:
                continue
            sig = [st.st_ino, st.st_size, st.st_mtime_ns]
            hit = known.get(name)
            if hit is not None and (hit[0] == sig or list(hit[0]) == sig):
                fresh[name] = hit
                continue
            path = folder / name
            data, _ = store.cache.load(path)
            items = []
            for doc in data.get(self.table, {}).values():
                if schema.needs_upgrade(self.table, doc):
                    doc = schema.upgrade(self.table, orjson.loads(orjson.dumps(doc)))
                item = self.summarize(doc)
                if item is not None:
                    items.append(item)
            fresh[name] = (sig, items)
            changed = True
        if len(fresh) != len(known):  # a shard gone (a new one is a change already)
            changed = True
        if changed or combined is None:
            combined = self.combine(item for _, items in fresh.values() for item in items)
        with self._lock:
            store.derived[self] = (fresh, combined)
        if persist and changed:
            body = {"version": self.version, "table": self.table,
                    "shards": {name: {"sig": sig, "items": items} for name, (sig, items) in fresh.items()}}
            try:
                (store.root / CACHE_DIR).mkdir(exist_ok=True)
                atomic_write(self._file(store), orjson.dumps(body))
            except (OSError, StorageError):
                pass  # only a cache: the next run reads the shards again
        return combined
