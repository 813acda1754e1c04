"""The "verify" section of ``aftersales bench``: the data-safety commands at ten-year volume.

On the synthetic data set of ``scripts/bench_data.py`` (300,000 audit entries, 25,300 records):

* verify:  ``aftersales verify``'s full check (records/core/replay.py): the hash chain, and every
  record rebuilt from its audit entries and compared with the stored one; budget 30 s;
* backup:  one snapshot (records/core/backup.py, independent copies), and how long it held the
  write lock (writers wait that long);
* restore: the snapshot checked, copied into a new folder and checked again (records/core/restore.py);
* the snapshot's size on disk beside the data folder's.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from records.core.backup import make_backup
from records.core.replay import check_store
from records.core.restore import restore
from records.core.store import Store

from .bench_data import build_dataset, volume

VERIFY_BUDGET_S = 30


def _disk_mb(root: Path) -> float:
    return round(sum(os.stat(p).st_blocks * 512 for p in root.rglob("*") if p.is_file()) / 1e6, 1)


def section_verify(quick: bool = False, scale: float | None = None) -> dict:
    scale = scale if scale is not None else (0.1 if quick else 1.0)
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-bench-verify-"))
    try:
        info = build_dataset(tmp / "data", *volume(scale))
        store = Store(tmp / "data")
        c0, t0 = time.process_time(), time.perf_counter()
        check = check_store(store)
        verify_s, verify_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        stats: dict = {}
        t0 = time.perf_counter()
        snap, _ = make_backup(store, tmp / "backups", keep=1, stats=stats)
        backup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        restored = restore(snap, tmp / "restored")
        restore_s = time.perf_counter() - t0
        out = {"scale": scale, "audit_entries": check.entries, "records": check.records, "ok": check.ok,
               "verify_s": round(verify_s, 2), "verify_cpu_s": round(verify_cpu_s, 2), "budget_s": VERIFY_BUDGET_S, "meets_budget": verify_s <= VERIFY_BUDGET_S,
               "backup_s": round(backup_s, 2), "backup_lock_s": round(stats["lock_s"], 3),
               "restore_s": round(restore_s, 2), "restore_ok": restored.check.ok,
               "data_mb": _disk_mb(tmp / "data"), "snapshot_mb": _disk_mb(snap), "audit_mb": info["audit_mb"]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"data set: {out['records']} records, {out['audit_entries']} audit entries ({out['audit_mb']} MB), "
          f"{out['data_mb']} MB on disk")
    print(f"verify (chain + every record rebuilt): {out['verify_s']} s (CPU {out['verify_cpu_s']} s) "
          f"{'ok' if out['ok'] else 'FAILED'} (budget ≤ {VERIFY_BUDGET_S} s: {'ok' if out['meets_budget'] else 'MISSED'})")
    print(f"backup: {out['backup_s']} s, write lock held {out['backup_lock_s']} s; snapshot {out['snapshot_mb']} MB")
    print(f"restore (check, copy, check): {out['restore_s']} s {'ok' if out['restore_ok'] else 'FAILED'}")
    return out
