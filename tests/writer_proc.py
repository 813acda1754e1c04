"""A writer process for the storage tests (run as ``python tests/writer_proc.py MODE ...``).

Modes:

``concurrent ROOT WORKER START_AT SECONDS``
    From the wall-clock time START_AT, for SECONDS, mix writes on the store in ROOT: inserts
    into ``items``, updates of its own items, updates of its own field on the shared record
    ``shared`` #1, and read-modify-write increments of ``shared`` #2's counter. Prints one JSON
    object at the end: everything that was acknowledged (returned without an exception).

``crash ROOT SEED``
    Writes until killed. Before each operation it prints ``P <json>`` (what it is about to
    do), after the operation returned ``A <json>`` (the acknowledgement), each line flushed.
    Operations: "I" insert an item, "U" update an item, "T" one transaction updating two
    items (usually in different shards) and inserting one.

``serve ROOT``
    Reads commands from stdin, one per line, answers one line each:
    ``set ID VALUE`` / ``set2 ID V1 V2`` (two commits) → ``ok``; ``get ID`` → the value.
"""
from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from records.core.store import Store


def concurrent(root: str, worker: int, start_at: float, seconds: float) -> None:
    store = Store(root)
    rng = random.Random(worker)
    inserts: dict[int, str] = {}     # id -> last acknowledged value
    updates: dict[int, int] = {}     # id -> acknowledged updates
    shared_last = 0
    increments = 0
    ops = 0
    k = 0
    time.sleep(max(0.0, start_at - time.time()))
    end = time.monotonic() + seconds
    first_ack = last_ack = None
    while time.monotonic() < end:
        k += 1
        value = f"w{worker}-{k}"
        r = rng.random()
        if r < 0.35 or not inserts:
            doc = store.insert("items", {"worker": worker, "value": value}, f"worker{worker}")
            inserts[doc["id"]] = value
        elif r < 0.6:
            rid = rng.choice(list(inserts))
            store.update("items", rid, {"value": value}, f"worker{worker}")
            inserts[rid] = value
            updates[rid] = updates.get(rid, 0) + 1
        elif r < 0.8:
            store.update("shared", 1, {f"w{worker}": k}, f"worker{worker}")
            shared_last = k
        else:
            with store.transaction(f"worker{worker}") as tx:
                doc = tx.require("shared", 2)
                tx.update("shared", 2, {"counter": doc["counter"] + 1})
            increments += 1
        ops += 1
        last_ack = time.time()
        first_ack = first_ack or last_ack
    print(json.dumps({"worker": worker, "inserts": inserts, "updates": updates, "shared_last": shared_last,
                      "increments": increments, "ops": ops, "first_ack": first_ack, "last_ack": last_ack}),
          flush=True)


def crash(root: str, seed: int) -> None:
    print("start", flush=True)
    store = Store(root)
    rng = random.Random(seed)
    ids = [d["id"] for d in store.scan("items")]
    k = 0

    def emit(tag, obj):
        print(f"{tag} {json.dumps(obj)}", flush=True)

    while True:
        k += 1
        value = f"s{seed}-{k}"
        r = rng.random()
        if r < 0.4:
            emit("P", {"op": "I", "value": value})
            doc = store.insert("items", {"value": value}, "crash")
            ids.append(doc["id"])
            emit("A", {"op": "I", "id": doc["id"], "value": value})
        elif r < 0.8:
            rid = rng.choice(ids)
            emit("P", {"op": "U", "id": rid, "value": value})
            store.update("items", rid, {"value": value}, "crash")
            emit("A", {"op": "U", "id": rid, "value": value})
        else:
            a, b = rng.choice(ids[:256]), rng.choice(ids[256:])  # two shards
            ups = [[a, value + "a"], [b, value + "b"]]
            emit("P", {"op": "T", "updates": ups, "value": value + "i"})
            with store.transaction("crash") as tx:
                for rid, v in ups:
                    tx.update("items", rid, {"value": v})
                doc = tx.insert("items", {"value": value + "i"})
            ids.append(doc["id"])
            emit("A", {"op": "T", "updates": ups, "id": doc["id"], "value": value + "i"})


def serve(root: str) -> None:
    store = Store(root)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, rid, *values = line.split()
        if cmd == "get":
            doc = store.get("items", int(rid))
            print(doc["value"] if doc else "-", flush=True)
            continue
        for v in values:  # "set" one commit, "set2" two quick commits
            store.update("items", int(rid), {"value": v}, "serve")
        print("ok", flush=True)


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode == "concurrent":
        concurrent(args[0], int(args[1]), float(args[2]), float(args[3]))
    elif mode == "crash":
        crash(args[0], int(args[1]))
    elif mode == "serve":
        serve(args[0])
    else:
        raise SystemExit(f"unknown mode {mode}")
