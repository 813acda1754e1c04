"""Notes and attachments on a case: the remarks and files that are no step of the flow (a photo
from site, the customer's written confirmation of the fee for 5.2.5, a fax), shown in the case's
timeline (records.cases.timeline, kinds ``note`` and ``attachment``).

Table ``case_notes``, one document per note::

    {"case_id": 12, "kind": "note" | "attachment", "text": "...", "by": "li.gong",
     "at": "2026-11-30T10:15:00+08:00",
     "file": {"sha256": "...", "size": 123456, "mime": "image/jpeg", "type": "jpeg",
              "filename": "现场.jpg", "category": "photo"}}            # attachments only

Who may add or read them is who may read the case (``flow.may_read``). A file is a PDF, JPEG or
PNG of at most 20 MB, checked by its content with the checks of every upload
(``check_attachment``, the one call site) and kept as the signed forms are: its bytes in
``<data>/files/<sha256>`` (records.core.files.put_blob), read back byte for byte. A note is never
changed or deleted; its insert and an event on the case are in the audit trail.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from records.calendar.workdays import iso_local, now_local
from records.core.errors import RecordNotFound
from records.core.files import put_blob, read_blob
from records.core.index import TableIndex
from records.core.store import Store
from records.core.uploads import SCAN, CheckedUpload, check_upload

from . import input as checked
from .flow import may_read
from .vocab import TABLE as CASES
from .vocab import CaseError, NotPermitted

TABLE = "case_notes"
CATEGORIES = {
    "photo": "照片",
    "confirmation": "顾客书面确认（5.2.5）",
    "fax": "传真",
    "other": "其他文件",
}
MAX_TEXT = 4000
MAX_FILENAME = 120
def check_attachment(data: bytes, filename: str = "") -> CheckedUpload:
    """The checks of an attachment, by its content: those of every upload (records.core.uploads:
    PDF, JPEG or PNG, at most 20 MB, really opens; an HEIC photo refused with how to send it)."""
    return check_upload(data, filename, SCAN)


def files_dir(store: Store) -> Path:
    """Where the bytes are kept, by SHA-256 (the same folder as the signed forms')."""
    return store.root / "files"


def _case_for(store: Store, case_id: int, user: dict) -> dict:
    case = store.get(CASES, int(case_id))
    if case is None:
        raise RecordNotFound(f"案例 #{case_id} 不存在")
    if not may_read(case, user):
        raise NotPermitted("只有可以查看该案例的人员可以查看或添加备注和附件")
    return case


def add_note(store: Store, case_id: int, user: dict, text: str = "", *, content: bytes | None = None,
             filename: str = "", category: str = "", now: datetime | None = None) -> dict:
    """Add a note, or a file with its note, to the case; return the stored note: among them the
    customer's written confirmation of the fee before anyone is sent (5.2.5, category ``confirmation``).

    ``content``: the uploaded bytes (None: a note alone), ``category`` one of ``CATEGORIES``.
    Refuses (CaseError / UploadRefused with the field) an empty note, a bad file or category;
    NotPermitted for a user who may not read the case. Nothing is stored on a refusal.
    """
    now = now_local(now)
    case = _case_for(store, case_id, user)
    text = checked.text({"text": text}, "text", "备注", required=content is None, max_len=MAX_TEXT)
    doc = {"case_id": case["id"], "kind": "note", "text": text, "by": user["username"], "at": iso_local(now)}
    if content is not None:
        if category not in CATEGORIES:
            raise CaseError("请选择附件类别", "category")
        file = check_attachment(content, str(filename or ""))
        name = Path(str(filename or "").replace("\\", "/")).name.strip()[:MAX_FILENAME]
        name = name or f"附件.{file.ext}"
        sha = put_blob(files_dir(store), file.data)  # the bytes first: a note never names a missing file
        doc.update(kind="attachment", file={"sha256": sha, "size": len(file.data), "mime": file.mime,
                                            "type": file.kind, "filename": name, "category": category})
    with store.transaction(user["username"]) as tx:
        tx.require(CASES, case["id"])
        note = tx.insert(TABLE, doc)
        what = f"附件「{doc['file']['filename']}」（{CATEGORIES[category]}）" if content is not None else "备注"
        tx.event(CASES, case["id"], f"{doc['kind']}_added", note=f"添加{what}",
                 data={"note_id": note["id"], **({"sha256": doc["file"]["sha256"]} if content is not None else {})})
    return note


# Which case each note belongs to (records.core.index): the case page reads only its own notes,
# however many years of photos the table holds.
_BY_CASE = TableIndex(TABLE, lambda d: {"id": d["id"], "case_id": d.get("case_id"), "at": d.get("at") or ""},
                      version="case-notes-1", order=lambda r: (r["at"], r["id"]), fields=("case_id",))


def notes_of(store: Store, case_id: int) -> list[dict]:
    """The notes and attachments of a case, oldest first."""
    ids = [r["id"] for r in reversed(_BY_CASE.rows(store).bucket("case_id", int(case_id)))]
    return store.docs(TABLE, ids)


def read_attachment(store: Store, note_id: int, user: dict) -> tuple[dict, bytes]:
    """An attachment's note and its exact stored bytes, for a user who may read its case.

    RecordNotFound: no such attachment; NotPermitted: the user may not read the case;
    StorageError: the stored bytes no longer match their SHA-256."""
    note = store.get(TABLE, int(note_id))
    if note is None or not note.get("file"):
        raise RecordNotFound(f"附件 #{note_id} 不存在")
    _case_for(store, note["case_id"], user)
    return note, read_blob(files_dir(store), note["file"]["sha256"])
