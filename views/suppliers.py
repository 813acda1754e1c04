"""供应商索赔 (3.1): the suppliers with their contacts and the warranty of their parts, the claims
against them (draft, notice PDF, send, reply, recoveries, close), the claim register with its
export, and the claims in 我的待办. 技质部 keeps them; 财务部 reads them and records recoveries."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms.base import options
from forms.suppliers import (
    ClaimForm,
    CloseForm,
    EvidenceForm,
    RecoverForm,
    RegisterFilter,
    ReplyForm,
    SendForm,
    SupplierForm,
)
from records.cases.vocab import TABLE as CASES
from records.catalog import categories
from records.catalog.products import TABLE as PRODUCTS
from records.core import uploads
from records.core.errors import DomainError, StaleRecord
from records.materials import claim_flow, claim_notice, claim_reminders, claims, inspections, parts, suppliers, warranty
from records.users.accounts import display_names

from .common import file_response, form_errors_to_fields, now, roles_required, save_edit, store, user_doc
from .exports import export, export_format
from .todo import Area, Row, register

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")
READERS, EDITORS = claim_flow.READERS, claim_flow.EDITORS
SUPPLIER_CAUSE_CHOICES = categories.SUPPLIER_CAUSES


# --- suppliers ---------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*READERS)
def index():
    return render_template("suppliers/index.html", rows=suppliers.all_suppliers(store(), include_inactive=True),
                           editor=current_user.has_any(*EDITORS))


def _save_supplier(form: SupplierForm, supplier_id: int | None, expect_rev: int | None = None) -> dict:
    with store().transaction(user_doc()["username"]) as tx:
        if supplier_id is None:
            return suppliers.insert_tx(tx, form.to_data())
        return suppliers.update_tx(tx, supplier_id, form.to_data(), expect_rev=expect_rev)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new():
    form = SupplierForm()
    if form.validate_on_submit():
        try:
            s = _save_supplier(form, None)
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已新建供应商 {s['name']}", "success")
            return redirect(url_for(".show", supplier_id=s["id"]))
    return render_template("suppliers/form.html", form=form, title="新建供应商")


@bp.route("/<int:supplier_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit(supplier_id: int):
    s = suppliers.get(store(), supplier_id) or abort(404)
    form = SupplierForm(data={**s, "rev": s["_rev"]})
    if form.validate_on_submit():
        done = save_edit(form, lambda rev: _save_supplier(form, supplier_id, rev), "该供应商",
                         url_for(".edit", supplier_id=supplier_id), url_for(".show", supplier_id=supplier_id))
        if done:
            return done
    return render_template("suppliers/form.html", form=form, title=f"编辑供应商 {s['name']}")


@bp.get("/<int:supplier_id>")
@roles_required(*READERS)
def show(supplier_id: int):
    s = suppliers.get(store(), supplier_id) or abort(404)
    return render_template("suppliers/show.html", s=s, claims=claims.register(store(), supplier_id=supplier_id),
                           states=claim_flow.STATES, editor=current_user.has_any(*EDITORS))


# --- the claim register ------------------------------------------------------------------------


def _supplier_names() -> dict[int, str]:
    return {s["id"]: s["name"] for s in suppliers.all_suppliers(store(), include_inactive=True)}


@bp.get("/claims")
@roles_required(*READERS)
def claims_index():
    form = RegisterFilter(request.args)
    names = _supplier_names()
    form.supplier.choices = options([("", "全部")] + [(str(i), n) for i, n in names.items()])
    supplier_id = int(form.supplier.data) if (form.supplier.data or "").isdigit() else None
    year = int(form.year.data) if (form.year.data or "").strip().isdigit() else None
    rows = claims.register(store(), supplier_id=supplier_id, state=form.state.data or "", year=year)
    fmt = export_format()
    if fmt:
        return export("供应商索赔台账", ["编号", "供应商", "服务案例", "零部件", "状态", "索赔金额（元）", "已追回（元）",
                                   "发出日期", "答复期限", "答复日期"], _export_rows(rows, names), fmt)
    return render_template("suppliers/claims.html", form=form, rows=rows, names=names, states=claim_flow.STATES,
                           recovered=claims.recovered_total, editor=current_user.has_any(*EDITORS))


def _export_rows(rows: list[dict], names: dict[int, str]):
    for c in rows:
        yield [c["number"], names.get(c["supplier_id"], ""), c.get("case_number") or str(c["case_id"]),
               " ".join(x for x in (c.get("part_code"), c.get("part_text")) if x), claim_flow.STATES[c["state"]],
               float(c["amount"]), float(claims.recovered_total(c)), (c.get("sent_at") or "")[:10],
               c.get("reply_due") or "", (c.get("reply") or {}).get("on", "")]


# --- a claim -----------------------------------------------------------------------------------


def _case_by_number(number: str) -> dict | None:
    number = (number or "").strip()
    return next((c for c in store().scan(CASES) if c.get("number") == number), None) if number else None


def _prefill(case_id: str, inspection_id: str) -> dict:
    """The claim's fields from a case (and an inspection of its faulty part, if named)."""
    data: dict = {"warranty_basis": warranty.DELIVERY}
    inspection = inspections.get(store(), int(inspection_id)) if inspection_id.isdigit() else None
    if inspection:
        data.update(inspection_id=inspection["id"], part_code=inspection.get("part_code") or "",
                    part_text=inspection.get("part_text") or "", cause_category=inspection.get("cause_category") or "")
        case_id = case_id or str(inspection.get("case_id") or "")
        part = parts.get_by_code(store(), inspection.get("part_code") or "") if inspection.get("part_code") else None
        if part and part.get("supplier_id"):  # the catalogue names the part's maker (3.1)
            data["supplier_id"] = part["supplier_id"]
    case = store().get(CASES, int(case_id)) if case_id.isdigit() else None
    if case:
        cls = case.get("classification") or {}
        product = store().get(PRODUCTS, case.get("product_id") or 0) or {}
        data.update(case_number=case.get("number"), failure=case.get("description") or "",
                    failed_on=date.fromisoformat(case["received_at"][:10]),
                    warranty_start=date.fromisoformat(product["delivery_date"]) if product.get("delivery_date") else None)
        data.setdefault("cause_category", cls.get("cause_category") or "")
        data.setdefault("part_text", cls.get("part") or "")
        if inspection and inspection.get("cause_text"):
            data["failure"] = f"{data['failure']}\n检验结论：{inspection['cause_text']}".strip()
    return data


def _claim_form(formdata=None, data: dict | None = None, keep_supplier: int | None = None,
                keep_cause: str | None = None) -> ClaimForm:
    form = ClaimForm(formdata=formdata, data=data)
    form.supplier_id.choices = options([(0, "—")] + suppliers.choices(store(), keep=keep_supplier))
    causes = [(c, n) for c, n in categories.choices(store(), "cause", keep=keep_cause) if c in SUPPLIER_CAUSE_CHOICES]
    form.cause_category.choices = options([("", "—")] + causes)
    return form


def _claim_data(form: ClaimForm) -> dict:
    data = form.to_data()
    case = _case_by_number(data["case_number"])
    if case is None:
        raise claims.ClaimError("没有这个服务案例编号", "case_number")
    return {**data, "case_id": case["id"], "case_number": case["number"]}


@bp.route("/claims/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def new_claim():
    prefill = _prefill(request.args.get("case", ""), request.args.get("inspection", ""))
    form = _claim_form(None if request.method == "GET" else request.form, prefill if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            c = claims.create(store(), _claim_data(form), user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已起草索赔 {c['number']}：请上传证据，核对通知函后发出", "success")
            return redirect(url_for(".claim", claim_id=c["id"]))
    return render_template("suppliers/claim_form.html", form=form, title="起草供应商索赔")


@bp.route("/claims/<int:claim_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_claim(claim_id: int):
    c = claims.get(store(), claim_id) or abort(404)
    data = {**c, "rev": c["_rev"], "warranty_basis": c["warranty"]["basis"],
            "warranty_start": date.fromisoformat(c["warranty"]["start"]),
            "failed_on": date.fromisoformat(c["warranty"]["failed_on"]),
            "lines": [{**x, "amount": Decimal(x["amount"])} for x in c["lines"]]}
    form = _claim_form(None if request.method == "GET" else request.form, data if request.method == "GET" else None,
                       keep_supplier=c["supplier_id"], keep_cause=c["cause_category"])
    if form.validate_on_submit():
        done = save_edit(form, lambda rev: claims.update(store(), claim_id, _claim_data(form), user_doc(), rev),
                         "该索赔", url_for(".edit_claim", claim_id=claim_id), url_for(".claim", claim_id=claim_id))
        if done:
            return done
    return render_template("suppliers/claim_form.html", form=form, title=f"修改索赔 {c['number']}")


STEP_FORMS = {"send": SendForm, "reply": ReplyForm, "recover": RecoverForm, "close": CloseForm}


def _step_forms(c: dict, posted: tuple[str, object] | None = None) -> dict:
    out = {}
    for action in claim_flow.allowed(c, user_doc()):
        if action in STEP_FORMS:
            out[action] = posted[1] if posted and posted[0] == action else STEP_FORMS[action](
                formdata=None, data={"rev": c["_rev"], "on": now().date(), "date": now().date()})
    return out


def _show_claim(c: dict, posted=None, evidence_form=None):
    return render_template("suppliers/claim.html", c=c, s=suppliers.get(store(), c["supplier_id"]) or {},
                           states=claim_flow.STATES, kinds=claim_notice.LINE_KINDS, bases=warranty.BASES,
                           outcomes=claims.OUTCOMES, names=display_names(store()), recovered=claims.recovered_total(c),
                           cause=categories.name_of(store(), "cause", c["cause_category"]),
                           steps=_step_forms(c, posted), may_edit="edit" in claim_flow.allowed(c, user_doc()),
                           evidence_form=evidence_form or EvidenceForm(formdata=None))


@bp.get("/claims/<int:claim_id>")
@roles_required(*READERS)
def claim(claim_id: int):
    return _show_claim(claims.get(store(), claim_id) or abort(404))


@bp.post("/claims/<int:claim_id>/<action>")
@roles_required(*READERS)
def step(claim_id: int, action: str):
    """send, reply, recover or close (claim_flow checks who and when)."""
    c = claims.get(store(), claim_id) if action in STEP_FORMS else None
    c = c or abort(404)
    form = STEP_FORMS[action]()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k not in ("rev", "csrf_token", "submit")}
        rev = int(form.rev.data or 0)
        try:
            if action == "send":
                claims.send(store(), claim_id, user_doc(), now(), rev)
            else:
                getattr(claims, action)(store(), claim_id, data, user_doc(), now(), rev)
        except StaleRecord:
            flash("该索赔已被他人修改，请查看最新内容后重试", "warning")
        except DomainError as exc:
            form_errors_to_fields(form, exc)
            return _show_claim(c, (action, form)), 400
        else:
            flash(f"已{claim_flow.TRANSITIONS[action].label}", "success")
        return redirect(url_for(".claim", claim_id=claim_id))
    return _show_claim(c, (action, form)), 400


@bp.post("/claims/<int:claim_id>/evidence")
@roles_required(*EDITORS)
def evidence(claim_id: int):
    c = claims.get(store(), claim_id) or abort(404)
    form = EvidenceForm()
    if form.validate_on_submit():
        fs = form.file.data
        try:
            if not fs or not fs.filename:
                raise uploads.UploadRefused("请选择要上传的文件")
            checked = uploads.check_upload(fs.stream.read(uploads.MAX_BYTES + 1), fs.filename, uploads.SCAN)
            claims.add_evidence(store(), claim_id, checked, user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
            return _show_claim(c, evidence_form=form), 400
        flash("已上传证据", "success")
    return redirect(url_for(".claim", claim_id=claim_id))


@bp.get("/claims/<int:claim_id>/evidence/<int:index>")
@roles_required(*READERS)
def evidence_file(claim_id: int, index: int):
    c = claims.get(store(), claim_id) or abort(404)
    found = claims.evidence_file(store(), c, index) or abort(404)
    item, data = found
    ext = item["filename"].rsplit(".", 1)[-1] if "." in item["filename"] else "bin"
    return file_response(data, item["mime"], item["filename"], f"evidence.{ext}", sha256=item["sha256"])


@bp.get("/claims/<int:claim_id>/notice.pdf")
@roles_required(*READERS)
def notice(claim_id: int):
    c = claims.get(store(), claim_id) or abort(404)
    pdf = claims.notice_pdf(store(), c)
    return file_response(pdf, "application/pdf", claim_notice.filename(c), f"supplier-notice-{c['id']}.pdf",
                         attachment=bool(request.args.get("download")),
                         sha256=(c.get("notice_pdf") or {}).get("sha256"))


# --- 我的待办 ----------------------------------------------------------------------------------

TODO_WORDS = {"send": "待发出", "reply": "等待供应商答复", "recover": "待记录追回款", "close": "待关闭"}


def _todo_rows(store_, user, at, cal):
    names = _supplier_names()
    return [Row(title=f"供应商索赔 {r['claim']['number']}：{TODO_WORDS[r['action']]}"
                      + ("（已逾期）" if r["status"] == "overdue" else ""),
                detail=names.get(r["claim"]["supplier_id"], ""), url=url_for("suppliers.claim", claim_id=r["claim"]["id"]),
                due=r["due"], status=r["status"])
            for r in claim_reminders.todo(store_, user, at.date())]


register(Area("supplier_claims", "供应商索赔", 40, _todo_rows))
