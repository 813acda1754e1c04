"""The synthetic ten-year data set every benchmark section works on, and how figures are summed up.

``ten_year_data(quick, prefix)`` yields a throw-away data folder holding it: 300 customers,
5,000 products, 20,000 case documents of about 3 KB and 300,000 audit entries (``--quick``: a
tenth of each; ``volume(scale)`` gives the counts). ``build_dataset`` writes such a folder for
any volume; ``percentiles`` turns timings into the p50/p95/max figures the sections print.

How the data set is built quickly: instead of 25,000 commits, the shard files and the audit
trail are written directly in the formats ``records/core/store.py`` and ``records/core/audit.py``
use. Every audit item (a "create" per record, then updates of cases at random later times, all
in time order) is chained with ``AuditTrail.build`` in batches that continue from the previous
batch's ``Tail``, so the hash chain is valid (``verify`` passes) and every document's
``_audit`` list holds the byte offsets of its own entries and its ``_rev`` counts them.
Shards are ``tables/<table>/<id // 256:06d>.json`` holding ``{"<table>": {"<id>": doc}}``.
"""
from __future__ import annotations

import math
import random
import shutil
import statistics
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

from records.core import schema
from records.core.audit import GENESIS, AuditTrail, Tail, diff
from records.core.store import SHARD_SIZE


# --- figures --------------------------------------------------------------------------------
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


# 9.3: the fault classification of a closed case (codes of records/catalog/categories.SEEDS), skewed
# as a Pareto is; one in ten closed cases has none yet (a gap), one in twenty is a 重复故障.
FAULTS = ("power",) * 5 + ("signal",) * 3 + ("structure",) * 2 + ("software", "connector")
CAUSES = ("design", "process", "process", "bought_in", "bought_in", "bought_in", "outsourced", "misuse",
          "transport", "unknown")


def classification(rng: random.Random, at: str) -> dict | None:
    """A random final classification as records.cases.classification stores it (None: a gap)."""
    if rng.random() < 0.1:
        return None
    repeat = rng.random() < 0.05
    return {"fault_category": rng.choice(FAULTS), "cause_category": rng.choice(CAUSES), "part": "",
            "repeat_fault": repeat, "repeat_of": [1] if repeat else [], "final": True, "at": at, "by": "li.gong"}


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
