"""Consistent snapshots of a data folder, and the schema migration run."""
from __future__ import annotations

import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import orjson

from . import schema
from .files import TEMP_PREFIX, fsync_dir
from .store import Store

SNAPSHOT_RE = re.compile(r"^\d{8}-\d{6}-\d{6}$")  # the names make_backup gives
SKIP_DIRS = {"cache"}  # derived data (records/core/digest.py), rebuilt from the shards


def _not_data(rel: Path) -> bool:
    """Lock files (the store's, the mail outbox's, the cron runs'), the in-flight journal,
    temp files and derived data: nothing a restore needs."""
    return (rel.name.endswith(".lock") or rel.name == "journal.json" or rel.name.startswith(TEMP_PREFIX)
            or rel.parts[0] in SKIP_DIRS)


def make_backup(store: Store, dest: Path, keep: int) -> tuple[Path, list[Path]]:
    """Snapshot the data folder into ``dest/<timestamp>``; keep the newest ``keep``.

    Under the write lock no commit is half-applied, so the set of files is consistent. Data
    files are only ever replaced, never changed in place, so a hard link is a stable copy
    (a plain copy when ``dest`` is on another file system); the audit trail is appended in
    place, so its bytes up to the size seen under the lock are copied.
    """
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    work = dest / f"{TEMP_PREFIX}{stamp}"
    final = dest / stamp
    audit_size = 0
    with store.lock.hold():
        store.recover()
        for path in sorted(store.root.rglob("*")):
            rel = path.relative_to(store.root)
            if path.is_dir() or _not_data(rel) or path == store.audit.path:
                continue
            target = work / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copy2(path, target)
        if store.audit.path.exists():
            audit_size = store.audit.path.stat().st_size
    if audit_size:
        with open(store.audit.path, "rb") as src, open(work / store.audit.path.name, "wb") as dst:
            remaining = audit_size
            while remaining:
                chunk = src.read(min(remaining, 1 << 20))
                dst.write(chunk)
                remaining -= len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    (work / "BACKUP.json").write_bytes(orjson.dumps({"source": str(store.root), "taken": stamp,
                                                      "audit_bytes": audit_size}))
    os.replace(work, final)
    fsync_dir(dest)
    # Only folders named like our snapshots: anything else in ``dest`` is not ours to delete.
    snaps = sorted(p for p in dest.iterdir() if p.is_dir() and SNAPSHOT_RE.match(p.name))
    removed = snaps[:-keep] if len(snaps) > keep else []
    for old in removed:
        shutil.rmtree(old)
    return final, removed


def migrate_all(store: Store) -> dict[str, int]:
    """Rewrite every document below its table's current schema version (audited)."""
    counts: dict[str, int] = {}
    for table_dir in sorted(p for p in store.tables_dir.iterdir() if p.is_dir()):
        table = table_dir.name
        old = list(_stored_ids_below(store, table))  # scan() upgrades on the fly: look at the files
        if not old:
            continue
        with store.transaction("migrate") as tx:
            for record_id in old:
                doc = tx.require(table, record_id)  # upgraded on read
                tx.update(table, record_id, doc, action="migrate",
                          note=f"升级到数据版本 {schema.current(table)}")
        counts[table] = len(old)
    return counts


def _stored_ids_below(store: Store, table: str):
    for path in store.shards(table):
        data, _ = store.cache.load(path)
        for doc in data.get(table, {}).values():
            if doc.get("_schema", 1) < schema.current(table):
                yield doc["id"]
