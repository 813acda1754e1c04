"""Benchmarks, run by ``aftersales bench`` (or ``python -m scripts.bench [--quick] [--only NAME]``).

Sections live in ``SECTIONS`` ({name: fn(quick) -> dict}); a later feature adds its own figures
by registering a function there (``@section("name")``). Each section prints its figures and
returns them as a dict; ``run`` returns {section name: figures}.

The "storage" section builds a synthetic ten-year data set in a temp folder — 300 customers,
5,000 products, 20,000 case documents of about 3 KB and 300,000 audit entries (``--quick``: a
tenth of each) — and times three operations on it with our store, with plain TinyDB (one JSON
file, default storage) and with SQLite (WAL):

* write: one case updated (ours: ``Store.transaction`` + ``tx.update``; includes the journal,
  the fsyncs and the audit entry),
* read:  one case by id (ours: ``Store.get``),
* list:  one page of 50 cases with a filter (state == "open" and customer_id == X, sorted by
  received_at, newest first, plus the total count; ours: ``Store.page``).

How the data set is built quickly: instead of 25,000 commits, the shard files and the audit
trail are written directly in the formats ``records/store.py`` and ``records/audit.py`` use.
Every audit item (a "create" per record, then updates of cases at random later times, all in
time order) is chained with ``AuditTrail.build`` in batches that continue from the previous
batch's ``Tail``, so the hash chain is valid (``verify`` passes) and every document's
``_audit`` list holds the byte offsets of its own entries and its ``_rev`` counts them.
Shards are ``tables/<table>/<id // 256:06d>.json`` holding ``{"<table>": {"<id>": doc}}``.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import orjson

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


# --- helpers --------------------------------------------------------------------------------
def _rank(xs: list[float], p: float) -> float:
    """The p-th percentile of sorted ``xs`` by the nearest-rank method."""
    return xs[min(len(xs) - 1, max(0, math.ceil(p / 100 * len(xs)) - 1))]


def percentiles(samples_s: list[float], cpu_s: list[float] | None = None) -> dict:
    """p50/p95/max of wall-clock times in milliseconds; with ``cpu_s`` also p50/p95 of the
    process's CPU time, which a machine busy with other work inflates far less."""
    xs = sorted(samples_s)
    out = {"n": len(xs), "p50_ms": round(statistics.median(xs) * 1e3, 3), "p95_ms": round(_rank(xs, 95) * 1e3, 3),
           "max_ms": round(xs[-1] * 1e3, 3)}
    if cpu_s:
        cs = sorted(cpu_s)
        out.update(cpu_p50_ms=round(statistics.median(cs) * 1e3, 3), cpu_p95_ms=round(_rank(cs, 95) * 1e3, 3))
    return out


def timed(fn, reps: int) -> dict:
    samples, cpu = [], []
    for i in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return percentiles(samples, cpu)


# --- the synthetic data set ---------------------------------------------------------------
STATES = ("open",) * 10 + ("in_progress",) * 8 + ("waiting_parts",) * 2 + ("closed",) * 80
PHRASES = ("设备运行中出现异常噪声", "客户反映液压系统压力不足", "控制柜报警代码E217", "现场检查发现密封件老化",
           "更换轴承后试运行正常", "需要技质部工程师到现场确认", "电机温升过高，停机检查", "按售后服务管理规定处理",
           "已通知销售部与顾客沟通", "质保期内免费维修", "备件已发出，预计三天到达", "顾客要求提供书面分析报告")
ACTORS = ("receiver", "engineer", "manager", "tech", "tech2", "sales", "finance", "vp", "gm")
START = datetime(2016, 1, 1, tzinfo=timezone.utc)
TEN_YEARS_S = 10 * 365 * 86400


def _iso(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def _text(rng: random.Random, chars: int) -> str:
    out, n = [], 0
    while n < chars:
        p = rng.choice(PHRASES)
        out.append(p)
        n += len(p) + 1
    return "，".join(out) + "。"


def _case(rng: random.Random, cid: int, n_customers: int, n_products: int, t: float) -> dict:
    # about 3 KB as stored (Chinese text is 3 bytes a character in UTF-8)
    return {
        "no": f"FW{_iso(t)[:4]}-{cid:05d}",
        "customer_id": rng.randint(1, n_customers),
        "product_id": rng.randint(1, n_products),
        "state": rng.choice(STATES),
        "received_at": _iso(t),
        "reporter": rng.choice(("张伟", "王芳", "李娜", "刘洋", "陈静")),
        "phone": f"13{rng.randint(100000000, 999999999)}",
        "description": _text(rng, 300),
        "analysis": _text(rng, 250),
        "actions": [{"at": _iso(t + 3600 * (k + 1)), "by": rng.choice(ACTORS), "text": _text(rng, 40)}
                    for k in range(3)],
        "costs": {"parts": round(rng.uniform(0, 20000), 2), "labour_h": round(rng.uniform(0, 40), 1)},
        "remarks": "",
    }


def _customer(rng: random.Random, i: int) -> dict:
    return {"name": f"顾客单位{i:04d}有限公司", "address": f"某省某市工业园区{i}号", "distance_km": rng.randint(5, 2500),
            "contacts": [{"name": "联系人", "phone": f"0{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
                          "title": ""}], "remarks": ""}


def _product(rng: random.Random, i: int, n_customers: int) -> dict:
    return {"model": f"XK-{rng.randint(100, 999)}", "name": "数控加工中心", "serial_no": f"SN{i:07d}",
            "customer_id": rng.randint(1, n_customers), "delivery_date": _iso(rng.uniform(0, TEN_YEARS_S))[:10],
            "warranty_months": rng.choice((12, 18, 24, 36)), "reliability": rng.random() < 0.1, "remarks": ""}


def build_dataset(root: Path, n_customers: int, n_products: int, n_cases: int, n_audit: int,
                  seed: int = 2026) -> dict:
    """Write a data folder with the given volume straight to disk (see the module docstring)."""
    from records.core import schema
    from records.core.audit import GENESIS, AuditTrail, Tail, diff
    from records.core.store import SHARD_SIZE

    rng = random.Random(seed)
    tables: dict[str, dict[int, dict]] = {"customers": {}, "products": {}, "cases": {}}
    events: list[tuple[float, str, int, dict | None]] = []  # (time, table, id, update or None)

    def new_doc(table, rid, fields, t):
        ts = _iso(t)
        doc = {**fields, "id": rid, "_rev": 1, "_schema": schema.current(table), "_created": ts,
               "_updated": ts, "_by": "receiver", "_audit": []}
        tables[table][rid] = doc
        events.append((t, table, rid, None))

    for i in range(1, n_customers + 1):
        new_doc("customers", i, _customer(rng, i), i)  # the first seconds of the ten years
    for i in range(1, n_products + 1):
        new_doc("products", i, _product(rng, i, n_customers), n_customers + i)
    for i in range(1, n_cases + 1):  # received evenly over the ten years, in id order
        t = TEN_YEARS_S * i / (n_cases + 1)
        new_doc("cases", i, _case(rng, i, n_customers, n_products, t), t)
    for _ in range(max(0, n_audit - len(events))):  # the rest: updates of cases, after their creation
        cid = rng.randint(1, n_cases)
        t_created = TEN_YEARS_S * cid / (n_cases + 1)
        t = rng.uniform(t_created + 60, min(TEN_YEARS_S, t_created + 90 * 86400))
        events.append((t, "cases", cid, {"remarks": f"跟进 {_text(rng, 12)}", "_by": rng.choice(ACTORS)}))
    events.sort(key=lambda e: e[0])

    trail = AuditTrail(root / "audit.jsonl")
    tail = Tail(0, 0, GENESIS)
    root.mkdir(parents=True, exist_ok=True)
    batch = 20_000
    with open(trail.path, "wb") as fh:
        for start in range(0, len(events), batch):
            chunk = events[start:start + batch]
            items = []
            for t, table, rid, upd in chunk:
                doc = tables[table][rid]
                if upd is None:
                    items.append({"ts": _iso(t), "actor": "receiver", "table": table, "id": rid,
                                  "action": "create", "changes": diff(None, doc)})
                else:
                    before = {"remarks": doc["remarks"]}
                    doc["remarks"] = upd["remarks"]
                    doc["_rev"] += 1
                    doc["_updated"], doc["_by"] = _iso(t), upd["_by"]
                    items.append({"ts": _iso(t), "actor": upd["_by"], "table": table, "id": rid,
                                  "action": "update", "changes": diff(before, {"remarks": upd["remarks"]})})
            data, offsets = trail.build(tail, items)
            for (_, table, rid, _), off in zip(chunk, offsets):
                tables[table][rid]["_audit"].append(off)
            fh.write(data)
            last = orjson.loads(data[data.rstrip(b"\n").rfind(b"\n") + 1:])
            tail = Tail(tail.size + len(data), last["seq"], last["hash"])
    for table, docs in tables.items():
        folder = root / "tables" / table
        folder.mkdir(parents=True, exist_ok=True)
        shards: dict[int, dict] = {}
        for rid, doc in docs.items():
            shards.setdefault(rid // SHARD_SIZE, {})[str(rid)] = doc
        for n, shard in shards.items():
            (folder / f"{n:06d}.json").write_bytes(orjson.dumps({table: shard}))
    case_bytes = [len(orjson.dumps(d)) for d in tables["cases"].values()]
    return {"customers": n_customers, "products": n_products, "cases": n_cases, "audit_entries": tail.seq,
            "audit_mb": round(tail.size / 1e6, 1), "avg_case_bytes": round(sum(case_bytes) / len(case_bytes)),
            "cases_doc": tables["cases"]}


# --- the storage section ------------------------------------------------------------------
def _open_filter(customer_id):
    return lambda d: d["state"] == "open" and d["customer_id"] == customer_id


def bench_ours(root: Path, rng: random.Random, n_cases: int, n_customers: int, reps: dict) -> dict:
    from records.core.store import Store

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
    from tinydb import Query, TinyDB

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


TARGETS_MS = {"write": 50, "read": 20, "list": 20}


def volume(scale: float) -> tuple[int, int, int, int]:
    """(customers, products, cases, audit entries) of the data set; 1.0 = ten years."""
    n_customers = max(3, round(300 * scale))
    n_products = max(10, round(5000 * scale))
    n_cases = max(20, round(20000 * scale))
    return n_customers, n_products, n_cases, max(n_customers + n_products + n_cases, round(300_000 * scale))


@contextmanager
def ten_year_data(quick: bool, prefix: str):
    """A throw-away data folder holding the ten-year data set (a tenth of it when quick)."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        build_dataset(tmp / "data", *volume(0.1 if quick else 1.0))
        yield tmp / "data"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@section("storage")
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
