"""The case page's action forms, prepared per action: defaults, choices, labels, title, help.

One *preparer* per transition of ``records.cases.flow.TRANSITIONS`` in ``PREPARERS``, keyed by
the action's name as ``FORMS`` (``forms.case_actions.ACTION_FORMS`` for the flow,
``forms.case_records.RECORD_FORMS`` for correct, cancel, merge, restore) and the domain's ``HANDLERS`` are. A
preparer says only what the form class cannot know by itself, from the case and the store:

- ``defaults(case)``: the data the form starts with when the page shows it (the case's
  revision and the current time for the time fields are there for every action);
- ``choices(form, case)``: its choices, row labels and the fields left out, also when posted;
- ``title(case, user)``: the card's title when it is not the transition's label (else None);
- ``help(case, user)``: the help when the case calls for another than the form's ``HELP``.

Which choices the case allows is a rule of the domain (``allowed_solutions``, ``manual_kinds``,
``collects_fee``, ``pending``): the preparers ask it, the steps check the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask_login import current_user

from forms.base import options
from forms.case_actions import ACTION_FORMS, ActionForm
from forms.case_records import RECORD_FORMS
from forms.case_report import REPORT_FORMS
from records import policy
from records.calendar.workdays import parse_local, to_local
from records.cases import classification, conduct, expenses, flow, onsite_record, queries, vocab
from records.cases.steps.decision import allowed_solutions
from records.catalog import categories
from records.catalog.customers import TABLE as CUSTOMERS
from records.fines import rulings
from records.fines.proposals import amount_text, fine_amount_text, is_running, manual_kinds, pending, rulable
from records.materials import inspections
from records.materials import parts as parts_catalogue
from records.users import accounts
from records.users.accounts import TABLE as USERS

from .common import input_now, store

TIME_FIELDS = ("responded_at", "departed_at", "arrived_at", "completed_at", "returned_at", "given_at", "sent_at")


@dataclass(frozen=True)
class Preparer:
    """What the case page adds to one action's form class (each part optional)."""
    defaults: Callable[[dict], dict] | None = None
    choices: Callable[[ActionForm, dict], None] | None = None
    title: Callable[[dict, dict], str | None] | None = None
    help: Callable[[dict, dict], str | None] | None = None


def _active_users() -> list[dict]:
    return [u for u in store().scan(USERS) if u.get("active", True)]


def fine_label(f: dict, names: dict | None = None) -> str:
    """A fine proposal in one line: clause, person, amount (or range), day(s), status (only its
    readers see it: the forms that list fines are those of the fine's readers)."""
    amount = fine_amount_text(f)
    day = f"（{f['day']}）" if f.get("day") else (f"（延迟 {f['days']} 个工作日）" if f.get("days") else "")
    person = (names or {}).get(f["person"], f["person"]) if f["person"] else "技质部"
    return f"{f['clause']} {person} {amount}{day} [{rulings.STATUSES[f['status']]}]"


# --- The consultation's answer (6.2.1) and a 待核实 unit or serial (6.2.2) --------------------------


def _assign_reply_choices(form, case: dict) -> None:
    form.assignee.choices = options([("", "— 请选择 —")] + sorted(
        (u["username"], f"{u.get('display_name') or u['username']}（{u['username']}）") for u in _active_users()))


def _resolve_unknown_defaults(case: dict) -> dict:
    was = case.get("unverified") or {}
    return {"customer_id": case.get("customer_id") or 0, "new_customer_name": was.get("unit") or "",
            "product_serial": was.get("serial") or case.get("product_serial") or ""}


def _resolve_unknown_choices(form, case: dict) -> None:
    customers = sorted((c["id"], c["name"]) for c in store().scan(CUSTOMERS))
    form.customer_id.choices = options([(0, "— 新建顾客单位 —")] + sorted(customers, key=lambda x: x[1]))


# --- The fault's classification (9.3): on the decide and closing forms, and ``classify`` ---------


def _classification_defaults(case: dict) -> dict:
    """The form starts from the case's classification (provisional or final)."""
    c = classification.current(case)
    cause = c.get("cause_category") or inspections.found_cause(store(), case["id"])  # 3.1: the inspection's finding
    return {"fault_category": c.get("fault_category") or "", "cause_category": cause or "",
            "part": c.get("part") or "", "repeat_fault": bool(c.get("repeat_fault")),
            "repeat_of": [str(i) for i in c.get("repeat_of") or []]}


def _classification_choices(form, case: dict) -> None:
    """The company lists (a retired code the case names kept) and the earlier cases of the same
    model offered as 重复故障 (with links on the page: ``repeat_of.suggested``)."""
    if "fault_category" not in form:
        return
    s, c = store(), classification.current(case)
    for kind, field in (("fault", form.fault_category), ("cause", form.cause_category)):
        field.choices = options([("", "— 请选择 —"), *categories.choices(s, kind, keep=c.get(f"{kind}_category"))])
    rows = classification.suggestions(s, case)
    if not rows:
        del form.repeat_fault, form.repeat_of  # nothing earlier of the model: no repeat to mark
        return
    names = categories.names(s, "fault")
    for r in rows:
        r["fault_name"] = names.get(r["fault_category"], r["fault_category"])
    form.repeat_of.choices = options([(str(r["id"]), f"{r['number']}（{r['received_at'][:10]}，{r['fault_name']}，"
                                                     f"{r['serial']}）") for r in rows])
    form.repeat_of.suggested = rows


def _with_classification(choices: Callable | None = None, defaults: Callable | None = None) -> dict:
    """A preparer's parts with the classification's added (9.3)."""
    def both_choices(form, case):
        if choices:
            choices(form, case)
        _classification_choices(form, case)

    def both_defaults(case):
        return {**_classification_defaults(case), **(defaults(case) if defaults else {})}
    return {"choices": both_choices, "defaults": both_defaults}


# --- The decision (6.2.2; 5.1.1.1, 5.1.1.2, 5.2.3) ---------------------------------------------


def _decide_choices(form, case: dict) -> None:
    allowed = allowed_solutions(case)
    form.solution.choices = options(allowed)
    if "onsite_free" not in allowed:  # out of warranty: misuse is a reading of in-warranty faults only
        del form.misuse, form.misuse_reason


# --- Paid service (5.2.3—5.2.5) -----------------------------------------------------------------


def _quote_defaults(case: dict) -> dict:
    q = case.get("quote")
    if not q:
        return {}
    return {"service_fee": q["service_fee"], "note": q.get("note", ""),
            "parts": [{"code": p.get("part_code") or "", "part": p["part"], "quantity": str(p["quantity"])}
                      for p in q["parts"]] or None}


def _quote_choices(form, case: dict) -> None:
    """5.2.4: a line may be picked from the catalogue (its name and 财务部's sale price come along)."""
    keep = [p.get("part_code") for p in _quoted_parts(case) if p.get("part_code")]
    rows = options([("", "— 手填 —")] + parts_catalogue.choices(store()))
    known = {c.value for c in rows}
    rows += options([(k, k) for k in keep if k not in known])
    for entry in form.parts:
        entry.code.choices = rows


def _price_defaults(case: dict) -> dict:
    """财务部 starts from the catalogue's sale price of a line picked from it, and confirms (5.2.4)."""
    return {"prices": [p.get("unit_price") if p.get("unit_price") is not None else p.get("catalogue_price")
                       for p in _quoted_parts(case)]}


def _quote_title(case: dict, user: dict) -> str | None:
    return "修改费用报价（5.2.3、5.2.4）" if case.get("quote") else None


def _quoted_parts(case: dict) -> list[dict]:
    return (case.get("quote") or {}).get("parts") or []


def _price_choices(form, case: dict) -> None:
    for entry, p in zip(form.prices, _quoted_parts(case)):
        entry.label.text = f"{p['part']} × {p['quantity']}" + (
            f"（目录售价 {p['catalogue_price']:.2f} 元）" if p.get("catalogue_price") is not None else "")


# --- On site (6.2.5, 6.2.6) ----------------------------------------------------------------------


def _dispatch_choices(form, case: dict) -> None:
    form.technicians.choices = options(sorted(
        (u["username"], accounts.display_name(u))
        for u in _active_users() if "technician" in u.get("roles", [])))
    load = queries.open_cases_by_technician(store())  # 6.2.5: whom to send, by their open cases
    form.technicians.notes = {c.value: f"在办案例 {load.get(c.value, 0)} 件" for c in form.technicians.choices}


def _record_return_help(case: dict, user: dict) -> str | None:
    if case["state"] != "completed":
        return None
    return (f"注意：技质部尚未确认、同意返回。未经同意返回将按 {policy.FINE_RETURN_UNAPPROVED.clause} "
            f"提出处罚建议（{amount_text(policy.FINE_RETURN_UNAPPROVED)}）。"
            "请先电话反馈技质部，待其在系统中同意返回后再记录。")


def _complete_defaults(case: dict) -> dict:
    """维修完毕 from the tablet-signed 技术服务单 when there is one (6.2.6: one record)."""
    pre = onsite_record.complete_prefill(store(), case)
    if pre.get("completed_at"):
        pre["completed_at"] = _naive_minute(pre["completed_at"])
    return {k: v for k, v in pre.items() if v is not None}


# --- The report and its confirmation (6.2.7, 6.2.8) ----------------------------------------------


def _naive_minute(dt: datetime | None) -> datetime | None:
    return to_local(dt).replace(tzinfo=None, second=0, microsecond=0) if dt else None


def _report_defaults(case: dict) -> dict:
    """The report form filled from the on-site steps and the tablet-signed form (if any)."""
    pre = onsite_record.report_prefill(store(), case)
    at = input_now()
    data = {
        "arrived_at": _naive_minute(pre["arrived_at"]) or at,
        "completed_at": _naive_minute(pre["completed_at"]) or at,
        "fault_found": pre["fault_found"], "cause": pre["cause"], "work_done": pre["work_done"],
        "charge": pre["charge"],
        "amount": f"{pre['amount']:.2f}" if pre["amount"] is not None else "",
        "remarks": pre["remarks"],
    }
    if pre["parts"]:
        data["parts"] = [{"part": p["part"], "quantity": str(p["quantity"]), "code": p.get("part_code") or ""}
                         for p in pre["parts"]]
    for key in vocab.ASPECTS:
        data[key] = pre["ratings"].get(key)
    return data


def _report_choices(form, case: dict) -> None:
    if not flow.collects_fee(case):
        del form.receipt_no, form.amount_collected  # nothing was collected (free, or VP-approved)


def _expenses(case: dict) -> list[dict]:
    return (case.get("report") or {}).get("expenses") or []


def _confirm_choices(form, case: dict) -> None:
    rows = conduct.approvals(case)
    for entry, e in zip(form.lines, _expenses(case)):
        text = f"{expenses.label(e)}：报销 {e['amount']:.2f} 元"
        if expenses.unrecognised(e, rows):
            text += f"（{policy.ENTERTAINMENT.clause}：未事先征得主管领导同意，核准 {policy.ENTERTAINMENT.value} 元）"
        elif e.get("category") == expenses.ENTERTAINMENT:
            text += f"（{policy.ENTERTAINMENT.clause}：主管领导已事先同意）"
        entry.label.text = text
    contact = ((case.get("report") or {}).get("conduct") or {}).get("customer_contact")
    customer = store().get(CUSTOMERS, case["customer_id"]) if case.get("customer_id") else None
    if conduct.contact_is_new(customer, contact):
        form.add_contact.label.text = (f"将顾客联系人 {contact['name']}（{contact['phone']}）加入"
                                       f"「{customer['name']}」的联系人（{policy.CONDUCT_CONTACT.clause}）")
    else:
        del form.add_contact


# --- 7.4: the 主管领导's prior approval of 交际应酬 -------------------------------------------------


def _decide_approval_choices(form, case: dict) -> None:
    names = accounts.display_names(store())
    form.request.choices = options([
        (str(a["id"]), f"{names.get(a['requested_by'], a['requested_by'])} "
                       f"{to_local(parse_local(a['requested_at'])):%m-%d %H:%M} 申请：{a['purpose']}")
        for a in conduct.approvals(case) if a["state"] == conduct.REQUESTED])


# --- Fines (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9) ----------------------------------------------------


def _fine_choices(rows: Callable[[dict], list[dict]]):
    def choices(form, case: dict) -> None:
        names = accounts.display_names(store())
        form.key.choices = options([(f["key"], fine_label(f, names)) for f in rows(case)])
    return choices


def _own_fine_choices(form, case: dict) -> None:
    """The person's own proposals waiting for a ruling (their statement, 申辩/说明)."""
    me = current_user.username
    form.key.choices = options([(f["key"], fine_label(f, accounts.display_names(store())))
                                for f in pending(case) if f.get("person") == me])


def _propose_fine_choices(form, case: dict) -> None:
    # The people of this case first (receiver, technicians), then everyone else.
    techs = flow.technicians(case)
    part = [case.get("received_by"), *techs]
    people = sorted(_active_users(), key=lambda u: (
        part.index(u["username"]) if u["username"] in part else len(part), u["username"]))

    def label(u):
        role = "技术人员，" if u["username"] in techs else ("接收人，" if u["username"] == case.get("received_by") else "")
        return f"{u.get('display_name') or u['username']}（{role}{u['username']}）"
    form.person.choices = options([("", "— 请选择 —")] + [(u["username"], label(u)) for u in people])
    form.kind.choices = options(manual_kinds(case))  # 6.2.9 only once a 技术服务单 was issued


# --- Record keeping: correct, cancel, merge, restore (forms.case_records) -------------------------


def _correct_defaults(case: dict) -> dict:
    return {"type": case["type"], "customer_id": case.get("customer_id") or 0,
            "product_serial": case.get("product_serial") or "", "caller_name": case.get("caller_name") or "",
            "caller_phone": case.get("caller_phone") or "", "channel": case.get("channel"),
            "description": case.get("description") or "",
            "received_at": _naive_minute(parse_local(case["received_at"]))}


def _correct_choices(form, case: dict) -> None:
    if flow.decided(case):  # 技质部经理 after the decision: the caller, phone and description only
        for name in ("type", "customer_id", "product_serial", "channel", "received_at"):
            delattr(form, name)
        return
    form.customer_id.choices = options([(0, "— 请选择 —")] + sorted(
        ((c["id"], c["name"]) for c in store().scan(CUSTOMERS)), key=lambda x: x[1]))


PREPARERS: dict[str, Preparer] = {
    "resolve_unknown": Preparer(defaults=_resolve_unknown_defaults, choices=_resolve_unknown_choices),
    "assign_reply": Preparer(choices=_assign_reply_choices),
    "reply": Preparer(),
    "decide": Preparer(**_with_classification(_decide_choices)),
    "guidance_result": Preparer(**_with_classification()),
    "quote": Preparer(defaults=_quote_defaults, choices=_quote_choices, title=_quote_title),
    "price": Preparer(defaults=_price_defaults, choices=_price_choices),
    "send_quote": Preparer(defaults=lambda case: {"recipient": case.get("caller_name") or ""}),
    "customer_response": Preparer(),
    "vp_decision": Preparer(**_with_classification()),
    "dispatch": Preparer(choices=_dispatch_choices),
    "arrive": Preparer(),
    "complete": Preparer(defaults=_complete_defaults),
    "approve_return": Preparer(),
    "record_return": Preparer(help=_record_return_help),
    "report": Preparer(defaults=_report_defaults, choices=_report_choices),
    "confirm": Preparer(**_with_classification(
        _confirm_choices, lambda case: {"lines": [{"approved": "", "reason": ""} for _ in _expenses(case)]})),
    "request_approval": Preparer(),
    "decide_approval": Preparer(choices=_decide_approval_choices),
    "rule_fine": Preparer(choices=_fine_choices(rulable)),
    "refer_fine": Preparer(choices=_fine_choices(rulable)),
    "gm_rule_fine": Preparer(choices=_fine_choices(lambda case: [f for f in case.get("fines") or [] if not is_running(f)])),
    "state_fine": Preparer(choices=_own_fine_choices),
    "propose_fine": Preparer(choices=_propose_fine_choices),
    "correct": Preparer(defaults=_correct_defaults, choices=_correct_choices),
    "cancel": Preparer(),
    "merge": Preparer(),
    "restore": Preparer(),
    "classify": Preparer(**_with_classification()),
}
FORMS: dict[str, type[ActionForm]] = {**ACTION_FORMS, **REPORT_FORMS, **RECORD_FORMS}  # the flow's, record keeping's
assert PREPARERS.keys() == flow.TRANSITIONS.keys() == FORMS.keys(), "one preparer and one form per action"


def form_for(action: str, case: dict, bound: bool = False) -> ActionForm:
    """The action's form for ``case``: as posted (``bound``), else with its defaults."""
    prep = PREPARERS[action]
    cls = FORMS[action]
    if bound:
        form = cls(prefix=action)
    else:
        data = {"rev": case["_rev"], **dict.fromkeys(TIME_FIELDS, input_now())}
        form = cls(formdata=None, prefix=action, data={**data, **(prep.defaults(case) if prep.defaults else {})})
    if prep.choices:
        prep.choices(form, case)
    return form


def title(action: str, case: dict, user: dict) -> str:
    """The title of the action's card: the transition's label unless the case calls for another."""
    prep = PREPARERS[action]
    return (prep.title and prep.title(case, user)) or flow.TRANSITIONS[action].label


def help_text(action: str, case: dict, user: dict) -> str:
    """The help above the action's form: the form's ``HELP`` unless the case calls for another."""
    prep = PREPARERS[action]
    return (prep.help and prep.help(case, user)) or FORMS[action].HELP
