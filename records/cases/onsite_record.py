"""One record of what happened on site (6.2.6, 6.2.7; 6.2.9 punishes a false form: the system
makes none itself).

Two paths. *Tablet*: the customer signs the 技术服务单 on the tablet (6.2.6: sign, then call
技质部), so 维修完毕 needs that signed version, and 维修完毕 and the report start from it; a value
that differs from it needs a reason and is kept as a *difference* that whoever confirms sees
(6.2.8). *Paper*: the customer signs the printed form; the report's fields are its transcription,
shown beside the archived scan at the confirmation. The time rules are the same on both
(``records.service_forms.consistency.time_problem``). 服务性质 starts from the decision: 有偿
when the customer accepted the fee (misuse in warranty is paid, 5.1.1.2), else 免费.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import parse_local
from records.core.store import Store
from records.core.transaction import Transaction
from records.service_forms import consistency
from records.service_forms.archive import latest_version

from .flow import collects_fee, quote_total
from .vocab import CaseError

TABLET, PAPER = "tablet", "paper"
PATHS = {TABLET: "平板签署", PAPER: "纸质表单"}
NOT_SIGNED = ("平板签署：请先在平板上填写《技术服务单》并由顾客签字归档，再记录维修完毕"
              "（6.2.6：顾客评价并签字后，电话反馈技质部）")
SIGNED_ON_TABLET = "该案例的《技术服务单》已在平板上签署归档：请选择「平板签署」，按签署的表单记录"
REASON_NEEDED = "与顾客签字的《技术服务单》不一致：请写明原因（确认时技质部将看到差异，6.2.9）"
ONSITE_REASON_NEEDED = "与维修完毕时的记录不一致：请写明原因（确认时技质部将看到差异，6.2.9）"


def signed_version(source: Store | Transaction, case: dict) -> dict | None:
    """The latest archived version of the case's form when it was signed on the tablet (it has
    fields), else None (none archived, or the latest is a scan of the paper form)."""
    latest = latest_version(source, case["id"])
    return latest if latest and latest.get("kind") == "tablet" and latest.get("fields") else None


def charge_preset(case: dict) -> str:
    """服务性质 from the decision: "paid" when the fee is collected (a paid service the customer
    accepted, 6.2.4; misuse in warranty is paid, 5.1.1.2), else "free"."""
    return "paid" if collects_fee(case) else "free"


def amount_preset(case: dict) -> float | None:
    """The quote's total when the fee is collected, else None."""
    return quote_total(case) if collects_fee(case) else None


def check_times(case: dict, now: datetime, *, arrived: datetime | None, completed: datetime | None,
                departed: bool = True) -> None:
    """The shared time rules against the case's own times (departure, return); CaseError."""
    problem = consistency.time_problem(
        now=now, arrived=arrived, completed=completed,
        departed=parse_local((case.get("dispatch") or {}).get("departed_at")) if departed else None,
        returned=parse_local((case.get("onsite") or {}).get("returned_at")))
    if problem:
        raise CaseError(problem[1], problem[0])


def differences_with_reason(signed: dict | None, reported: dict, data: dict) -> list[dict]:
    """6.2.9 (a false form is punished; the system makes none): the differences of ``reported`` from
    the signed version (none without one), each with the reason given in ``data``; CaseError on
    the reason field when they need one and have none."""
    if signed is None:
        return []
    return explained(consistency.differences(consistency.signed_record(signed.get("fields") or {}), reported), data)


def onsite_reference(case: dict) -> dict:
    """Paper path: the times the arrival and 维修完毕 recorded (arrival, completion), which the
    report's transcription of the paper form must match or explain: one record, never two times."""
    onsite = case.get("onsite") or {}
    return {key: onsite[key] for key in ("arrived_at", "completed_at") if onsite.get(key)}


def report_differences(case: dict, signed: dict | None, reported: dict, data: dict) -> list[dict]:
    """The report's differences (6.2.9): from the tablet-signed version; on the paper path from what
    the on-site steps recorded (``onsite_reference``, marked ``against``); each needs a reason."""
    if signed is not None:
        return differences_with_reason(signed, reported, data)
    reference = onsite_reference(case)
    diffs = consistency.differences(reference, {k: reported[k] for k in reference if k in reported})
    return [{**d, "against": "维修完毕记录"} for d in explained(diffs, data, ONSITE_REASON_NEEDED)]


def explained(diffs: list[dict], data: dict, needed: str = REASON_NEEDED) -> list[dict]:
    """``diffs`` with the reason given in ``data``; CaseError on the reason field when there are
    differences and no reason."""
    reason = str(data.get(consistency.REASON_FIELD) or "").strip()
    if diffs and not reason:
        listed = "、".join(d["label"] for d in diffs)
        raise CaseError(f"{listed}{needed}", consistency.REASON_FIELD)
    if len(reason) > 1000:
        raise CaseError("原因不能超过 1000 个字", consistency.REASON_FIELD)
    return consistency.with_reason(diffs, reason)


def path_of(source: Store | Transaction, case: dict, chosen: str | None) -> tuple[str, dict | None]:
    """6.2.6: the path of 维修完毕 (``chosen``, else from what is archived) and the signed version;
    CaseError when the tablet path has no signed version, or the paper path is chosen after a
    tablet signature."""
    signed = signed_version(source, case)
    path = chosen or (TABLET if signed else PAPER)
    if path not in PATHS:
        raise CaseError("请选择《技术服务单》的签署方式", "form_path")
    if path == TABLET and signed is None:
        raise CaseError(NOT_SIGNED, "form_path")
    if path == PAPER and signed is not None:
        raise CaseError(SIGNED_ON_TABLET, "form_path")
    return path, signed


def version_ref(doc: dict | None) -> dict | None:
    return {"id": doc["id"], "version": doc["version"], "kind": doc["kind"]} if doc else None


def differences(case: dict) -> list[dict]:
    """Every difference recorded on the case, with the step that recorded it: [{step, field, label,
    signed, reported, reason}] (维修完毕 first, then the report). Old cases have none."""
    out = []
    for step, part in (("维修完毕", case.get("onsite")), ("书面汇报", case.get("report"))):
        for d in (part or {}).get("differences") or []:
            out.append({"step": step, **d})
    return out


# --- what the forms start with -------------------------------------------------------------
def complete_prefill(store: Store, case: dict) -> dict:
    """What 维修完毕 starts with: the signed version's completion time and work when there is one."""
    signed = signed_version(store, case)
    if signed is None:
        version = latest_version(store, case["id"])
        return {"form_path": PAPER if version else None}
    record = consistency.signed_record(signed["fields"])
    return {"form_path": TABLET, "completed_at": record["completed_at"], "work_done": record["work_done"]}


def tablet_prefill(case: dict) -> dict:
    """What the tablet form starts with: the on-site steps' times and work, 服务性质 and the amount
    from the decision."""
    onsite = case.get("onsite") or {}
    return {"arrived_at": parse_local(onsite.get("arrived_at")), "completed_at": parse_local(onsite.get("completed_at")),
            "work_done": onsite.get("work_done") or "", "charge": charge_preset(case), "amount": amount_preset(case)}


def report_prefill(store: Store, case: dict) -> dict:
    """What the report form starts with (the fields as ``perform("report")`` takes them).

    Tablet path: the signed version's fields and ratings. Paper path: the on-site steps
    (arrival, completion, work done) and 服务性质 from the decision; the rest is transcribed from
    the paper form. ``source`` names the signed version, or is None.
    """
    onsite = case.get("onsite") or {}
    out = {
        "arrived_at": parse_local(onsite.get("arrived_at")), "completed_at": parse_local(onsite.get("completed_at")),
        "fault_found": "", "cause": "", "work_done": onsite.get("work_done") or "", "parts": [],
        "charge": charge_preset(case), "amount": amount_preset(case), "ratings": {}, "remarks": "", "source": None,
    }
    signed = signed_version(store, case)
    if signed is None:
        return out
    record = consistency.signed_record(signed["fields"])
    for key, value in record.items():
        if value not in (None, "", [], {}) or key == "amount":
            out[key] = value
    if not record["charge"]:
        out["charge"], out["amount"] = charge_preset(case), amount_preset(case)
    out["source"] = version_ref(signed)
    return out
