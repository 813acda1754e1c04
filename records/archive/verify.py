"""The check of a yearly archive (records/archive/yearly.py), on any machine with the app installed:
``aftersales archive-verify PATH`` needs the zip alone, no data folder.

In order, stopping at the first thing that does not match and naming it:

1. the zip opens and holds ``manifest.json`` of our format;
2. every member the manifest lists is there and its SHA-256 is the listed one (in the manifest's
   order), no member is there that the manifest does not list, and each archived file
   ``files/<sha256>`` hashes to its own name;
3. every audit entry in ``audit/entries.jsonl`` hashes to its own ``hash`` (its ``prev``, the
   previous entry's hash, is part of what is hashed), the entries run in sequence, an entry that
   directly follows another one of the archive links to it (``prev``), none lies beyond the chain
   head of ``head.json`` (the manifest's), and the entry at the head has the head's hash;
4. every record in ``records/*.json`` is what its audit entries in the archive rebuild (each
   entry carries the record's field changes), the archive has as many of its entries as the
   record lists (``_audit``), and no entry is there of a record the archive does not hold.

The manifest's own SHA-256 is printed when the archive is written and when it is checked: kept
apart (in the backup mail, say), it shows that the manifest too is the one written then.
"""
from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import orjson

from records.core.audit import link_problem
from records.core.replay import fields, matches, rebuild, short

from .yearly import CHUNK, FORMAT  # yearly imports records.cases.vocab: the case migrations are registered

MANIFEST = "manifest.json"
ENTRIES = "audit/entries.jsonl"


@dataclass
class ArchiveCheck:
    ok: bool
    message: str = ""           # Chinese, naming the first member or entry that does not match
    member: str | None = None   # that member of the zip
    members: int = 0            # members whose SHA-256 matched
    entries: int = 0            # audit entries checked
    records: int = 0            # records rebuilt from their entries
    year: int | None = None
    head: dict | None = None
    manifest_sha256: str = ""


def _sha256_of(zf: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_members(zf: zipfile.ZipFile, manifest: dict, out: ArchiveCheck) -> bool:
    listed = manifest.get("members") or []
    names = set()
    for item in listed:
        name = item.get("name")
        names.add(name)
        try:
            actual = _sha256_of(zf, name)
        except KeyError:
            out.message, out.member = f"{name}：清单中列出的文件在归档中不存在", name
            return False
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            out.message, out.member = f"{name}：无法读出（{exc}），文件已损坏", name
            return False
        if actual != item.get("sha256"):
            out.message, out.member = (f"{name}：SHA-256 与清单不符（清单 {item.get('sha256')}，实际 {actual}）"
                                       "——文件被改动"), name
            return False
        if name.startswith("files/") and actual != name.removeprefix("files/"):
            out.message, out.member = f"{name}：内容的 SHA-256 与文件名不符（实际 {actual}）", name
            return False
        out.members += 1
    extra = sorted(set(zf.namelist()) - names - {MANIFEST})
    if extra:
        out.message, out.member = f"{extra[0]}：清单中没有此文件——文件被加入", extra[0]
        return False
    return True


def _check_entries(zf: zipfile.ZipFile, head: dict, out: ArchiveCheck) -> dict[tuple[str, int], list[dict]]:
    """The entries per record, or None (``out`` says why) when one does not hold."""
    by_record: dict[tuple[str, int], list[dict]] = {}
    prev: dict | None = None
    with zf.open(ENTRIES) as fh:
        for lineno, line in enumerate(fh, start=1):
            where = f"{ENTRIES} 第 {lineno} 行"
            try:
                entry = orjson.loads(line)
                seq = int(entry["seq"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                out.message, out.member = f"{where}：不是一条审计记录", ENTRIES
                return None
            where += f"（审计记录第 {seq} 条）"
            problem = link_problem(entry, prev, selection=True)
            if not problem and seq > int(head["seq"]):
                problem = f"在归档时的链头（第 {head['seq']} 条）之后——不属于此次归档"
            if not problem and seq == int(head["seq"]) and entry.get("hash") != head["hash"]:
                problem = "哈希与归档时的链头不符"
            if problem:
                out.message, out.member = f"{where}：{problem}", ENTRIES
                return None
            try:
                by_record.setdefault((str(entry["table"]), int(entry["id"])), []).append(entry)
            except (KeyError, TypeError, ValueError):
                out.message, out.member = f"{where}：没有所属记录", ENTRIES
                return None
            prev = entry
            out.entries += 1
    return by_record


def _check_records(zf: zipfile.ZipFile, manifest: dict, by_record: dict, out: ArchiveCheck) -> bool:
    seen: set[tuple[str, int]] = set()
    for item in manifest.get("members") or []:
        name = item["name"]
        if not (name.startswith("records/") and name.endswith(".json")):
            continue
        table = name.removeprefix("records/").removesuffix(".json")
        for doc in orjson.loads(zf.read(name)):
            seen.add((table, int(doc.get("id", 0))))
            entries = by_record.get((table, int(doc.get("id", 0))), [])
            rebuilt = rebuild(entries)
            what = f"{name}：{table} #{doc.get('id')}"
            if len(entries) != len(doc.get("_audit") or []):
                out.message, out.member = (f"{what} 列有 {len(doc.get('_audit') or [])} 条审计条目，归档中有 "
                                           f"{len(entries)} 条"), name
                return False
            if not matches(table, rebuilt, doc):
                mine, theirs = fields(rebuilt), fields(doc)
                field = next(k for k in sorted(set(mine) | set(theirs)) if mine.get(k) != theirs.get(k))
                out.message, out.member = (f"{what} 的字段 {field} 与审计记录重建的不符（归档中为 "
                                           f"{short(theirs.get(field))}，按审计记录应为 {short(mine.get(field))}）"), name
                return False
            out.records += 1
    stray = sorted(set(by_record) - seen)
    if stray:
        table, rid = stray[0]
        out.message = f"{ENTRIES}：第 {by_record[stray[0]][0]['seq']} 条审计记录属于 {table} #{rid}，归档中没有这条记录"
        out.member = ENTRIES
        return False
    return True


def verify_archive(path: Path) -> ArchiveCheck:
    """Check the yearly archive (10) at ``path``; the first member or entry that does not match is named."""
    out = ArchiveCheck(False)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        out.message = f"无法打开归档 {path}：{exc}"
        return out
    with zf:
        try:
            raw = zf.read(MANIFEST)
            manifest = orjson.loads(raw)
        except KeyError:
            out.message, out.member = "归档中没有清单 manifest.json", MANIFEST
            return out
        except (orjson.JSONDecodeError, zipfile.BadZipFile, zlib.error) as exc:
            out.message, out.member = f"清单 manifest.json 已损坏（{exc}）", MANIFEST
            return out
        out.manifest_sha256 = hashlib.sha256(raw).hexdigest()
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            out.message, out.member = "manifest.json 不是售后服务年度归档的清单", MANIFEST
            return out
        out.year, out.head = manifest.get("year"), manifest.get("head") or {}
        if not _check_members(zf, manifest, out):
            return out
        if orjson.loads(zf.read("head.json")) != out.head:
            out.message, out.member = "head.json：链头与清单中的不符", "head.json"
            return out
        by_record = _check_entries(zf, out.head, out)
        if by_record is None or not _check_records(zf, manifest, by_record, out):
            return out
    out.ok = True
    return out
