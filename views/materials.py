"""物料: the service materials pages (3.1, 5.2.4, 6.2.5) — 库存, 物料目录, 技术员工具包, 采购申请,
盘点调整, 库存差异, and the issue of parts to a technician's kit for a dispatched case.

技质部 keeps the catalogue and the stock, 技质部经理 approves purchases and adjusts after a
stocktake, 财务部 sets the sale prices (5.2.4); a technician sees his own kit. Thin views: a form,
one domain call in one transaction, a flash, a redirect.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.base import options
from forms.materials import (
    AdjustForm,
    CaseIssueForm,
    ConfirmForm,
    PartForm,
    PartSearchForm,
    ReceiptForm,
    ResolveForm,
    SalePriceForm,
    TransferForm,
)
from records.cases import flow
from records.cases.vocab import TABLE as CASES
from records.core.errors import DomainError
from records.materials import parts, purchases, stock, suppliers
from records.users.accounts import display_names, users_with_role

from .common import actor, form_errors_to_fields, now, roles_required, save_edit, store, user_doc
from .exports import export, export_format

bp = Blueprint("materials", __name__, url_prefix="/materials")

TQ = parts.EDITORS  # 技质部
READERS = (*TQ, *parts.PRICERS)  # 库存 and 物料目录: 技质部 and 财务部
ISSUE_STATES = ("on_route", "on_site", "completed", "return_approved", "awaiting_report")  # dispatched, no report yet


def part_choices(keep: str | None = None):
    return options([("", "— 请选择 —")] + parts.choices(store(), keep))


def _technicians() -> list[tuple[str, str]]:
    return sorted((u["username"], u.get("display_name") or u["username"])
                  for u in users_with_role(store(), "technician") if u.get("active", True))


def _save(work, form, message: str, done: str):
    """Run ``work(tx)`` in one audited transaction; a refusal goes beside its field."""
    try:
        with store().transaction(actor()) as tx:
            work(tx)
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return None
    flash(message, "success")
    return redirect(done)


# --- 库存 ---------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    """库存: the store and the kits per part, the parts below their minimum highlighted (3.1)."""
    if not current_user.has_any(*READERS):
        if current_user.has_any("technician"):
            return redirect(url_for(".my_kit"))
        abort(403)
    src = store()
    every = stock.all_balances(src)
    kits = {loc: codes for loc, codes in every.items() if loc.startswith(stock.KIT)}
    low = {r["part"]["code"] for r in stock.low_stock(src)}
    rows = [{"part": p, "store": every.get(stock.STORE, {}).get(p["code"], 0),
             "kits": sum(codes.get(p["code"], 0) for codes in kits.values()), "low": p["code"] in low}
            for p in parts.all_parts(src)]
    return render_template("materials/index.html", rows=rows, low=len(low), on_order=purchases.on_order(src),
                           kits=sorted(kits), names=display_names(src), open_discrepancies=len(
                               stock.discrepancies(src, open_only=True)), label=stock.location_label, TQ=TQ)


# --- 物料目录 -------------------------------------------------------------------------------------


@bp.get("/parts")
@roles_required(*READERS)
def catalogue():
    search = PartSearchForm(request.args)
    rows = parts.search(store(), search.q.data or "", search.source.data or "", search.retired.data == "all")
    names = {s["id"]: s["name"] for s in suppliers.all_suppliers(store(), include_inactive=True)}
    held = stock.balances(store(), stock.STORE)
    fmt = export_format()
    if fmt:
        return export("物料目录", ["物料编码", "名称", "型号规格", "单位", "来源", "供应商", "成本（元）", "销售价格（元）",
                               "最低库存", "仓库库存", "状态"],
                      ([p["code"], p["name"], p.get("spec", ""), p.get("unit", ""), parts.SOURCES[p["source"]],
                        names.get(p.get("supplier_id"), ""), p.get("cost"), p.get("sale_price"), p.get("min_stock", 0),
                        held.get(p["code"], 0), "停用" if p.get("retired") else "在用"] for p in rows), fmt)
    return render_template("materials/parts.html", rows=rows, search=search, names=names, held=held,
                           SOURCES=parts.SOURCES, TQ=TQ, PRICERS=parts.PRICERS)


def _part_form(form: PartForm, keep: int | None = None) -> PartForm:
    form.supplier_id.choices = options([(0, "— 无 —")] + suppliers.choices(store(), keep))
    return form


@bp.route("/parts/new", methods=["GET", "POST"])
@roles_required(*TQ)
def part_new():
    form = _part_form(PartForm())
    if form.validate_on_submit():
        done = _save(lambda tx: parts.insert_tx(tx, form.to_data()), form, f"已加入物料目录：{form.code.data}",
                     url_for(".catalogue"))
        if done:
            return done
    return render_template("materials/form.html", form=form, title="新建物料")


@bp.get("/parts/<int:part_id>")
@roles_required(*READERS)  # not the technicians: every kit's balance and the cost are 技质部's and 财务部's
def part_show(part_id: int):
    p = parts.get(store(), part_id) or abort(404)
    every = stock.all_balances(store())
    held = {loc: codes[p["code"]] for loc, codes in every.items() if codes.get(p["code"])}
    return render_template("materials/part.html", p=p, held=held, moves=stock.moves(store(), code=p["code"])[:200],
                           names=display_names(store()), label=stock.location_label, KINDS=stock.KINDS,
                           supplier=suppliers.get(store(), p.get("supplier_id")), SOURCES=parts.SOURCES,
                           price_form=SalePriceForm(formdata=None, data={"rev": p["_rev"], "sale_price": p.get("sale_price")}),
                           retire_form=ConfirmForm(formdata=None), TQ=TQ, PRICERS=parts.PRICERS)


@bp.route("/parts/<int:part_id>/edit", methods=["GET", "POST"])
@roles_required(*TQ)
def part_edit(part_id: int):
    p = parts.get(store(), part_id) or abort(404)
    form = _part_form(PartForm(data={**p, "rev": p["_rev"], "supplier_id": p.get("supplier_id") or 0}),
                      p.get("supplier_id"))
    if form.validate_on_submit():
        def save(rev):
            with store().transaction(actor()) as tx:
                parts.update_tx(tx, part_id, form.to_data(), expect_rev=rev)
        done = save_edit(form, save, "该物料", url_for(".part_edit", part_id=part_id),
                         url_for(".part_show", part_id=part_id))
        if done:
            return done
    return render_template("materials/form.html", form=form, title=f"编辑物料 {p['code']}")


@bp.post("/parts/<int:part_id>/price")
@roles_required(*parts.PRICERS)
def part_price(part_id: int):
    """5.2.4: 财务部 sets the sale price."""
    p = parts.get(store(), part_id) or abort(404)
    form = SalePriceForm()
    if form.validate_on_submit():
        def save(rev):
            with store().transaction(actor()) as tx:
                parts.set_sale_price_tx(tx, part_id, form.sale_price.data, actor(), now(), expect_rev=rev)
        done = save_edit(form, save, "该物料", url_for(".part_show", part_id=part_id),
                         url_for(".part_show", part_id=part_id))
        if done:
            return done
    for field in (form.sale_price, form.rev):
        for e in field.errors:
            flash(e, "danger")
    return redirect(url_for(".part_show", part_id=p["id"]))


@bp.post("/parts/<int:part_id>/retire")
@roles_required(*TQ)
def part_retire(part_id: int):
    p = parts.get(store(), part_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        with store().transaction(actor()) as tx:
            parts.retire_tx(tx, part_id, not p.get("retired"))
        flash("已恢复使用" if p.get("retired") else "已停用（记录保留）", "success")
    return redirect(url_for(".part_show", part_id=part_id))


# --- 入库、发放、退回 -------------------------------------------------------------------------------


@bp.route("/receipt", methods=["GET", "POST"])
@roles_required(*TQ)
def receipt():
    form = ReceiptForm()
    form.part_code.choices = part_choices()
    if form.validate_on_submit():
        done = _save(lambda tx: stock.receipt_tx(tx, form.part_code.data, form.qty.data, actor(), now(),
                                                 unit_cost=form.unit_cost.data, note=form.note.data),
                     form, "已入库", url_for(".index"))
        if done:
            return done
    return render_template("materials/form.html", form=form, title="入库（不经采购申请，如自制件交库）")


@bp.route("/transfer", methods=["GET", "POST"])
@roles_required(*TQ)
def transfer():
    form = TransferForm()
    form.username.choices = options([("", "— 请选择 —")] + _technicians())
    form.part_code.choices = part_choices()
    if request.method == "GET" and request.args.get("username"):
        form.username.data = request.args["username"]
    if form.validate_on_submit():
        op = stock.issue_tx if form.direction.data == "issue" else stock.kit_return_tx
        done = _save(lambda tx: op(tx, form.part_code.data, form.qty.data, form.username.data, actor(), now(),
                                   note=form.note.data), form, "已保存", url_for(".kit", username=form.username.data))
        if done:
            return done
    return render_template("materials/form.html", form=form, title="工具包发放 / 退回")


@bp.route("/issue/<int:case_id>", methods=["GET", "POST"])
@roles_required(*TQ)
def case_issue(case_id: int):
    """6.2.5: parts from the store into the kit of a technician sent on the case."""
    case = store().get(CASES, case_id) or abort(404)
    if case["state"] not in ISSUE_STATES:
        flash("只有已派出、尚未书面汇报的案例可以发放物料（6.2.5）", "warning")
        return redirect(url_for("cases.show", case_id=case_id))
    names = display_names(store())
    form = CaseIssueForm()
    form.username.choices = options([(t, names.get(t, t)) for t in flow.technicians(case)])
    choices = part_choices()
    for row in form.lines:
        row.part_code.choices = choices
    if form.validate_on_submit():
        done = _save(lambda tx: stock.issue_lines_tx(tx, form.username.data, form.to_lines(), actor(), now(),
                                                     case_id=case_id),
                     form, "已发放到工具包", url_for("cases.show", case_id=case_id))
        if done:
            return done
    held = stock.balances(store(), stock.STORE)
    return render_template("materials/case_issue.html", form=form, case=case, held=held,
                           issued=stock.issued(store(), case_id), catalogue={p["code"]: p for p in parts.all_parts(store())})


def issue_url(case: dict) -> str | None:
    """The case page's link to issue parts to the kit (6.2.5), for 技质部 on a dispatched case."""
    if (current_user.is_authenticated and current_user.has_any(*TQ) and case.get("state") in ISSUE_STATES):
        return url_for("materials.case_issue", case_id=case["id"])
    return None


@bp.app_context_processor
def _case_page_link():
    return {"materials_issue_url": issue_url}


# --- 技术员工具包 ----------------------------------------------------------------------------------


@bp.get("/kit")
@login_required
def my_kit():
    """The technician's own kit."""
    return kit(current_user.username)


@bp.get("/kit/<username>")
@login_required
def kit(username: str):
    """A technician's kit: his own, or any for 技质部 and 财务部."""
    if username != current_user.username and not current_user.has_any(*READERS):
        abort(403)
    names = display_names(store())
    return render_template("materials/kit.html", username=username, name=names.get(username, username),
                           rows=stock.kit(store(), username), moves=stock.moves(store(), location=stock.kit_of(username))[:100],
                           KINDS=stock.KINDS, label=stock.location_label, names=names, TQ=TQ)


# --- 盘点调整 -------------------------------------------------------------------------------------


@bp.route("/adjust", methods=["GET", "POST"])
@roles_required(*stock.ADJUSTERS)
def adjust():
    """3.1: after a stocktake 技质部经理 sets the counted quantity, with the reason (audited)."""
    form = AdjustForm()
    form.location.choices = options([(stock.STORE, "仓库")] + [(stock.kit_of(u), f"{n} 的工具包") for u, n in _technicians()])
    form.part_code.choices = part_choices()
    if form.validate_on_submit():
        done = _save(lambda tx: stock.adjust_tx(tx, form.location.data, form.part_code.data, form.counted.data,
                                                form.reason.data, user_doc(), now()),
                     form, "已按盘点数量调整", url_for(".index"))
        if done:
            return done
    adjustments = [m for m in stock.moves(store()) if m["kind"] == "adjust"][:50]
    return render_template("materials/adjust.html", form=form, adjustments=adjustments, label=stock.location_label,
                           names=display_names(store()))


# --- 库存差异 -------------------------------------------------------------------------------------


@bp.get("/discrepancies")
@roles_required(*TQ)
def discrepancies():
    return render_template("materials/discrepancies.html", rows=stock.discrepancies(store()), form=ResolveForm(),
                           KINDS=stock.DISCREPANCY_KINDS, label=stock.location_label, names=display_names(store()))


@bp.post("/discrepancies/<int:discrepancy_id>")
@roles_required(*TQ)
def resolve(discrepancy_id: int):
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            with store().transaction(actor()) as tx:
                stock.resolve_discrepancy_tx(tx, discrepancy_id, form.note.data, user_doc(), now())
            flash("库存差异已处理", "success")
        except DomainError as exc:
            flash(str(exc), "danger")
    else:
        flash("请填写处理说明", "danger")
    return redirect(url_for(".discrepancies"))

