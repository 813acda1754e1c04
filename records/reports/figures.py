"""The figures of section 9's assessments, computed from the records (pure: the caller passes
the case and follow-up documents in; no store, no Flask).

9.1 per on-site technician and quarter (``technician_figures``); 9.5 per 技质部 member and month
(``manager_figures``). Periods follow the GLOSSARY: an on-time rate counts in the period of the
deadline's due time, a service in the period it was sent (the dispatch), a fault (返修) in the
period it was received, a fine in the period of its last ruling; cancelled and merged cases
never count. A deadline counts once it is met or past due; met at its due time is on time.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from records import policy
from records.calendar.periods import add_months, parse_quarter
from records.calendar.workdays import parse_local, to_local
from records.cases.deadlines import responsible
from records.cases.flow import technicians
from records.cases.vocab import ASPECTS, RATINGS, is_campaign, is_live
from records.fines.ledger import final_amount, ruled_on

# 9.5: a 技质部 member's own deadlines, each with its clause (6.2.1, 6.2.2, 6.2.8).
MANAGER_DEADLINES = {"consult_reply": ("6.2.1", "答复咨询"), "decision": ("6.2.2", "确定解决方案"),
                     "confirm": ("6.2.8", "确认及费用审核")}
FOLLOWUP_LABELS = {"follow_up": ("8.1", "季度电话跟踪"), "annual_visit": ("8.2", "年度电话巡访")}


@dataclass(frozen=True)
class Span:
    """A period of whole days, ``start`` to ``end`` inclusive (local dates), with its label."""

    label: str
    start: date
    end: date

    def holds(self, moment: datetime | date | None) -> bool:
        if moment is None:
            return False
        day = to_local(moment).date() if isinstance(moment, datetime) else moment
        return self.start <= day <= self.end


def quarter_span(label: str) -> Span | None:
    """"2026Q4" → the quarter's days; None for anything else (a whole year is no quarter)."""
    label = (label or "").strip().upper()
    got = parse_quarter(label) if "Q" in label else None
    return Span(label, *got) if got else None


def month_span(label: str) -> Span | None:
    """"2026-11" → the month's days; None for anything else."""
    try:
        year, month = (int(x) for x in (label or "").strip().split("-"))
        start = date(year, month, 1)
    except ValueError:
        return None
    return Span(f"{year:04d}-{month:02d}", start, add_months(start, 1) - timedelta(days=1))


def rate(on_time: int, due: int) -> float | None:
    """The share on time in percent (one decimal), None when nothing was due."""
    return round(100 * on_time / due, 1) if due else None


def deadline_count(case: dict, key: str, span: Span, now: datetime) -> bool | None:
    """Whether deadline ``key`` of ``case`` counts in ``span`` as on time (True) or late (False);
    None when it does not count there (not due in the span, not yet due, never due)."""
    entry = (case.get("deadlines") or {}).get(key)
    if not entry:
        return None
    due = parse_local(entry["due"])
    if not span.holds(due):
        return None
    done = parse_local(entry.get("done_at"))
    if done is None:
        if case.get("state") == "closed" or due >= to_local(now):
            return None  # closed without this step, or not yet due
        return False
    return done <= due


def _service_row(case: dict) -> dict:
    return {"case_id": case["id"], "number": case.get("number", ""), "form_no": (case.get("dispatch") or {}).get("form_no"),
            "issued_at": (case.get("dispatch") or {}).get("issued_at")}


def reworks(live: list[dict], span: Span, rework_days: int = policy.REWORK_DAYS) -> list[dict]:
    """返修 (9.1, GLOSSARY): each live fault received in ``span`` on a serial repaired on site
    (work completed) within ``rework_days`` days before (公司参数, default ``policy.REWORK_DAYS``),
    with the latest such repair."""
    repairs: dict[object, list[tuple[datetime, dict]]] = {}
    for c in live:
        done = parse_local((c.get("onsite") or {}).get("completed_at"))
        if done is not None and c.get("product_id") is not None:
            repairs.setdefault(c["product_id"], []).append((done, c))
    out = []
    for c in live:
        received = parse_local(c.get("received_at"))
        if (c.get("type") != "service_request" or is_campaign(c) or not span.holds(received)
                or c.get("product_id") not in repairs):  # a 技术通报's own work is no new fault
            continue
        before = [(d, e) for d, e in repairs[c["product_id"]] if e["id"] != c["id"] and d < received]
        if not before:
            continue
        done, earlier = max(before, key=lambda pair: pair[0])
        if received - done <= timedelta(days=rework_days):
            out.append({"case_id": c["id"], "number": c.get("number", ""), "received_at": c.get("received_at"),
                        "earlier_id": earlier["id"], "earlier_number": earlier.get("number", ""),
                        "repaired_at": (earlier.get("onsite") or {}).get("completed_at"),
                        "technicians": technicians(earlier)})
    return out


def technician_figures(cases: Iterable[dict], username: str, span: Span, now: datetime,
                       rework_days: int = policy.REWORK_DAYS) -> dict:
    """9.1: one technician's quarter, from the records: services (every technician sent counts
    the case), the on-time rates of arrival (5.1.1.3) and report (6.2.7), the customer's ratings
    on the signed 技术服务单 (four aspects: counts and share 满意), returns without 技质部's
    approval (6.2.6), the fines confirmed (the technician's own), and 返修."""
    all_cases = list(cases)
    live = [c for c in all_cases if is_live(c)]
    mine = [c for c in live if username in technicians(c)]
    services = [c for c in mine if span.holds(parse_local((c.get("dispatch") or {}).get("issued_at")))]
    rates = {}
    for key, clause, label in (("arrival", policy.DISPATCH.clause, "按时到达现场"),
                               ("report", policy.REPORT.clause, "按时书面汇报")):
        due = on_time = 0
        late = []
        for c in mine:
            counted = deadline_count(c, key, span, now)
            if counted is None:
                continue
            due += 1
            on_time += counted
            if not counted:
                late.append({**_service_row(c), "due": c["deadlines"][key]["due"],
                             "done_at": c["deadlines"][key].get("done_at")})
        rates[key] = {"clause": clause, "label": label, "due": due, "on_time": on_time,
                      "rate": rate(on_time, due), "late": late}
    ratings = {}
    for aspect, aspect_label in ASPECTS.items():
        counts = {r: 0 for r in RATINGS}
        for c in services:
            value = (((c.get("report") or {}).get("service_form") or {}).get("ratings") or {}).get(aspect)
            if value in counts:
                counts[value] += 1
        total = sum(counts.values())
        ratings[aspect] = {"label": aspect_label, "counts": counts, "total": total,
                           "satisfied_share": rate(counts["satisfied"], total)}
    unapproved = [_service_row(c) for c in services if (c.get("onsite") or {}).get("return_unapproved")]
    fines = [{"case_id": c["id"], "number": c.get("number", ""), "clause": f["clause"], "basis": f.get("basis", ""),
              "amount": final_amount(f), "ruled_at": ruled_on(f)}
             for c in all_cases for f in c.get("fines") or []
             if f.get("person") == username and final_amount(f)  # final, not waived (0): the register's rule
             and span.holds(parse_local(ruled_on(f)))]
    rework_rows = [r for r in reworks(live, span, rework_days) if username in r["technicians"]]
    return {"kind": "technician", "period": span.label, "person": username,
            "services": [_service_row(c) for c in services], "service_count": len(services),
            "rates": rates, "ratings": ratings, "returns_unapproved": unapproved,
            "fines": fines, "fine_total": sum(f["amount"] for f in fines), "reworks": rework_rows,
            "computed_at": to_local(now).isoformat(timespec="seconds")}


def manager_figures(cases: Iterable[dict], followups: Iterable[dict], username: str, span: Span,
                    now: datetime) -> dict:
    """9.5: one 技质部 member's month: the timeliness of their own deadlines (6.2.1 replies, 6.2.2
    decisions, 6.2.8 confirmations, the follow-up calls of 8.1 and 8.2), with the late items."""
    rows = {key: {"clause": clause, "label": label, "due": 0, "on_time": 0}
            for key, (clause, label) in {**MANAGER_DEADLINES, **FOLLOWUP_LABELS}.items()}
    late = []
    for c in cases:
        if not is_live(c):
            continue
        for key in MANAGER_DEADLINES:
            entry = (c.get("deadlines") or {}).get(key)
            if not entry or (entry.get("responsible") or responsible(c, key)) != username:
                continue
            counted = deadline_count(c, key, span, now)
            if counted is None:
                continue
            rows[key]["due"] += 1
            rows[key]["on_time"] += counted
            if not counted:
                late.append({"what": key, "label": rows[key]["label"], "clause": rows[key]["clause"],
                             "link": f"/cases/{c['id']}", "ref": c.get("number", ""),
                             "due": entry["due"], "done_at": entry.get("done_at")})
    today = to_local(now).date()
    for t in followups:
        if t.get("assignee") != username or t.get("kind") not in FOLLOWUP_LABELS:
            continue
        due = date.fromisoformat(t["due"])
        if not span.holds(due):
            continue
        called = parse_local((t.get("call") or {}).get("called_at"))
        if called is None and due >= today:
            continue  # not yet due
        row = rows[t["kind"]]
        row["due"] += 1
        on_time = called is not None and called.date() <= due
        row["on_time"] += on_time
        if not on_time:
            late.append({"what": t["kind"], "label": row["label"], "clause": row["clause"],
                         "link": f"/followups/{t['id']}", "ref": t.get("period", ""),
                         "due": t["due"], "done_at": (t.get("call") or {}).get("called_at")})
    for row in rows.values():
        row["rate"] = rate(row["on_time"], row["due"])
    due = sum(r["due"] for r in rows.values())
    on_time = sum(r["on_time"] for r in rows.values())
    return {"kind": "manager", "period": span.label, "person": username, "rows": rows,
            "due": due, "on_time": on_time, "rate": rate(on_time, due),
            "late": sorted(late, key=lambda x: x["due"]), "computed_at": to_local(now).isoformat(timespec="seconds")}
