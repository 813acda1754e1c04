"""The record check of ``aftersales verify``: every record rebuilt from its audit entries.

The hash chain (records/core/audit.py) proves the trail was not edited; it says nothing of the
shard files. Each audit entry carries the record's field changes ``{field: [before, after]}``
(a ``create`` carries every field), so replaying the trail in order rebuilds every record's
fields; those are compared with the stored documents, and each record's ``_audit`` offsets
with the entries that name it. An edited field, a deleted record, an emptied or garbled shard
file, a record with no entries: the first one (by table, then id) is named.

Fields starting with ``_`` are bookkeeping, never audited (``Transaction.touch``); a field
whose value is None counts as absent (``audit.diff`` treats them alike). A document at an
older schema version read, upgraded and rewritten before the audit recorded the upgrade's
own changes (``Transaction.update`` diffs the upgraded document) still matches when the
registered migrations turn the rebuilt fields into the stored ones.

One pass over the trail (the chain check and the replay together), one read of each shard:
at the ten-year volume of ``scripts/bench_data.py`` it takes a few seconds (``aftersales bench
--only verify``). A live folder's shards are read under the write lock (with the trail's
size), the trail is walked after it, up to that size: the app keeps writing meanwhile.
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import orjson

from . import schema
from .audit import AuditTrail
from .files import TEMP_PREFIX
from .store import SHARD_SIZE

MAX_SHOWN = 60  # characters of a value shown in a message


@dataclass
class DataCheck:
    ok: bool
    entries: int = 0          # audit entries whose chain holds
    records: int = 0          # records compared
    message: str = ""         # Chinese, for the admin
    first_bad_line: int | None = None
    table: str | None = None
    record_id: int | None = None


class _Unreadable(Exception):
    """A data file that cannot be read or parsed; the message names it."""


class _Replay:
    """The records rebuilt entry by entry (``AuditTrail.verify``'s ``on_entry``)."""

    def __init__(self, head_seq: int | None):
        self.docs: dict[tuple[str, int], dict] = {}
        self.offsets: dict[tuple[str, int], list[int]] = {}
        self.problem: DataCheck | None = None
        self.head_seq, self.head_hash = head_seq, None

    def __call__(self, offset: int, entry: dict) -> None:
        if entry.get("seq") == self.head_seq:
            self.head_hash = entry.get("hash")
        try:
            key = (str(entry["table"]), int(entry["id"]))
            changes = entry.get("changes") or {}
            doc = self.docs.get(key)
            if doc is None and entry.get("action") != "create" and changes and self.problem is None:
                self.problem = DataCheck(False, message=f"审计记录第 {entry['seq']} 行修改了 {key[0]} #{key[1]}，"
                                         "但此前没有创建它的记录", first_bad_line=entry["seq"],
                                         table=key[0], record_id=key[1])
            self.docs[key] = apply_entry(doc, entry)
            self.offsets.setdefault(key, []).append(offset)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if self.problem is None:
                self.problem = DataCheck(False, message=f"审计记录第 {entry.get('seq')} 行的内容无法解读（{exc!r}）",
                                         first_bad_line=entry.get("seq"))


def apply_entry(doc: dict | None, entry: dict) -> dict:
    """The record after ``entry`` (one audit entry of it) from ``doc`` (None: none yet); a
    ``create`` starts the record afresh."""
    if doc is None or entry.get("action") == "create":
        doc = {}
    for name, (_, after) in (entry.get("changes") or {}).items():
        doc[name] = after
    return doc


def rebuild(entries: list[dict]) -> dict:
    """A record's fields replayed from its audit entries, in order."""
    doc = None
    for entry in entries:
        doc = apply_entry(doc, entry)
    return doc or {}


def fields(doc: dict) -> dict:
    """The audited fields of a record (bookkeeping ``_`` fields and None values left out)."""
    return {k: v for k, v in doc.items() if v is not None and not k.startswith("_")}


def short(value) -> str:
    """A value as shown in a message (JSON, cut at MAX_SHOWN characters)."""
    text = orjson.dumps(value).decode() if value is not None else "（无）"
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def explained_by_migration(table: str, rebuilt: dict, stored: dict) -> bool:
    """The stored fields are the rebuilt ones after registered migrations (see the docstring)."""
    for version in range(1, int(stored.get("_schema", 1))):
        try:
            if fields(schema.upgrade(table, {**rebuilt, "_schema": version})) == fields(stored):
                return True
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError):
            continue
    return False


def matches(table: str, rebuilt: dict, stored: dict) -> bool:
    """The stored record is the one its entries rebuild (or that after the table's migrations)."""
    return fields(rebuilt) == fields(stored) or explained_by_migration(table, rebuilt, stored)


def _read_raw(root: Path) -> dict[str, list[tuple[Path, bytes]]]:
    """The bytes of every shard file, per table (a file that cannot be read: _Unreadable)."""
    tables_dir = root / "tables"
    out: dict[str, list[tuple[Path, bytes]]] = {}
    try:
        table_names = sorted(e.name for e in os.scandir(tables_dir) if e.is_dir() and not e.name.startswith("."))
    except FileNotFoundError:
        return out
    except OSError as exc:
        raise _Unreadable(f"无法读取文件夹 {tables_dir}：{exc.strerror or exc}") from exc
    for table in table_names:
        folder = tables_dir / table
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith((".", TEMP_PREFIX)))
        files = out[table] = []
        for name in names:
            try:
                files.append((folder / name, (folder / name).read_bytes()))
            except OSError as exc:
                raise _Unreadable(f"无法读取数据文件 tables/{table}/{name}：{exc.strerror or exc}") from exc
    return out


def _parse(table: str, path: Path, raw: bytes) -> dict[int, dict]:
    rel = f"tables/{table}/{path.name}"
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _Unreadable(f"数据文件 {rel} 已损坏，不是有效的 JSON（{exc}）") from None
    if not isinstance(data, dict) or set(data) - {table} or not isinstance(data.get(table, {}), dict):
        raise _Unreadable(f"数据文件 {rel} 的结构不对（应为 {{\"{table}\": {{编号: 记录}}}}）")
    docs = {}
    for key, doc in data.get(table, {}).items():
        if not (key.isdigit() and isinstance(doc, dict) and doc.get("id") == int(key)
                and path.stem.isdigit() and int(key) // SHARD_SIZE == int(path.stem)):
            raise _Unreadable(f"数据文件 {rel} 中的记录 {key!r} 编号不对或不是一条记录")
        docs[int(key)] = doc
    return docs


def _compare(table: str, rid: int, rebuilt: dict | None, offsets: list[int], stored: dict | None,
             where: str, empty: bool) -> str:
    """'' when the stored record is the rebuilt one, else what differs (Chinese)."""
    if stored is None:
        return (f"{table} #{rid}：审计记录中有此记录，数据文件中却没有（应在 {where}"
                + ("，该文件为空" if empty else "") + "）——记录被删除或文件被清空")
    if rebuilt is None:
        return f"{table} #{rid}：数据文件中有此记录，审计记录中却没有它的任何变更——记录未经审计写入"
    mine, theirs = fields(rebuilt), fields(stored)
    if mine != theirs and not explained_by_migration(table, rebuilt, stored):
        name = next(k for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k))
        return (f"{table} #{rid}：字段 {name} 与审计记录重建的不符（存储的值 {short(theirs.get(name))}，"
                f"按审计记录应为 {short(mine.get(name))}）")
    if stored.get("_audit", []) != offsets:
        return f"{table} #{rid}：记录所列的审计条目（_audit）与审计记录中它的条目不符"
    return ""


def check_folder(root: Path, head: dict | None = None, lock=None, recover=None) -> DataCheck:
    """Chain, chain head and records of the data folder ``root`` (changes nothing).

    ``head``: a chain head (``{"seq": n, "hash": h}``, see records/core/backup.py) the trail
    must still contain. ``lock``/``recover``: the live store's write lock and journal replay,
    so that the shards and the trail's size are read at one commit (a snapshot needs neither).
    """
    trail = AuditTrail(root / "audit.jsonl")
    try:
        with lock.hold() if lock is not None else nullcontext():
            if recover is not None:
                recover()
            size = trail.path.stat().st_size if trail.path.exists() else 0
            raw = _read_raw(root)
        stored = {table: [(path, _parse(table, path, data)) for path, data in files] for table, files in raw.items()}
    except _Unreadable as exc:
        return DataCheck(False, message=str(exc))
    except OSError as exc:
        return DataCheck(False, message=f"无法读取数据文件夹 {root}：{exc.strerror or exc}")

    head_seq = int(head["seq"]) if head else None
    replay = _Replay(head_seq)
    try:
        chain = trail.verify(on_entry=replay, upto=size)
    except OSError as exc:
        return DataCheck(False, message=f"无法读取审计记录 {trail.path.name}：{exc.strerror or exc}")
    if not chain.ok:
        return DataCheck(False, chain.entries, message=f"审计记录在第 {chain.first_bad_line} 行断裂：{chain.reason}"
                         f"（此前 {chain.entries} 条完好）", first_bad_line=chain.first_bad_line)
    if head is not None:
        if chain.entries < head_seq:
            return DataCheck(False, chain.entries, message=f"审计记录只有 {chain.entries} 条，少于链头记录的 {head_seq} 条"
                             "——审计记录被截断或改写")
        if replay.head_hash != head["hash"]:
            return DataCheck(False, chain.entries, first_bad_line=head_seq,
                             message=f"审计记录第 {head_seq} 条的哈希与链头不符——审计记录被改写")
    if replay.problem is not None:
        replay.problem.entries = chain.entries
        return replay.problem

    # Entries cut off the end: a shorter chain is still a valid chain, but records keep the
    # offsets of their own entries.
    for table, files in stored.items():
        for _, docs in files:
            for rid, doc in docs.items():
                offsets = doc.get("_audit") or []
                if offsets and offsets[-1] >= size:
                    return DataCheck(False, chain.entries, table=table, record_id=rid,
                                     message=f"审计记录末尾被截断：{table} #{rid} 的变更记录缺失")

    by_table: dict[str, dict[int, tuple[dict, Path]]] = {}
    empty: set[Path] = set()
    for table, files in stored.items():
        for path, docs in files:
            if not docs:
                empty.add(path)
            for rid, doc in docs.items():
                by_table.setdefault(table, {})[rid] = (doc, path)
    rebuilt_ids: dict[str, set[int]] = {}
    for table, rid in replay.docs:
        rebuilt_ids.setdefault(table, set()).add(rid)
    compared = 0
    for table in sorted(set(by_table) | set(rebuilt_ids)):
        mine = by_table.get(table, {})
        for rid in sorted(set(mine) | rebuilt_ids.get(table, set())):
            doc, path = mine.get(rid, (None, root / "tables" / table / f"{rid // SHARD_SIZE:06d}.json"))
            problem = _compare(table, rid, replay.docs.get((table, rid)), replay.offsets.get((table, rid), []),
                               doc, f"tables/{table}/{path.name}", path in empty)
            if problem:
                return DataCheck(False, chain.entries, compared, problem, table=table, record_id=rid)
            compared += 1
    return DataCheck(True, chain.entries, compared)


def check_store(store, head: dict | None = None) -> DataCheck:
    """``check_folder`` of a live store (records.core.store.Store), read at one commit."""
    return check_folder(store.root, head, lock=store.lock, recover=store.recover)
