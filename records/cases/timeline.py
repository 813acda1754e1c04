"""A case's timeline: one chronological list of everything that happened to it, as Zammad's
internal notes or Odoo's chatter, shown on the case page (``entries``).

The kinds of entry (``KINDS``), and where each is kept:

- ``step``        a step of the flow or the intake (``records.cases.flow.log``); on the case
- ``correction``  intake fields corrected with a reason; ``changes`` = [{field, label, before,
                  after}] (records.cases.steps.corrections); on the case
- ``cancel``      作废, with the reason (records.cases.steps.closure); on the case
- ``merge``       合并 into another case, with the reason; ``other`` = {id, number}; on the case
- ``merged_in``   the other side of a merge: a case merged into this one; ``other``; on the case
- ``restore``     a cancelled case put back in its state, with the reason; on the case
- ``note``        a note by anyone who may read the case (records.cases.notes); table ``case_notes``
- ``attachment``  a file with its note (a photo, the customer's written confirmation for 5.2.5, a
                  fax; ``attachment`` = {id, filename, size, mime, category}); table ``case_notes``

Who reads a fine (GLOSSARY 处罚; records.fines.visibility): an entry about a fine names it
(``fine_key``; the fine acts of records.cases.steps.fine_decisions, a correction that reassessed
the 6.1.4 proposal); ``for_reader`` shows its text only to the fine's readers, everyone else
reads ``HIDDEN_TEXT`` (an older entry of a fine act without ``fine_key``: the readers of every fine).

Who was notified of an entry is no entry of its own: an entry on the case may carry
``notified`` (usernames), which the page shows under it (the notices of the steps add it).

An entry kept on the case is ``{at, by, action, label, text}`` plus ``kind`` (absent: a step)
and the kind's own fields. Notes live apart so that writing one never changes the case's
revision (a form open on the case stays valid).
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import iso_local
from records.fines.proposals import find
from records.fines.visibility import HIDDEN_TEXT, may_see_fine, sees_all_fines

from .flow import TRANSITIONS

KINDS = {
    "step": "办理",
    "correction": "更正",
    "cancel": "作废",
    "merge": "合并",
    "merged_in": "并入",
    "restore": "恢复",
    "note": "备注",
    "attachment": "附件",
}
ON_CASE = frozenset({"step", "correction", "cancel", "merge", "merged_in", "restore"})
LABELS = {"merged_in": "其他案例并入本案例", "handover": "停用交接"}  # the labels of entries that are no transition


def add(case: dict, kind: str, by: str, now: datetime, action: str, text: str, **fields) -> dict:
    """Append an entry of ``kind`` to the case's timeline (in memory) and return it."""
    if kind not in ON_CASE:
        raise ValueError(f"not an entry kept on the case: {kind}")
    label = TRANSITIONS[action].label if action in TRANSITIONS else LABELS.get(action, action)
    entry = {"at": iso_local(now), "by": by, "action": action, "label": label, "text": text, **fields}
    if kind != "step":
        entry["kind"] = kind
    case.setdefault("timeline", []).append(entry)
    return entry


def kind_of(entry: dict) -> str:
    """The kind of a timeline entry (an entry without one is a step)."""
    return entry.get("kind") or "step"


def note_entry(note: dict) -> dict:
    """A stored note or attachment (records.cases.notes) as a timeline entry."""
    entry = {"at": note["at"], "by": note["by"], "kind": note["kind"], "action": note["kind"],
             "label": KINDS[note["kind"]], "text": note.get("text") or "", "note_id": note["id"]}
    if note.get("file"):
        entry["attachment"] = {"id": note["id"], **note["file"]}
    return entry


def entries(case: dict, notes: list[dict]) -> list[dict]:
    """Every entry of the case, oldest first: its own timeline and its notes, by time (an entry
    on the case comes before a note of the same minute). Each carries ``kind``."""
    own = [(e["at"], 0, i, {**e, "kind": kind_of(e)}) for i, e in enumerate(case.get("timeline") or [])]
    more = [(n["at"], 1, n["id"], note_entry(n)) for n in notes]
    return [row[3] for row in sorted(own + more, key=lambda r: r[:3])]


FINE_ACTIONS = frozenset({"rule_fine", "refer_fine", "gm_rule_fine", "state_fine", "propose_fine", "fine_merge"})


def may_read_entry(entry: dict, case: dict, user: dict | None) -> bool:
    """Whether ``user`` reads what ``entry`` says of a fine (all of it when it says nothing)."""
    key = entry.get("fine_key")
    if key:
        fine = find(case, key)
        return fine is not None and may_see_fine(user, fine) or sees_all_fines(user)
    if entry.get("action") in FINE_ACTIONS:
        return sees_all_fines(user)
    return True


def for_reader(rows: list[dict], case: dict, user: dict | None) -> list[dict]:
    """The timeline ``rows`` (``entries``) as ``user`` may read them: a fine's person, amount and
    ruling only for its readers; others read ``HIDDEN_TEXT`` where they were."""
    out = []
    for row in rows:
        if may_read_entry(row, case, user):
            out.append(row)
        elif row.get("kind") == "correction":
            out.append({**row, "fines": HIDDEN_TEXT, "text": HIDDEN_TEXT})
        else:
            out.append({**row, "text": HIDDEN_TEXT})
    return out
