"""``aftersales verify --signatures``: check the company signature of every signed file (issue 18).

Each area that archives signed PDFs gives its signed files as ``(label, read)``; this module
checks each against the certificates kept in the data folder (records/core/signing). A file
that no longer matches its SHA-256 is reported as invalid. Plain ``verify`` checks the SHA-256
chain only and keeps its time budget; this one reads and parses every signed PDF.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from records.core import signing
from records.core.errors import DomainError
from records.core.files import StorageError
from records.core.store import Store
from records.reports import quarterly
from records.service_forms import archive as form_archive
from records.technical_notices import document as notice_document
from records.technical_notices import vocab as notice_vocab

# What it is (for the report) and how to read its bytes; only files signed at archiving are listed.
SignedFile = tuple[str, Callable[[], bytes]]


def _signed(record: dict | None) -> bool:
    return (record or {}).get("status") in ("valid", "invalid")


def service_form_files(store: Store) -> Iterator[SignedFile]:
    for meta in sorted(store.scan(form_archive.TABLE), key=lambda d: d["id"]):
        if _signed(meta.get("signature")):
            yield (f"技术服务单 {meta.get('form_no', '')} 第 {meta['version']} 版（#{meta['id']}）",
                   lambda meta=meta: form_archive.signed_copy(store, meta)[1])


def quarterly_reports(store: Store) -> Iterator[SignedFile]:
    for doc in sorted(store.scan(quarterly.TABLE), key=lambda d: d["id"]):
        if _signed((doc.get("pdf") or {}).get("signature")):
            yield (f"季度报告 {doc['quarter']} 第 {doc['version']} 版（#{doc['id']}）",
                   lambda doc=doc: quarterly.archived(store, doc, "pdf"))


def technical_notice_files(store: Store) -> Iterator[SignedFile]:
    for doc in sorted(store.scan(notice_vocab.TABLE), key=lambda d: d["id"]):
        if _signed((doc.get("pdf") or {}).get("signature")):
            yield f"技术通报 {doc.get('number', '')}（#{doc['id']}）", lambda doc=doc: notice_document.archived_pdf(store, doc)


# Every area with signed files, in the report's order.
SOURCES: list[Callable[[Store], Iterator[SignedFile]]] = [
    service_form_files,
    quarterly_reports,
    technical_notice_files,
]


@dataclass
class SignatureReport:
    checked: int = 0
    valid: int = 0
    problems: list[str] = field(default_factory=list)  # one line per invalid file

    @property
    def ok(self) -> bool:
        return not self.problems


def check_all(store: Store) -> SignatureReport:
    """Check every signed file now; a file is a problem when it is not validly signed today."""
    kept = signing.kept_fingerprints(store.root)
    out = SignatureReport()
    for source in SOURCES:
        for label, read in source(store):
            out.checked += 1
            try:
                result = signing.check_pdf(read(), kept)
            except (DomainError, StorageError, OSError) as exc:  # a stored file changed or lost: not validly signed
                out.problems.append(f"{label}：{signing.STATUS_TEXT['invalid']}（{exc}）")
                continue
            if result.status == "valid":
                out.valid += 1
            else:
                out.problems.append(f"{label}：{result.text}" + (f"（{result.message}）" if result.message else ""))
    return out


def key_status(store: Store, today) -> dict:
    """The admin status page's 电子签章 block: the key in use (or why none), its expiry, the
    certificates kept, and how many archived files carry no signature because of a missing key."""
    path = signing.key_path()
    out = {"path": str(path), "state": "missing", "subject": "", "not_after": "", "expires_soon": False,
           "message": "", "kept": len(signing.kept_fingerprints(store.root)),
           "unsigned": sum(1 for m in store.scan(form_archive.TABLE)
                           if (m.get("signature") or {}).get("status") == "unsigned")}
    try:
        key = signing.load_key(path)
    except signing.SigningError as exc:
        return {**out, "state": "error", "message": str(exc)}
    if key is None:
        return out
    until = key.not_after.date()
    return {**out, "state": "ok", "subject": key.subject, "not_after": until.isoformat(),
            "expires_soon": (until - today).days < EXPIRY_WARNING_DAYS}


EXPIRY_WARNING_DAYS = 60  # company practice: warn the admin two months before the certificate expires
