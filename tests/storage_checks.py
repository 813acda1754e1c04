"""Checks the storage tests share: files parse, no leftovers, audit trail and data agree."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson

from records.core.files import TEMP_PREFIX
from records.core.store import Store

PROJECT = Path(__file__).resolve().parent.parent
WRITER = Path(__file__).resolve().parent / "writer_proc.py"
AFTERSALES = Path(sys.executable).parent / "aftersales"


def writer(*args, **kw) -> subprocess.Popen:
    """Start tests/writer_proc.py in a new process (see its docstring for the modes)."""
    return subprocess.Popen([sys.executable, str(WRITER), *map(str, args)], cwd=PROJECT, text=True,
                            stdout=subprocess.PIPE, **kw)


def shard_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "tables").rglob("*.json") if not p.name.startswith(TEMP_PREFIX))


def assert_files_parse(root: Path) -> int:
    """Every shard file is a complete TinyDB JSON file (orjson and the stdlib both read it)."""
    docs = 0
    for path in shard_files(root):
        raw = path.read_bytes()
        data = orjson.loads(raw)
        assert json.loads(raw) == data
        assert list(data) == [path.parent.name], path
        for key, doc in data[path.parent.name].items():
            assert doc["id"] == int(key) and int(key) // 256 == int(path.stem), path
            docs += 1
    return docs


def leftovers(root: Path) -> list[Path]:
    """Temp files and a journal: a finished commit or an opened Store leaves none."""
    found = [p for p in root.rglob(f"{TEMP_PREFIX}*")]
    if (root / "journal.json").exists():
        found.append(root / "journal.json")
    return found


def assert_consistent(root: Path, revs: bool = True) -> Store:
    """Open the store (recovering) and check files, audit chain and record bookkeeping agree.

    Every audited change adds exactly one entry to the trail and its offset to the record's
    ``_audit``, so the trail's length is the sum of those lists, and each offset names the
    record that holds it. With ``revs``, each record's revision counts its entries (tables
    without audit-only events).
    """
    store = Store(root)
    assert leftovers(root) == []
    assert_files_parse(root)
    result = store.audit.verify()
    assert result.ok, result
    total = 0
    for table_dir in sorted((root / "tables").iterdir()):
        for doc in store.scan(table_dir.name):
            offsets = doc.get("_audit", [])
            total += len(offsets)
            for entry in store.audit.read_at(offsets):
                assert (entry["table"], entry["id"]) == (table_dir.name, doc["id"])
            if revs:
                assert doc["_rev"] == len(offsets), doc
    assert result.entries == total
    return store


def run_cli(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    """The installed console script, as an admin or cron would run it."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(AFTERSALES), *map(str, args)], capture_output=True, text=True, env=full_env,
                          cwd=PROJECT, timeout=timeout)
