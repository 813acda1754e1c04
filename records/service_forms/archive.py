"""The archive of signed 技术服务单 (6.2.6, 6.2.7; 10: 技质部 keeps the records), and who may add to it.

The archive keeps every signed form exactly as it came: the bytes in ``<data>/files/<sha256>``
(written atomically, never rewritten), the metadata in the table ``service_form_files``. Its
insert puts the SHA-256 into the hash-chained audit trail. Signed content is never edited: a
correction is a new version with a reason, and the earlier versions stay.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from records.calendar.workdays import now_local
from records.core import signing
from records.core.errors import RecordNotFound
from records.core.files import atomic_write
from records.core.store import Store
from records.core.transaction import Transaction, copy_doc
from records.notifications.admin_alerts import warn_unsigned
from records.users.roles import TQ_ROLES

from .fields import KINDS, ServiceFormError, form_no_of

TABLE = "service_form_files"


def may_sign(case: dict, username: str, roles: set[str] | frozenset[str]) -> bool:
    """Upload or use the tablet: the technicians sent on the case and 技质部."""
    if roles & set(TQ_ROLES):
        return True
    techs = (case.get("dispatch") or {}).get("technicians") or []
    return "technician" in roles and username in techs


# --- the archive -----------------------------------------------------------------------
def files_dir(store: Store) -> Path:
    return store.root / "files"


def _blob_path(store: Store, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("bad sha256")
    return files_dir(store) / sha256


def archived_versions(source: Store | Transaction, case_id: int) -> list[dict]:
    """Every archived signed form of a case (private copies), oldest version first; from a Store
    or an open Transaction."""
    cid = int(case_id)
    return sorted((copy_doc(d) for d in source.scan(TABLE) if d.get("case_id") == cid), key=lambda d: d["version"])


def latest_version(source: Store | Transaction, case_id: int) -> dict | None:
    """The latest archived signed form of a case, or None."""
    versions = archived_versions(source, case_id)
    return versions[-1] if versions else None


def archive_form(store: Store, case: dict, content: bytes, *, case_table: str, kind: str, mime: str,
                 filename: str, actor: str, reason: str = "", matched_by: str = "", fields: dict | None = None) -> dict:
    """Archive a form signed by the customer (6.2.6; handed in with the report, 6.2.7) as the case's
    next version (already checked by records.core.uploads).

    The bytes go to ``<data>/files/<sha256>`` first (content-addressed, written atomically,
    never replaced once there), then the metadata is inserted; the insert's audit entry holds
    the SHA-256, and an event on the case (``case_table``, the caller's) names the version.
    A second or later version needs a reason (a correction).
    """
    if kind not in KINDS:
        raise ServiceFormError("未知的归档类型")
    reason = (reason or "").strip()
    case_id = int(case["id"])
    form_no = form_no_of(case)
    if not form_no:
        raise ServiceFormError("该案例尚未签发技术服务单")
    if not content:
        raise ServiceFormError("文件为空")
    if archived_versions(store, case_id) and not reason:
        raise ServiceFormError("该技术服务单已归档；更正需另存新版本并填写更正原因", "reason")
    if len(reason) > 500:
        raise ServiceFormError("更正原因不能超过 500 个字", "reason")

    # The company's signature (issue 18): a PDF is archived signed; a JPEG/PNG scan is archived as
    # it came, with a signed PDF wrapper beside it. Without a key it is archived unsigned.
    signed = signing.sign_for_archive(store.root, content, mime, reason=f"技术服务单 {form_no} 归档（6.2.6）",
                                      title=f"技术服务单 {form_no}（扫描件）")
    content = signed.content
    digest = _put(store, content)
    if signed.derived:
        signed.record["derived_sha256"] = _put(store, signed.derived)

    safe_name = Path(filename or "").name[:120] or f"{form_no}.{mime.split('/')[-1]}"
    with store.transaction(actor) as tx:
        existing = [d for d in tx.scan(TABLE) if d.get("case_id") == int(case_id)]
        version = max((d["version"] for d in existing), default=0) + 1
        if version > 1 and not reason:
            raise ServiceFormError("该技术服务单已归档；更正需另存新版本并填写更正原因", "reason")
        doc = tx.insert(TABLE, {
            "case_id": int(case_id),
            "form_no": form_no,
            "version": version,
            "sha256": digest,
            "size": len(content),
            "mime": mime,
            "kind": kind,
            "filename": safe_name,
            "uploaded_by": actor,
            "reason": reason,
            "matched_by": matched_by,
            "fields": fields or {},
            "signature": signed.record,
        })
        warn_unsigned(tx, signed.record, f"技术服务单 {form_no} 第 {version} 版", now_local())
        tx.event(case_table, case_id, "service_form_archived",
                 note=f"技术服务单 {form_no} 第 {version} 版已归档（{KINDS[kind]}）" + (f"；更正原因：{reason}" if reason else ""),
                 data={"file_id": doc["id"], "sha256": digest, "version": version})
    return doc


def _put(store: Store, content: bytes) -> str:
    """Store ``content`` content-addressed (atomic, never replaced once there); its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    path = _blob_path(store, digest)
    if not path.exists():
        atomic_write(path, content)
    elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        raise ServiceFormError("归档存储中已有同名文件但内容不符，请联系管理员")
    return digest


def signed_copy(store: Store, meta: dict) -> tuple[str, bytes] | None:
    """The signed PDF of an archived version: the version itself when it is a signed PDF, its
    signed wrapper when it is an image scan; None when it was archived unsigned."""
    sig = meta.get("signature") or {}
    if sig.get("status") not in ("valid", "invalid"):
        return None
    sha = sig.get("derived_sha256") or meta["sha256"]
    data = _blob_path(store, sha).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha:
        raise ServiceFormError("归档文件校验失败（SHA-256 不符），文件可能已被改动，请联系管理员")
    return sha, data


def check_signature(store: Store, meta: dict) -> signing.SignatureCheck:
    """Check the archived version's signature again, now (the download page's button, verify)."""
    copy = signed_copy(store, meta)
    if copy is None:
        return signing.SignatureCheck("unsigned")
    return signing.check_pdf(copy[1], signing.kept_fingerprints(store.root))


def read_archived(store: Store, file_id: int) -> tuple[dict, bytes]:
    """The metadata and the exact stored bytes; refuse if they no longer match the SHA-256."""
    meta = store.get(TABLE, file_id)
    if meta is None:
        raise RecordNotFound(f"归档文件 #{file_id} 不存在")
    data = _blob_path(store, meta["sha256"]).read_bytes()
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise ServiceFormError("归档文件校验失败（SHA-256 不符），文件可能已被改动，请联系管理员")
    return meta, data
