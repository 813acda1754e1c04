"""The "storage" section of ``aftersales bench``: our store against plain TinyDB and SQLite.

``bench_storage(quick)`` builds the synthetic ten-year data set (``scripts/bench_data.py``) in a
temp folder and times three operations on it with our store (``bench_ours``), with plain TinyDB
(one JSON file, default storage; ``bench_tinydb``) and with SQLite (WAL; ``bench_sqlite``):

* write: one case updated (ours: ``Store.transaction`` + ``tx.update``; includes the journal,
  the fsyncs and the audit entry),
* read:  one case by id (ours: ``Store.get``),
* list:  one page of 50 cases with a filter (state == "open" and customer_id == X, sorted by
  received_at, newest first, plus the total count; ours: ``Store.page``).
"""
from __future__ import annotations

import gc
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import orjson
from tinydb import Query, TinyDB

from records.core.store import Store

from .bench_data import build_dataset, percentiles, volume

TARGETS_MS = {"write": 50, "read": 20, "list": 20}


def timed(fn, reps: int) -> dict:
    """Call ``fn(i)`` for i in range(reps): ``percentiles`` of its wall-clock and CPU times."""
    samples, cpu = [], []
    for i in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return percentiles(samples, cpu)


def _open_filter(customer_id):
    return lambda d: d["state"] == "open" and d["customer_id"] == customer_id


def bench_ours(root: Path, rng: random.Random, n_cases: int, n_customers: int, reps: dict) -> dict:
    store = Store(root)
    out = {}
    t0 = time.perf_counter()
    store.get("cases", rng.randint(1, n_cases))
    out["cold_read_ms"] = round((time.perf_counter() - t0) * 1e3, 2)  # parses one shard
    t0 = time.perf_counter()
    store.page("cases", _open_filter(1), key=lambda d: d["received_at"], reverse=True)
    out["cold_list_ms"] = round((time.perf_counter() - t0) * 1e3, 2)  # parses every shard

    ids = [rng.randint(1, n_cases) for _ in range(reps["write"])]

    def write(i):
        with store.transaction("bench") as tx:
            tx.update("cases", ids[i], {"state": rng.choice(("open", "in_progress", "closed")),
                                        "remarks": f"bench write {i}"})

    out["write"] = timed(write, reps["write"])
    # The writes made the cache forget the shards they replaced: read them back once, as
    # a long-running worker would have done between requests, then time reads and lists.
    store.page("cases", None)
    read_ids = [rng.randint(1, n_cases) for _ in range(reps["read"])]
    out["read"] = timed(lambda i: store.get("cases", read_ids[i]), reps["read"])
    custs = [rng.randint(1, n_customers) for _ in range(reps["list"])]
    out["list"] = timed(lambda i: store.page("cases", _open_filter(custs[i]), key=lambda d: d["received_at"],
                                             reverse=True, per_page=50), reps["list"])
    out["list_state_only"] = timed(lambda i: store.page("cases", lambda d: d["state"] == "open",
                                                        key=lambda d: d["received_at"], reverse=True,
                                                        page=1 + i % 5, per_page=50), reps["list"])
    verify_t0 = time.perf_counter()
    result = store.audit.verify()
    out["verify_s"] = round(time.perf_counter() - verify_t0, 2)
    out["verify_ok"] = result.ok
    out["verify_entries"] = result.entries
    return out


def bench_tinydb(path: Path, cases: dict[int, dict], rng: random.Random, n_customers: int, reps: int) -> dict:
    # TinyDB's own file format, all cases in one file (without our bookkeeping fields)
    path.write_bytes(orjson.dumps({"cases": {str(k): {f: v for f, v in d.items() if not f.startswith("_")}
                                             for k, d in cases.items()}}))
    db = TinyDB(path)  # default JSONStorage: json.load / json.dump of the whole file, no fsync
    table = db.table("cases")
    n = len(cases)
    out = {}
    ids = [rng.randint(1, n) for _ in range(reps)]
    out["write"] = timed(lambda i: table.update({"state": "in_progress", "remarks": f"bench write {i}"},
                                                doc_ids=[ids[i]]), reps)
    out["read"] = timed(lambda i: table.get(doc_id=ids[i]), reps)
    Case = Query()
    # a different customer each time, so TinyDB's per-table query cache never answers
    custs = rng.sample(range(1, n_customers + 1), min(reps, n_customers))

    def list_(i):
        rows = table.search((Case.state == "open") & (Case.customer_id == custs[i % len(custs)]))
        rows.sort(key=lambda d: d["received_at"], reverse=True)
        return rows[:50], len(rows)

    out["list"] = timed(list_, reps)
    db.close()
    return out


def bench_sqlite(path: Path, cases: dict[int, dict], rng: random.Random, n_customers: int, reps: dict) -> dict:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")  # an fsync per commit, as our store does
    con.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, state TEXT, customer_id INTEGER, "
                "received_at TEXT, doc TEXT NOT NULL)")
    con.execute("BEGIN")
    con.executemany("INSERT INTO cases VALUES (?,?,?,?,?)",
                    [(k, d["state"], d["customer_id"], d["received_at"],
                      orjson.dumps({f: v for f, v in d.items() if not f.startswith("_")}).decode())
                     for k, d in cases.items()])
    con.execute("CREATE INDEX cases_state_customer ON cases (state, customer_id)")
    con.execute("COMMIT")
    n = len(cases)
    out = {}
    ids = [rng.randint(1, n) for _ in range(reps["write"])]

    def write(i):
        con.execute("BEGIN IMMEDIATE")
        doc = orjson.loads(con.execute("SELECT doc FROM cases WHERE id=?", (ids[i],)).fetchone()[0])
        doc.update(state="in_progress", remarks=f"bench write {i}")
        con.execute("UPDATE cases SET doc=?, state=? WHERE id=?", (orjson.dumps(doc).decode(), doc["state"], ids[i]))
        con.execute("COMMIT")

    out["write"] = timed(write, reps["write"])
    read_ids = [rng.randint(1, n) for _ in range(reps["read"])]
    out["read"] = timed(lambda i: orjson.loads(
        con.execute("SELECT doc FROM cases WHERE id=?", (read_ids[i],)).fetchone()[0]), reps["read"])
    custs = [rng.randint(1, n_customers) for _ in range(reps["list"])]

    def list_(i):
        rows = [orjson.loads(r[0]) for r in con.execute(
            "SELECT doc FROM cases WHERE state='open' AND customer_id=? ORDER BY received_at DESC LIMIT 50",
            (custs[i],))]
        total = con.execute("SELECT count(*) FROM cases WHERE state='open' AND customer_id=?", (custs[i],)).fetchone()[0]
        return rows, total

    out["list"] = timed(list_, reps["list"])
    con.close()
    return out


def bench_storage(quick: bool = False, scale: float | None = None, keep: Path | None = None) -> dict:
    """The storage figures; ``scale`` overrides the volume (1.0 = ten years, quick = 0.1)."""
    scale = scale if scale is not None else (0.1 if quick else 1.0)
    n_customers, n_products, n_cases, n_audit = volume(scale)
    reps = {"write": 200, "read": 1000, "list": 200} if scale >= 0.1 else {"write": 20, "read": 50, "list": 20}
    tiny_reps = 5 if scale >= 0.5 else 20
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="aftersales-bench-"))
    try:
        t0 = time.perf_counter()
        info = build_dataset(tmp / "data", n_customers, n_products, n_cases, n_audit)
        cases = info.pop("cases_doc")
        info["build_s"] = round(time.perf_counter() - t0, 1)
        print(f"data set: {info['customers']} customers, {info['products']} products, {info['cases']} cases "
              f"(avg {info['avg_case_bytes']} B), {info['audit_entries']} audit entries ({info['audit_mb']} MB); "
              f"built in {info['build_s']} s", flush=True)
        gc.collect()
        ours = bench_ours(tmp / "data", rng, n_cases, n_customers, reps)
        print(f"ours: done (audit verify {'ok' if ours['verify_ok'] else 'FAILED'}, {ours['verify_entries']} "
              f"entries, {ours['verify_s']} s)", flush=True)
        gc.collect()
        tiny = bench_tinydb(tmp / "tinydb.json", cases, rng, n_customers, tiny_reps)
        print("plain TinyDB: done", flush=True)
        lite = bench_sqlite(tmp / "sqlite.db", cases, rng, n_customers, reps)
        print("SQLite: done", flush=True)
    finally:
        if keep:
            shutil.move(str(tmp), keep)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    def ratio(a, b):
        return round(a / b, 2) if b else float("inf")

    rows = []
    print(f"\n{'operation':<10}{'ours p50':>10}{'p95':>9}{'TinyDB p50':>12}{'p95':>9}{'SQLite p50':>12}{'p95':>9}"
          f"{'ours/TinyDB':>13}{'ours/SQLite':>13}{'target p95':>12}")
    for op in ("write", "read", "list"):
        o, t, s = ours[op], tiny[op], lite[op]
        row = {"op": op, "ours": o, "tinydb": t, "sqlite": s,
               "ours_vs_tinydb_p95": ratio(o["p95_ms"], t["p95_ms"]),
               "ours_vs_sqlite_p95": ratio(o["p95_ms"], s["p95_ms"]),
               "target_p95_ms": TARGETS_MS[op], "meets_target": o["p95_ms"] <= TARGETS_MS[op]}
        rows.append(row)
        print(f"{op:<10}{o['p50_ms']:>10.2f}{o['p95_ms']:>9.2f}{t['p50_ms']:>12.1f}{t['p95_ms']:>9.1f}"
              f"{s['p50_ms']:>12.3f}{s['p95_ms']:>9.3f}{row['ours_vs_tinydb_p95']:>13}{row['ours_vs_sqlite_p95']:>13}"
              f"{'≤ ' + str(TARGETS_MS[op]) + ' ms':>10} {'ok' if row['meets_target'] else 'MISSED'}")
    print(f"(ms; ratios of p95; repetitions: ours {reps['write']}/{reps['read']}/{reps['list']}, "
          f"TinyDB {tiny_reps} each, SQLite {reps['write']}/{reps['read']}/{reps['list']})")
    print("ours, CPU time of the process (less sensitive to other load on the machine): "
          + ", ".join(f"{op} p50 {ours[op]['cpu_p50_ms']:.2f} / p95 {ours[op]['cpu_p95_ms']:.2f} ms"
                      for op in ("write", "read", "list")))
    ls = ours["list_state_only"]
    print(f"also: list with state filter only p50 {ls['p50_ms']:.2f} / p95 {ls['p95_ms']:.2f} ms; "
          f"first read after start {ours['cold_read_ms']} ms, first list after start {ours['cold_list_ms']} ms")
    print("notes: ours = lock + journal + 4-6 fsyncs + hash-chained audit entry per write; "
          "plain TinyDB rewrites the whole file without fsync; SQLite WAL, synchronous=FULL, no audit.")
    return {"dataset": info, "ours": ours, "tinydb": tiny, "sqlite": lite, "table": rows}
