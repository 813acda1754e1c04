"""技术通报: technical notices from 技质部 to every customer holding an affected model (issue 18):
the list, a draft with the preview of its affected products, issuing (the PDF archived), the
notice page with the progress per customer, deliveries, acknowledgements, the on-site campaign."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from forms.base import SignatureCheckForm, options
from forms.technical_notices import AckForm, CampaignForm, CompleteForm, DeliveryForm, IssueForm, NoticeForm
from records.core import signing
from records.core.errors import DomainError, StaleRecord
from records.core.files import StorageError
from records.technical_notices import campaign, deliveries, document, notices, selection
from records.technical_notices.vocab import DRAFT, ISSUED, KINDS, METHODS, STATES
from records.users.roles import TQ_ROLES

from .common import (
    file_response,
    flash_signature_check,
    form_errors_to_fields,
    input_now,
    now,
    roles_required,
    store,
    user_doc,
)
from .todo import Area, Row, register

bp = Blueprint("technical_notices", __name__, url_prefix="/technical-notices")
READERS = notices.READERS


def _notice_or_404(notice_id: int) -> dict:
    return notices.get(store(), notice_id) or abort(404)


def _preview(form: NoticeForm) -> dict | None:
    """The products the form's selection covers now (N products at M customers, serials not found)."""
    try:
        fields = notices.clean(store(), form.to_data(), now().date())
    except DomainError as exc:
        form_errors_to_fields(form, exc)
        return None
    found = selection.select(store(), fields["model"], fields["selection"])
    return {"products": found.products, "customers": found.customers, "not_found": found.not_found,
            "other_model": found.other_model, "scope": selection.describe(fields["selection"])}


def _edit(form: NoticeForm, notice: dict | None):
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = _preview(form)
        else:
            try:
                if notice is None:
                    saved = notices.create(store(), form.to_data(), user_doc(), now())
                else:
                    saved = notices.update_draft(store(), notice["id"], form.to_data(), user_doc(), now(),
                                                 expect_rev=int(form.rev.data or 0))
            except StaleRecord:
                flash("该技术通报已被他人修改，以下是最新内容，请重新编辑", "warning")
                return redirect(url_for(".edit", notice_id=notice["id"]))
            except DomainError as exc:
                form_errors_to_fields(form, exc)
            else:
                flash(f"技术通报草稿 {saved['number']} 已保存", "success")
                return redirect(url_for(".show", notice_id=saved["id"]))
    status = 400 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("technical_notices/form.html", form=form, notice=notice, preview=preview), status


@bp.get("/")
@roles_required(*READERS)
def index():
    today = now().date()
    rows = []
    for n in notices.all_notices(store()):
        progress = deliveries.progress(store(), n, today) if n["state"] != DRAFT else []
        rows.append({**n, "customers": len(progress), "acked": sum(1 for r in progress if r["acknowledged_at"]),
                     "late": sum(1 for r in progress if r["late"])})
    return render_template("technical_notices/index.html", rows=rows, kinds=KINDS, states=STATES,
                           may_write=notices.may_write(user_doc()))


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*TQ_ROLES)
def new():
    return _edit(NoticeForm(), None)


@bp.route("/<int:notice_id>/edit", methods=["GET", "POST"])
@roles_required(*TQ_ROLES)
def edit(notice_id: int):
    notice = _notice_or_404(notice_id)
    if notice["state"] != DRAFT:
        flash("已发布的技术通报不能修改", "warning")
        return redirect(url_for(".show", notice_id=notice_id))
    data = {**notice, **notice["selection"], "rev": notice["_rev"]}
    for key in ("delivered_from", "delivered_to", "onsite_due"):
        data[key] = _date_or_none(data.get(key))
    form = NoticeForm(data=data) if request.method == "GET" else NoticeForm()
    return _edit(form, notice)


def _date_or_none(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _customer_choices(notice: dict) -> list:
    return options([("", "—")] + [(str(cid), name) for cid, name in notices.customers_of(notice).items()])


def _show(notice: dict, *, delivery_form=None, ack_form=None, campaign_form=None, issue_form=None, status=200):
    today = now().date()
    may_write = notices.may_write(user_doc())
    ctx = {"n": notice, "kinds": KINDS, "states": STATES, "methods": METHODS, "may_write": may_write,
           "scope": selection.describe(notice["selection"])}
    if notice["state"] == DRAFT:
        rows, found = notices.affected_rows(store(), notice)
        ctx["preview"] = {"products": rows, "customers": found.customers, "not_found": found.not_found,
                          "other_model": found.other_model}
        if may_write:
            ctx["issue_form"] = issue_form or IssueForm(data={"rev": notice["_rev"]})
    else:
        ctx["progress"] = deliveries.progress(store(), notice, today)
        ctx["late"] = notices.ack_overdue(notice, today)
        ctx["pending"] = campaign.pending(store(), notice) if notice.get("onsite") else []
        if may_write and notice["state"] == ISSUED:
            choices = _customer_choices(notice)
            ctx["delivery_form"] = delivery_form or DeliveryForm(data={"at": input_now()})
            ctx["ack_form"] = ack_form or AckForm(data={"acknowledged_at": input_now()})
            ctx["delivery_form"].customer_id.choices = choices
            ctx["ack_form"].customer_id.choices = choices
            if notice.get("onsite") and ctx["pending"]:
                ctx["campaign_form"] = campaign_form or CampaignForm()
            ctx["complete_form"] = CompleteForm()
    ctx.update(describe=signing.describe, check_form=SignatureCheckForm())
    return render_template("technical_notices/show.html", **ctx), status


@bp.get("/<int:notice_id>")
@roles_required(*READERS)
def show(notice_id: int):
    return _show(_notice_or_404(notice_id))


@bp.post("/<int:notice_id>/issue")
@roles_required(*TQ_ROLES)
def issue(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = IssueForm()
    if not form.validate_on_submit():
        return _show(notice, issue_form=form, status=400)
    try:
        done = notices.issue(store(), notice_id, user_doc(), now(), expect_rev=int(form.rev.data))
    except DomainError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"技术通报 {done['number']} 已发布，PDF 已归档（受影响产品 {len(done['affected'])} 台）", "success")
    return redirect(url_for(".show", notice_id=notice_id))


def _customer_id(form) -> int:
    try:
        return int(form.customer_id.data or 0)
    except ValueError:
        return 0


@bp.post("/<int:notice_id>/delivery")
@roles_required(*TQ_ROLES)
def delivery(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = DeliveryForm()
    form.customer_id.choices = _customer_choices(notice)
    if form.validate_on_submit():
        try:
            deliveries.record_delivery(store(), notice_id, _customer_id(form),
                                       {"method": form.method.data, "at": form.at.data, "by": form.by.data,
                                        "note": form.note.data}, user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已记录送达", "success")
            return redirect(url_for(".show", notice_id=notice_id) + "#progress")
    return _show(notice, delivery_form=form, status=400)


@bp.post("/<int:notice_id>/acknowledgement")
@roles_required(*TQ_ROLES)
def acknowledgement(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = AckForm()
    form.customer_id.choices = _customer_choices(notice)
    if form.validate_on_submit():
        try:
            deliveries.record_acknowledgement(store(), notice_id, _customer_id(form),
                                              {"acknowledged_by": form.acknowledged_by.data,
                                               "acknowledged_at": form.acknowledged_at.data}, user_doc(), now())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash("已记录顾客确认", "success")
            return redirect(url_for(".show", notice_id=notice_id) + "#progress")
    return _show(notice, ack_form=form, status=400)


@bp.post("/<int:notice_id>/campaign")
@roles_required(*TQ_ROLES)
def run_campaign(notice_id: int):
    notice = _notice_or_404(notice_id)
    form = CampaignForm()
    if not form.validate_on_submit():
        return _show(notice, campaign_form=form, status=400)
    try:
        result = campaign.run(store(), notice_id, user_doc(), now())
    except DomainError as exc:
        flash(str(exc), "danger")
    else:
        flash(f"已建立现场服务案例 {len(result.created)} 个（已有 {len(result.existing)} 个，未重复建立）", "success")
    return redirect(url_for(".show", notice_id=notice_id) + "#progress")


@bp.post("/<int:notice_id>/complete")
@roles_required(*TQ_ROLES)
def complete(notice_id: int):
    _notice_or_404(notice_id)
    if CompleteForm().validate_on_submit():
        try:
            notices.complete(store(), notice_id, user_doc(), now())
        except DomainError as exc:
            flash(str(exc), "danger")
        else:
            flash("技术通报已标记为已完成", "success")
    return redirect(url_for(".show", notice_id=notice_id))


@bp.get("/<int:notice_id>/pdf")
@roles_required(*READERS)
def pdf(notice_id: int):
    notice = _notice_or_404(notice_id)
    if not notice.get("pdf"):
        abort(404)
    return file_response(document.archived_pdf(store(), notice), "application/pdf",
                         f"技术通报-{notice['number']}.pdf", f"technical-notice-{notice['number']}.pdf",
                         attachment=False, sha256=notice["pdf"]["sha256"])


@bp.post("/<int:notice_id>/check")
@roles_required(*READERS)
def check_signature(notice_id: int):
    """Check the archived PDF's signature again (the page shows the result stored at signing)."""
    notice = _notice_or_404(notice_id)
    if not notice.get("pdf") or not SignatureCheckForm().validate_on_submit():
        abort(400)
    try:
        result = document.check_signature(store(), notice)
    except (StorageError, OSError) as exc:
        flash(f"无法验证：{exc}", "danger")
    else:
        flash_signature_check("归档 PDF", result)
    return redirect(url_for(".show", notice_id=notice_id))


def _todo_rows(store_, user, now_, cal):
    """技质部: the issued notices with customers past the acknowledgement time."""
    if not notices.may_write(user):
        return []
    return [Row(title=f"技术通报 {n['number']}：{k} 个顾客单位逾期未确认收到", detail=n["title"],
                url=url_for("technical_notices.show", notice_id=n["id"]) + "#progress", due=n["ack_due"],
                status="overdue")
            for n, k in deliveries.overdue_notices(store_, now_.date())]


register(Area("technical_notices", "技术通报", 25, _todo_rows))
