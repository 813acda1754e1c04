"""退回物料: 技质部 receives the materials a technician brought back (3.1, 6.2.7) and inspects the
faulty ones; 我的待办 lists both for 技质部.

Receiving a case's materials may complete its 6.2.7 hand-in (records.cases.steps.handin): the
6.2.8 deadline starts then. An inspection finished after the confirmation updates the case's
cause and tells 技质部, in the inspection's own transaction (records.materials.inspections +
handin.inspection_cause_tx: materials imports no cases, this view calls both).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from forms.base import options
from forms.returns import InspectForm, ReceiveForm
from records.cases import deadlines
from records.cases.steps import handin
from records.cases.vocab import CONDITIONS
from records.cases.vocab import TABLE as CASES
from records.catalog import categories
from records.core.errors import DomainError, StaleRecord
from records.materials import inspections
from records.materials import returns as returned
from records.users.accounts import display_names
from records.users.roles import TQ_ROLES

from .common import actor, calendar, form_errors_to_fields, input_now, now, roles_required, store, user_doc
from .todo import Area, Row, register

bp = Blueprint("returns", __name__, url_prefix="/returns")
RECENT = 50


def _words() -> dict:
    return {"conditions": CONDITIONS, "outcomes": returned.OUTCOMES, "results": inspections.RESULTS,
            "states": inspections.STATES, "names": display_names(store()),
            "cause_name": lambda code: categories.name_of(store(), "cause", code),
            "supplier_causes": categories.SUPPLIER_CAUSES}  # 外购件 / 外协件: a supplier claim may follow (3.1)


@bp.get("/")
@roles_required(*TQ_ROLES)
def index():
    done = [d for d in inspections.all_inspections(store()) if d["state"] == "done"][:RECENT]
    return render_template("returns/index.html", waiting=handin.waiting_receipt(store()),
                           pending=inspections.pending(store()), done=done, **_words())


@bp.route("/case/<int:case_id>", methods=["GET", "POST"])
@roles_required(*TQ_ROLES)
def receive(case_id: int):
    case = store().get(CASES, case_id)
    if case is None:
        abort(404)
    lines = case.get("returned_materials") or []
    waiting = returned.pending(lines) and case.get("state") == "awaiting_confirmation"
    form = ReceiveForm()
    if request.method == "GET":
        form.rev.data = str(case["_rev"])
        form.received_at.data = input_now()
    while len(form.notes) < len(lines):
        form.notes.append_entry()
    if waiting and form.validate_on_submit():
        try:
            with store().transaction(actor()) as tx:
                stored = handin.receive_tx(tx, calendar(), case_id, user_doc(), form.to_data(), now())
        except StaleRecord:
            flash("该案例已被他人更新，请核对后重新接收", "warning")
            return redirect(url_for(".receive", case_id=case_id))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            done = "，书面汇报已交齐，6.2.8 确认时限起算" if handin.handed_in(stored) else ""
            flash(f"已接收 {stored.get('number', '')} 的返回物料{done}", "success")
            return redirect(url_for(".receive", case_id=case_id))
    return render_template("returns/receive.html", case=case, lines=lines, form=form, waiting=waiting,
                           missing=handin.missing_text(case), handed_in=handin.handed_in(case),
                           inspections={d["id"]: d for d in inspections.for_case(store(), case_id)}, **_words())


@bp.route("/inspections/<int:inspection_id>", methods=["GET", "POST"])
@roles_required(*TQ_ROLES)
def inspect(inspection_id: int):
    doc = inspections.get(store(), inspection_id)
    if doc is None:
        abort(404)
    form = InspectForm()
    form.cause_category.choices = options([("", "— 请选择 —"), *categories.choices(store(), "cause")])
    if request.method == "GET":
        form.rev.data = str(doc["_rev"])
    if doc["state"] == "pending" and form.validate_on_submit():
        try:
            with store().transaction(actor()) as tx:
                done = inspections.record_tx(tx, inspection_id, form.to_data(), actor(), now(),
                                             expect_rev=int(form.rev.data or 0))
                case = handin.inspection_cause_tx(tx, done, actor(), now())  # after the confirmation only
        except StaleRecord:
            flash("该检验记录已被他人修改，请核对后重新填写", "warning")
            return redirect(url_for(".inspect", inspection_id=inspection_id))
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("检验结果已保存" + ("，案例的故障原因已更新并通知技质部" if case else ""), "success")
            return redirect(url_for(".inspect", inspection_id=inspection_id))
    return render_template("returns/inspect.html", doc=doc, form=form, case=store().get(CASES, doc["case_id"]),
                           **_words())


# --- 我的待办 ---------------------------------------------------------------------------------------


def _tq(user: dict) -> bool:
    return bool(set(user.get("roles") or ()) & set(TQ_ROLES))


_STATUS = {"overdue": "overdue", "soon": "soon"}


def _receive_rows(source, user, at, cal):
    """返回物料待接收: the technician's 6.2.7 clock runs until they are received (GLOSSARY)."""
    if not _tq(user):
        return []
    out = []
    for c in handin.waiting_receipt(source):
        entry = (c.get("deadlines") or {}).get("report")
        status = _STATUS.get(deadlines.deadline_status(entry, cal, at), "open") if entry else "open"
        count = len(returned.pending(c.get("returned_materials") or []))
        out.append(Row(title=f"{c.get('number') or '#' + str(c['id'])} 返回物料待接收（{count} 项）",
                       detail=f"{c.get('customer_name', '')}；收到后书面汇报方算交齐（6.2.7）",
                       url=url_for("returns.receive", case_id=c["id"]), due=(entry or {}).get("due", ""),
                       status=status))
    return out


def _inspect_rows(source, user, at, cal):
    """返回物料待检验 (3.1): no time limit in the regulation."""
    if not _tq(user):
        return []
    return [Row(title=f"{d.get('case_number') or '#' + str(d['case_id'])} {d['part_text']} 待检验",
                detail=f"× {d['quantity']}，{d['created_at'][:16].replace('T', ' ')} 接收",
                url=url_for("returns.inspect", inspection_id=d["id"]), due="", status="open")
            for d in inspections.pending(source)]


register(Area("returns_receive", "返回物料待接收", 40, _receive_rows))
register(Area("returns_inspect", "返回物料待检验", 41, _inspect_rows))
