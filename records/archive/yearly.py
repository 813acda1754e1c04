"""The yearly archive (10: 技质部负责对售后服务形成记录进行收集归档): one zip of every record
技质部 formed in a year, as it stood at archive time (``aftersales archive --year 2026``).

What goes in (``select``):

- the cases closed that year (``closed_at``: the step that closed them; 作废 and 合并 included),
  with their notes and attachments (``case_notes``) and their signed 技术服务单 versions
  (``service_form_files``);
- the follow-up calls recorded that year (``followups`` done, by ``call.called_at``);
- from each table of ``YEARLY_TABLES`` that the store holds (later issues' records: quarterly
  reports, preventive actions, cost entries, assessments, issued penalty months, supplier claims,
  technical notices; a table is taken when its name contains one of the stems), the records of that
  year (``record_year``);
- every archived file those records name (a ``sha256`` anywhere in them: the form versions, the
  scans, the attachments), byte for byte;
- one dossier PDF per case (records/archive/dossier.py, as 技质部 reads it: every fine shown);
- the audit entries of every record taken (those its ``_audit`` offsets name, each with its own
  hash and the previous entry's), and the chain head at archive time.

Layout of the zip: ``manifest.json`` (every other member in order with its SHA-256 and size, the
counts, the chain head), ``head.json``, ``records/<table>.json`` (a list, by id), ``names.json``
(usernames → names, for reading), ``audit/entries.jsonl`` (one entry per line, by sequence
number, as the trail keeps it), ``files/<sha256>``, ``dossiers/<case number>.pdf``, ``README.txt``.
records/archive/verify.py checks it. Nothing in the data folder is written: the records are read
at one commit (records/archive/snapshot.py); a second run writes a new file, never over an old one.
"""
from __future__ import annotations

import hashlib
import os
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import orjson

from records.calendar.workdays import WorkCalendar, now_local, parse_local, to_local
from records.cases import vocab
from records.cases.notes import TABLE as NOTES
from records.catalog.customers import TABLE as CUSTOMERS
from records.core.audit import canonical
from records.core.errors import DomainError
from records.core.files import TEMP_PREFIX, fsync_dir
from records.core.store import Store
from records.followups.tasks import DONE
from records.followups.tasks import TABLE as FOLLOWUPS
from records.service_forms.archive import TABLE as FORM_FILES
from records.service_forms.archive import files_dir
from records.users.accounts import TABLE as USERS
from records.users.accounts import display_names

from . import dossier, snapshot

FORMAT = "aftersales-yearly-archive"
FORMAT_VERSION = 1
# The records later issues keep, taken where the store has them: {stem of the table's name: what they are}.
YEARLY_TABLES = {
    "quarterly_report": "季度报告（9.2）",
    "preventive_action": "预防措施（9.3）",
    "cost_entr": "售后服务费用（9.4）",
    "assessment": "考核（9.1、9.5）",
    "penalty_month": "已发放的处罚月份",
    "supplier_claim": "供应商索赔（3.1）",
    "technical_notice": "技术通报",
}
CORE_TABLES = (vocab.TABLE, NOTES, FORM_FILES, FOLLOWUPS)
READ_TABLES = CORE_TABLES + (USERS, CUSTOMERS)  # the last two only to write the dossiers
# The steps that may close a case (records.cases.flow): the last of them on a closed case closed it.
CLOSING_ACTIONS = frozenset({"intake", "reply", "guidance_result", "vp_decision", "confirm", "cancel", "merge"})
# Fields a record of a later issue may carry its year in, in the order they are asked.
YEAR_FIELDS = ("year", "period", "quarter", "month", "issued_at", "closed_at", "created_at", "at")
CHUNK = 1 << 20


class ArchiveError(DomainError):
    pass


def optional_tables(tables: list[str]) -> list[str]:
    """The tables of ``tables`` that hold records of ``YEARLY_TABLES``."""
    return [t for t in tables if t not in READ_TABLES and any(stem in t for stem in YEARLY_TABLES)]


def closed_at(case: dict) -> datetime | None:
    """When a closed case was closed: its last closing step (None while it is open)."""
    if case.get("state") != "closed":
        return None
    steps = [e for e in case.get("timeline") or [] if e.get("action") in CLOSING_ACTIONS]
    moment = steps[-1]["at"] if steps else (case.get("timeline") or [{}])[-1].get("at")
    return parse_local(moment) if moment else None


def record_year(doc: dict) -> int | None:
    """The year a record of a later issue belongs to: its first field of ``YEAR_FIELDS`` that
    reads as one (2026, "2026Q1", "2026-03", an ISO time), else the year it was stored."""
    for name in YEAR_FIELDS:
        value = doc.get(name)
        if isinstance(value, int) and 1900 < value < 3000:
            return value
        if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
            if "T" in value:
                try:
                    return to_local(datetime.fromisoformat(value)).year
                except ValueError:
                    pass
            return int(value[:4])
    created = doc.get("_created")
    return to_local(datetime.fromisoformat(created)).year if created else None


@dataclass
class Selection:
    """The records of one year, per table (by id), and the cases among them."""

    year: int
    records: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def cases(self) -> list[dict]:
        return self.records.get(vocab.TABLE, [])


def select(snap: snapshot.Snapshot, year: int) -> Selection:
    cases = [c for c in snap.scan(vocab.TABLE) if (closed_at(c) or datetime.min).year == year]
    ids = {c["id"] for c in cases}
    calls = [t for t in snap.scan(FOLLOWUPS) if t.get("status") == DONE
             and (parse_local((t.get("call") or {}).get("called_at")) or datetime.min).year == year]
    out = {vocab.TABLE: cases,
           NOTES: [n for n in snap.scan(NOTES) if n.get("case_id") in ids],
           FORM_FILES: [f for f in snap.scan(FORM_FILES) if f.get("case_id") in ids],
           FOLLOWUPS: calls}
    for table in optional_tables(snap.tables):
        out[table] = [d for d in snap.scan(table) if record_year(d) == year]
    return Selection(year, {t: sorted(docs, key=lambda d: d["id"]) for t, docs in out.items()})


def _hashes_in(obj, out: set[str]) -> None:
    """Every ``sha256`` (and ``derived_sha256``: a scan's signed wrapper) anywhere in ``obj`` (the archived
    files a record names)."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("sha256", "derived_sha256") and isinstance(value, str) and len(value) == 64:
                out.add(value)
            else:
                _hashes_in(value, out)
    elif isinstance(obj, list):
        for value in obj:
            _hashes_in(value, out)


def _case_records(snap: snapshot.Snapshot, sel: Selection, names: dict[str, str]) -> list[dossier.CaseRecords]:
    notes: dict[int, list[dict]] = {}
    for n in sorted(sel.records[NOTES], key=lambda n: (n.get("at") or "", n["id"])):
        notes.setdefault(n["case_id"], []).append(n)
    forms: dict[int, list[dict]] = {}
    for f in sorted(sel.records[FORM_FILES], key=lambda f: f.get("version") or 0):
        forms.setdefault(f["case_id"], []).append(f)
    return [dossier.CaseRecords(c, notes.get(c["id"], []), forms.get(c["id"], []), names,
                                snap.get(CUSTOMERS, c["customer_id"]) if c.get("customer_id") else None)
            for c in sel.cases]


class _Writer:
    """Members written into the zip, each hashed as it is written (the manifest's list)."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf = zf
        self.members: list[dict] = []

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.members.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    def add_file(self, name: str, path: Path) -> str:
        digest, size = hashlib.sha256(), 0
        with open(path, "rb") as src, self.zf.open(name, "w", force_zip64=True) as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        self.members.append({"name": name, "sha256": digest.hexdigest(), "size": size})
        return digest.hexdigest()


def _json(obj) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def archive_name(year: int, now: datetime) -> str:
    return f"aftersales-archive-{year}-v{now:%Y%m%d-%H%M%S}.zip"


def _link_new(tmp: Path, dest: Path, year: int, now: datetime) -> Path:
    """Give the written zip a name no file has: never over an earlier archive."""
    base = archive_name(year, now)
    for n in range(1, 1000):
        final = dest / (base if n == 1 else base.replace(".zip", f"-{n}.zip"))
        try:
            os.link(tmp, final)
            return final
        except FileExistsError:
            continue
    raise ArchiveError(f"无法在 {dest} 中为归档文件取名")


README = """售后服务年度归档（《售后服务管理规定》第 10 条：技质部负责对售后服务形成记录进行收集归档）

{year} 年：技质部形成的记录，按归档时（{created}）的状态。
- records/<表>.json   记录（JSON）：当年结案的案例（含作废、合并）、备注与附件、签字技术服务单版本、当年的回访记录，及其他当年记录
- files/<SHA-256>     记录所指的归档文件（签字技术服务单、扫描件、附件），文件名即其内容的 SHA-256
- dossiers/*.pdf      每个案例的案卷
- audit/entries.jsonl 这些记录的审计条目（每条含自身哈希 hash 与上一条的哈希 prev）
- head.json           归档时审计链的链头（条数 seq 与最后一条的哈希 hash）
- manifest.json       以上每个文件的 SHA-256
校验：aftersales archive-verify <本文件>（任何装有本系统的电脑均可，无需数据文件夹）。
"""


def write_archive(store: Store, year: int, dest: Path, cal: WorkCalendar, now: datetime | None = None,
                  progress: Callable[[str, float], None] | None = None) -> tuple[Path, dict]:
    """Write the yearly archive of ``year`` (10) into ``dest``; return its path and the manifest.

    ``progress(case number, seconds)`` is told the time each dossier took. Raises ArchiveError.
    """
    now = now_local(now)
    if not 2000 <= int(year) <= now.year:
        raise ArchiveError(f"年份 {year} 不对：应为 2000—{now.year} 年", "year")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    snap = snapshot.take(store, list(READ_TABLES) + optional_tables(snapshot.existing_tables(store)))
    head = snap.head()
    sel = select(snap, int(year))
    names = display_names(snap)
    hashes: set[str] = set()
    offsets: list[int] = []
    for docs in sel.records.values():
        for doc in docs:
            _hashes_in({k: v for k, v in doc.items() if not k.startswith("_")}, hashes)
            offsets += doc.get("_audit") or []
    entries = sorted(snap.entries(offsets), key=lambda e: e["seq"])
    created = now.isoformat()
    tmp = dest / f"{TEMP_PREFIX}{archive_name(year, now)}.{os.getpid()}"
    problems: list[str] = []
    timings: list[float] = []
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            w = _Writer(zf)
            w.add("README.txt", README.format(year=year, created=created).encode())
            w.add("head.json", _json(head))
            w.add("names.json", _json(dict(sorted(names.items()))))
            for table, docs in sel.records.items():
                w.add(f"records/{table}.json", _json(docs))
            w.add("audit/entries.jsonl", b"".join(canonical(e) + b"\n" for e in entries))
            blobs = files_dir(store)
            for sha in sorted(hashes):
                path = blobs / sha
                if not path.is_file():
                    problems.append(f"归档文件 {sha} 缺失")
                    continue
                if w.add_file(f"files/{sha}", path) != sha:
                    problems.append(f"归档文件 {sha} 的内容与其 SHA-256 不符（已按现状归档）")
            for rec in _case_records(snap, sel, names):
                started = time.perf_counter()
                pdf = dossier.render(rec, dossier.ARCHIVE_READER, cal, now, sign_in=store.root)
                seconds = time.perf_counter() - started
                timings.append(seconds)
                w.add(f"dossiers/{rec.case.get('number') or rec.case['id']}.pdf", pdf)
                if progress is not None:
                    progress(rec.case.get("number") or f"#{rec.case['id']}", seconds)
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "year": int(year), "created": created,
                        "source": str(store.root.resolve()), "head": head,
                        "counts": {t: len(d) for t, d in sel.records.items()}, "files_archived": len(hashes),
                        "audit_entries": len(entries), "problems": problems,
                        "dossier_seconds": round(sum(timings), 3), "members": w.members}
            zf.writestr("manifest.json", _json(manifest))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        final = _link_new(tmp, dest, int(year), now)
        fsync_dir(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return final, manifest
