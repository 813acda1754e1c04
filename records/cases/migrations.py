"""The schema migrations of stored cases (``records.core.schema``), registered here because they
need the working calendar and the fine rules, layers above ``core``. ``vocab`` imports this
module, so whoever reads the table ``cases`` has them; ``aftersales migrate`` rewrites for good.

- v1 → v2 (issue 10): recording a call is its hand-over to 技质部 (6.1.3, GLOSSARY). A case
  still waiting for the old 「已传递技质部」 step is handed over at its recording time: 6.1.3
  met then, 技质部 had it then (the 6.2.2 clock starts there, default working calendar; run
  ``aftersales recompute-deadlines`` after a company correction), and a 6.1.4 proposal for the
  receiver when the recording came after the deadline. Every case gains ``recorded_by``,
  ``caller_phone_digits`` and ``unverified``.
- v2 → v3 (issue 13): one 6.2.8 proposal per case (``records.fines.proposals.CONFIRM_LATE``).
  The per-day proposals ``confirm_late:<k>`` already ruled (confirmed, waived, referred, ruled
  by the GM) stay as they are; those not ruled merge into the one proposal, 50 元 × their days
  (``late_days``), still counting (``running``) while the confirmation is not made. Idempotent
  (a case at v3 is never migrated again, and a case without per-day proposals is unchanged);
  ``aftersales migrate`` writes it through the audited transaction, as every migration.
- v3 → v4 (issue 12): expense lines have a date and a category of one vocabulary
  (``records.cases.expenses.CATEGORIES``). A line stored as free text (``{"item", "amount"}``)
  becomes category 其他 (``other``) with its text kept, no date and no receipts; its audit line
  (6.2.8) gains the category, no override and no rule. Idempotent: a line that has a category is
  left as it is.
"""
from __future__ import annotations

from records import policy
from records.calendar import time_limits as dl
from records.calendar.workdays import WorkCalendar, iso_local, parse_local
from records.catalog.phones import digits
from records.core import schema
from records.fines.proposals import CONFIRM_LATE, OLD_PER_DAY, add_proposal, find
from records.fines.visibility import PROPOSED_TEXT

OLD_WAITING = "awaiting_handover"  # the state of v1 that v2 no longer has
schema.VERSIONS["cases"] = 4
OTHER = "other"  # records.cases.expenses.OTHER (that module sits above this one: named here, tested equal)


@schema.migration("cases", 1)
def handed_over_at_recording(doc: dict) -> dict:
    """v1 → v2: a case waiting for hand-over is handed over at its recording time (6.1.3, 6.1.4)."""
    doc.setdefault("recorded_by", doc.get("received_by"))
    doc.setdefault("caller_phone_digits", digits(doc.get("caller_phone")))
    doc.setdefault("unverified", None)
    if doc.get("state") != OLD_WAITING:
        return doc
    at = parse_local(doc.get("recorded_at") or doc["received_at"])
    deadlines = dict(doc.get("deadlines") or {})
    entry = deadlines.get("handover")
    late = bool(entry) and at > parse_local(entry["due"])
    if entry:
        deadlines["handover"] = {**entry, "done_at": entry.get("done_at") or iso_local(at)}
    doc["tq_received_at"] = iso_local(at)
    doc["handed_over_by"] = doc.get("received_by")
    if doc.get("type") == "consultation":
        doc["state"] = "closed" if doc.get("direct_answer") else "awaiting_reply"
        if doc["state"] == "closed":
            doc["outcome"] = "answered"
    else:
        doc["state"] = "awaiting_decision"
        decision = dl.decision_deadline(WorkCalendar.default(), at)
        deadlines["decision"] = {**decision.to_dict(), "done_at": None, "responsible": None}
    doc["deadlines"] = deadlines
    text = "数据升级：登记即传递技质部（6.1.3），按登记时间计"
    doc["fines"] = list(doc.get("fines") or [])
    if late and add_proposal(doc, "handover", policy.FINE_HANDOVER_LATE, doc.get("received_by"), at, by="migrate"):
        text += f"；登记晚于 {policy.HANDOVER.value} 个工作小时，{PROPOSED_TEXT}"  # the fine's readers only
    doc["timeline"] = [*(doc.get("timeline") or []), {"at": iso_local(at), "by": "migrate", "action": "intake",
                                                      "label": "登记即传递技质部（6.1.3）", "text": text}]
    return doc


@schema.migration("cases", 2)
def one_confirm_late_proposal(doc: dict) -> dict:
    """v2 → v3: the unruled per-day 6.2.8 proposals of a case become its one proposal (6.2.8)."""
    fines = list(doc.get("fines") or [])
    merging = [f for f in fines if f["key"].startswith(OLD_PER_DAY) and f.get("status") == "proposed"]
    if not merging or find(doc, CONFIRM_LATE) is not None:
        return doc
    rule = policy.FINE_CONFIRM_LATE_PER_DAY
    first = min(merging, key=lambda f: f.get("proposed_at") or "")
    days = sorted(f["day"] for f in merging if f.get("day"))
    running = not ((doc.get("deadlines") or {}).get("confirm") or {}).get("done_at")
    merged = {**first, "key": CONFIRM_LATE, "day": None, "late_days": days, "days": len(days),
              "per_day": int(rule.value), "amount": int(rule.value) * len(days), "running": running,
              "basis": (f"{rule.basis.format(n=rule.value)}：延迟 {len(days)} 个工作日（{'、'.join(days)}）"
                        + ("，计数至确认完成为止" if running else "")),
              "merged_from": [f["key"] for f in merging],
              "notified": list(dict.fromkeys(p for f in merging for p in f.get("notified") or []))}
    at = sum(1 for f in fines[:fines.index(first)] if f not in merging)  # where the first per-day one was
    kept = [f for f in fines if f not in merging]
    doc["fines"] = kept[:at] + [merged] + kept[at:]
    doc["timeline"] = [*(doc.get("timeline") or []), {
        "at": first.get("proposed_at"), "by": "migrate", "action": "fine_merge", "label": "数据升级",
        "text": f"数据升级：{rule.clause} 逐日处罚建议 {len(merging)} 条合并为一条（每个工作日 {rule.value} 元）",
        "fine_key": CONFIRM_LATE}]
    return doc


@schema.migration("cases", 3)
def expense_categories(doc: dict) -> dict:
    """v3 → v4: free-text expense lines become 其他 with their text kept (6.2.7, 6.2.8)."""
    report = doc.get("report")
    if report and report.get("expenses"):
        report["expenses"] = [e if e.get("category") else {"date": None, "category": OTHER, "item": e.get("item", ""),
                                                           "amount": e.get("amount"), "receipts": []}
                              for e in report["expenses"]]
    audit = doc.get("audit")
    if audit and audit.get("lines"):
        # an old over-approval (allowed then with a reason) reads as the override it now needs
        audit["lines"] = [x if "category" in x else {"date": None, "category": OTHER, **x, "rule": None,
                                                     "override": (x.get("approved") or 0) > (x.get("claimed") or 0)}
                          for x in audit["lines"]]
    return doc
