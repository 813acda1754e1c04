"""采购申请 pages of the blueprint "materials" (views/materials.py): the list, a new request,
one request with its approval (技质部经理) and its receipts with incoming inspection (3.1), and
the area 「采购申请」 of 我的待办 (late requests; requests to approve; stock below its minimum)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from forms.materials import DecideForm, PurchaseForm, ReceiveForm
from records.calendar.workdays import to_local
from records.cases.vocab import TABLE as CASES
from records.core.errors import DomainError, StaleRecord
from records.materials import parts, purchases, stock
from records.users.accounts import display_names

from .common import actor, form_errors_to_fields, now, roles_required, store, user_doc
from .materials import TQ, bp, part_choices
from .todo import Area, Row, register


def _case_id(text: str | None) -> int | None:
    """The case a request names by its number (or id), None when none is named or found."""
    text = (text or "").strip()
    hit = next((c["id"] for c in store().scan(CASES) if c.get("number") == text), None) if text else None
    return hit or (int(text) if text.isdigit() and store().get(CASES, int(text)) else None)


@bp.get("/purchases")
@roles_required(*TQ)
def purchase_list():
    state = request.args.get("state", "open")
    rows = purchases.all_requests(store(), "" if state == "all" else state)
    today = to_local(now()).date()
    return render_template("materials/purchases.html", rows=rows, state=state, STATES=purchases.STATES,
                           late={r["id"] for r in rows if purchases.is_late(r, today)}, names=display_names(store()))


@bp.route("/purchases/new", methods=["GET", "POST"])
@roles_required(*TQ)
def purchase_new():
    form = PurchaseForm()
    form.part_code.choices = part_choices()
    if request.method == "GET" and request.args.get("part"):
        form.part_code.data = request.args["part"]
    if form.validate_on_submit():
        data = {**form.data, "case_id": _case_id(form.case.data)}
        if (form.case.data or "").strip() and not data["case_id"]:
            form.case.errors = [*form.case.errors, "没有这个案例编号"]
            return render_template("materials/form.html", form=form, title="新建采购申请（3.1 及时采购）")
        try:
            with store().transaction(actor()) as tx:
                req = purchases.request_tx(tx, data, user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("采购申请已提交，待技质部经理审批", "success")
            return redirect(url_for(".purchase_show", request_id=req["id"]))
    return render_template("materials/form.html", form=form, title="新建采购申请（3.1 及时采购）")


def _forms(req: dict, decide: DecideForm | None = None, receive: ReceiveForm | None = None):
    decide = decide or DecideForm(formdata=None, data={"rev": req["_rev"]})
    receive = receive or ReceiveForm(formdata=None, data={"rev": req["_rev"], "part_code": req.get("part_code") or "",
                                                         "accepted": req["qty"] - req.get("accepted_qty", 0),
                                                         "rejected": 0})
    receive.part_code.choices = part_choices(req.get("part_code"))
    return decide, receive


def _show(req: dict, decide=None, receive=None):
    decide, receive = _forms(req, decide, receive)
    case = store().get(CASES, req["case_id"]) if req.get("case_id") else None
    return render_template("materials/purchase.html", r=req, decide=decide, receive=receive, case=case,
                           STATES=purchases.STATES, names=display_names(store()),
                           late=purchases.is_late(req, to_local(now()).date()),
                           part=parts.get_by_code(store(), req.get("part_code")))


@bp.get("/purchases/<int:request_id>")
@roles_required(*TQ)
def purchase_show(request_id: int):
    return _show(store().get(purchases.TABLE, request_id) or abort(404))


def _post(request_id: int, form, work, message: str):
    """Save ``work(tx, rev)`` from a valid form: the redirect, or None (errors beside the fields)."""
    if not form.validate_on_submit():
        return None
    try:
        with store().transaction(actor()) as tx:
            work(tx, int(form.rev.data or 0))
    except StaleRecord:
        flash("该申请已被他人处理，以下是最新内容", "warning")
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return None
    else:
        flash(message, "success")
    return redirect(url_for(".purchase_show", request_id=request_id))


@bp.post("/purchases/<int:request_id>/decide")
@roles_required(*purchases.APPROVERS)
def purchase_decide(request_id: int):
    req = store().get(purchases.TABLE, request_id) or abort(404)
    form = DecideForm()
    return _post(request_id, form, lambda tx, rev: purchases.decide_tx(
        tx, request_id, form.decision.data == "approve", form.note.data, user_doc(), now(), expect_rev=rev),
        "已审批") or _show(req, decide=form)


@bp.post("/purchases/<int:request_id>/receive")
@roles_required(*TQ)
def purchase_receive(request_id: int):
    req = store().get(purchases.TABLE, request_id) or abort(404)
    form = ReceiveForm()
    form.part_code.choices = part_choices(req.get("part_code"))
    return _post(request_id, form, lambda tx, rev: purchases.receive_tx(
        tx, request_id, form.data, user_doc(), now(), expect_rev=rev), "已验收") or _show(req, receive=form)


# --- 我的待办 ------------------------------------------------------------------------------------


def _todo_rows(src, user, at, cal):
    if not set(user.get("roles") or ()) & set(TQ):
        return []
    today = to_local(at).date()
    rows = [Row(title=f"采购申请 #{r['id']}：{r['text']} × {r['qty']}" + ("（已逾期）" if r["late"] else "（待审批）"),
                detail=f"{purchases.STATES[r['state']]}；{r['reason']}", due=r["need_by"],
                url=url_for("materials.purchase_show", request_id=r["id"]), status="overdue" if r["late"] else "open")
            for r in purchases.todo(src, user, today)]
    if set(user.get("roles") or ()) & set(purchases.APPROVERS):
        ordered = purchases.on_order(src)
        rows += [Row(title=f"库存低于最低库存：{parts.label(x['part'])}",
                     detail=f"仓库 {x['qty']}，最低 {x['min_stock']}，在途 {ordered.get(x['part']['code'], 0)}（3.1 及时采购）",
                     url=url_for("materials.index"), due="", status="open")
                 for x in stock.low_stock(src) if x["qty"] + ordered.get(x["part"]["code"], 0) < x["min_stock"]]
    return rows


register(Area("materials", "采购申请与库存", 40, _todo_rows))
