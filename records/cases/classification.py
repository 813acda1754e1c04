"""What a case carries for analysis (9.3): 技质部's classification of the fault.

Stored on the case as ``classification`` = {fault_category, cause_category, part, repeat_fault,
repeat_of (earlier case ids), final, at, by}. The categories are codes of the company lists
(records.catalog.categories, kinds "fault" and "cause"); a code retired since stays valid for
the case that already names it.

- provisional at the decision (6.2.2): the decide form's classification fields are optional;
- final and required when the case closes on a fault: at the confirmation (6.2.8), and at the
  close of a case that ends without one (phone guidance solved, 6.2.3; the VP refused, 6.2.4);
- afterwards 技质部 may classify or correct a closed case (``classify``, beside the flow), each
  change a timeline entry with before and after (and the store's audit trail).

Input (``data``): the keys ``fault_category``, ``cause_category``, ``part``, ``repeat_fault``,
``repeat_of``. A key that is absent (or a blank category) keeps what the case has, so a step
whose form was prefilled from the provisional classification, or a caller that sends nothing,
takes the provisional one as final.

重复故障 (GLOSSARY): a fault of the same model and fault category as an earlier case.
``suggestions`` lists the earlier cases of the same model (the product's ``model``) that carry a
fault category; the chosen ``repeat_of`` must be among those of the same fault category.
"""
from __future__ import annotations

from datetime import datetime

from records.calendar.workdays import WorkCalendar, iso_local
from records.catalog import categories
from records.catalog.products import TABLE as PRODUCTS
from records.core.store import Store
from records.core.transaction import Transaction

from .flow import log
from .index import rows as case_rows
from .vocab import TABLE, CaseError

FIELDS = ("fault_category", "cause_category", "part", "repeat_fault", "repeat_of")
MAX_PART = 100
MAX_SUGGESTIONS = 30
# The closing steps that need a final classification: (action, whether this step closes the case).
CLOSING = frozenset({"confirm", "guidance_result", "vp_decision"})


def current(case: dict) -> dict:
    return dict(case.get("classification") or {})


def is_final(case: dict) -> bool:
    return bool((case.get("classification") or {}).get("final"))


def given(data: dict) -> bool:
    """Whether ``data`` carries any classification input (a category, a part or a repeat mark)."""
    return any(data.get(k) for k in FIELDS)


def model_of(source: Store | Transaction, case: dict) -> str:
    """The case's model: its product's ``model`` ("" without a product)."""
    product = source.get(PRODUCTS, case["product_id"]) if case.get("product_id") else None
    return (product or {}).get("model") or ""


def _store(source: Store | Transaction) -> Store:
    return source.store if isinstance(source, Transaction) else source


def suggestions(source: Store | Transaction, case: dict) -> list[dict]:
    """Earlier cases of the same model that carry a fault category, newest first:
    [{id, number, received_at, fault_category, serial}] (at most ``MAX_SUGGESTIONS``)."""
    model = model_of(source, case)
    if not model:
        return []
    products = [p["id"] for p in source.scan(PRODUCTS) if p.get("model") == model]
    received = case.get("received_at") or ""
    index = case_rows(_store(source))
    ids = [r["id"] for pid in products for r in index.bucket("product_id", pid)
           if r["id"] != case.get("id") and (r.get("received_at") or "") < received]
    out = []
    for other in _store(source).docs(TABLE, ids):
        fault = (other.get("classification") or {}).get("fault_category")
        if fault:
            out.append({"id": other["id"], "number": other.get("number") or f"#{other['id']}",
                        "received_at": other.get("received_at") or "", "fault_category": fault,
                        "serial": other.get("product_serial") or ""})
    out.sort(key=lambda r: r["received_at"], reverse=True)
    return out[:MAX_SUGGESTIONS]


def _ids(value) -> list[int]:
    out = []
    for v in value or []:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            raise CaseError("重复故障的早先案例无效", "repeat_of") from None
    return sorted(set(out))


def merged(tx: Transaction, case: dict, data: dict, by: str, now: datetime, final: bool) -> dict:
    """The classification ``data`` gives over the case's current one, checked; not yet stored."""
    was = current(case)
    out = {k: was.get(k) for k in FIELDS}
    for kind, key in (("fault", "fault_category"), ("cause", "cause_category")):
        code = data.get(key)
        if code:
            out[key] = categories.check(tx, kind, str(code), key, current=was.get(key))
    if data.get("part") is not None:
        part = str(data.get("part") or "").strip()
        if len(part) > MAX_PART:
            raise CaseError(f"零部件不能超过 {MAX_PART} 个字", "part")
        out["part"] = part
    if "repeat_fault" in data or "repeat_of" in data:
        out["repeat_fault"] = bool(data.get("repeat_fault"))
        out["repeat_of"] = _ids(data.get("repeat_of")) if out["repeat_fault"] else []
    out["repeat_fault"], out["repeat_of"] = bool(out.get("repeat_fault")), list(out.get("repeat_of") or [])
    out["part"] = out.get("part") or ""
    if final:
        if not out.get("fault_category"):
            raise CaseError("请选择故障类别（9.3：结案时须完成故障分类）", "fault_category")
        if not out.get("cause_category"):
            raise CaseError("请选择原因类别（9.3：结案时须完成故障分类）", "cause_category")
    if out["repeat_fault"]:
        if not out.get("fault_category"):
            raise CaseError("标记重复故障前请先选择故障类别", "fault_category")
        same = {s["id"] for s in suggestions(tx, case) if s["fault_category"] == out["fault_category"]}
        if not out["repeat_of"]:
            raise CaseError("请选择与之重复的早先案例（同型号、同故障类别）", "repeat_of")
        if not set(out["repeat_of"]) <= same:
            raise CaseError("所选早先案例不是同型号、同故障类别的案例", "repeat_of")
    out.update(final=final, at=iso_local(now), by=by)
    return out


def text(source: Store | Transaction, c: dict) -> str:
    """The classification in words, for the timeline and the pages."""
    if not c:
        return "未分类"
    words = [f"故障类别：{categories.name_of(source, 'fault', c.get('fault_category')) or '—'}",
             f"原因类别：{categories.name_of(source, 'cause', c.get('cause_category')) or '—'}"]
    if c.get("part"):
        words.append(f"零部件：{c['part']}")
    if c.get("repeat_fault"):
        words.append(f"重复故障（{len(c.get('repeat_of') or [])} 个早先案例）")
    return "，".join(words)


def provisional(tx: Transaction, case: dict, data: dict, by: str, now: datetime) -> None:
    """At the decision (6.2.2): keep a provisional classification when the form gives one."""
    if given(data) and not is_final(case):
        case["classification"] = merged(tx, case, data, by, now, final=False)


def finalize(tx: Transaction, case: dict, data: dict, by: str, now: datetime) -> None:
    """9.3: at a close on a fault (6.2.8, or 6.2.3 solved, 6.2.4 refused) the classification is final
    and required (the fault and cause categories)."""
    case["classification"] = merged(tx, case, data, by, now, final=True)


def closes_on_fault(case: dict) -> bool:
    """Whether the closed case ended on a fault (not a consultation, nor cancelled or merged)."""
    return case.get("state") == "closed" and case.get("outcome") in ("completed", "guidance_solved", "refused")


def classify(tx: Transaction, case: dict, user: dict, data: dict, cal: WorkCalendar, now: datetime) -> None:
    """9.3: 技质部 classifies or corrects a closed case afterwards (a correction with its reason): a
    timeline entry with before and after, and the store's audit trail."""
    if not closes_on_fault(case):
        raise CaseError("只有因故障结案的案例需要故障分类")
    reason = str(data.get("reason") or "").strip()
    if is_final(case) and not reason:
        raise CaseError("更正已有的故障分类须写明理由", "reason")
    before = current(case)
    after = merged(tx, case, data, user["username"], now, final=True)
    case["classification"] = after
    words = f"故障分类：{text(tx, after)}"
    if before:
        words = f"更正故障分类：{text(tx, before)} → {text(tx, after)}"
    log(case, user["username"], now, "classify", words + (f"。理由：{reason}" if reason else ""))
    case["timeline"][-1].update(reason=reason, before=before, after=after)


HANDLERS = {"classify": classify}
