"""顾客单位: list with search and paging, create, edit, detail (with its products, its cases and
its follow-up calls)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.customers import CustomerForm, SearchForm
from records.cases import flow
from records.cases import lookup as case_lookup
from records.cases.vocab import TABLE as CASES
from records.catalog import customers, products
from records.core.errors import DomainError
from records.followups import tasks as followups
from records.users.accounts import display_names
from records.users.roles import CATALOG_EDITORS, FOLLOWUP_ROLES

from .common import Pager, actor, form_errors_to_fields, now, page_arg, roles_required, save_edit, store, user_doc
from .exports import export, export_format

bp = Blueprint("customers", __name__, url_prefix="/customers")
PER_PAGE = 50
ALL_ROWS = 10**9  # an export's "page": every row


@bp.get("/")
@login_required
def index():
    search = SearchForm(request.args)
    fmt = export_format()
    if fmt:  # every matching row, the page's columns (issue 14)
        rows, _ = customers.search(store(), search.q.data or "", per_page=ALL_ROWS)
        return export("顾客单位", ["单位名称", "地址", "路程（公里）", "联系人"],
                      ([c["name"], c.get("address", ""), _number(c.get("distance_km")),
                        "；".join(f"{x['name']} {x['phone']}" for x in c.get("contacts") or [])] for c in rows), fmt)
    rows, total = customers.search(store(), search.q.data or "", page=page_arg(), per_page=PER_PAGE)
    return render_template("customers/index.html", rows=rows, search=search,
                           paging=Pager(page_arg(), PER_PAGE, total), editors=CATALOG_EDITORS)


def _number(value):
    """A number as the page shows it ('%g'): 150.0 → 150."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def new():
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            c = customers.create_customer(store(), form.to_data(), actor())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已创建顾客单位 {c['name']}", "success")
            return redirect(url_for(".show", customer_id=c["id"]))
    return render_template("customers/form.html", form=form, title="新建顾客单位")


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def edit(customer_id: int):
    c = store().get(customers.TABLE, customer_id) or abort(404)
    form = CustomerForm(data={**c, "rev": c["_rev"]})
    if form.validate_on_submit():
        saved = save_edit(
            form, lambda rev: customers.update_customer(store(), customer_id, form.to_data(), actor(), expect_rev=rev),
            "该顾客单位", url_for(".edit", customer_id=customer_id), url_for(".show", customer_id=customer_id))
        if saved:
            return saved
    return render_template("customers/form.html", form=form, title=f"编辑顾客单位 {c['name']}")


@bp.get("/<int:customer_id>")
@login_required
def show(customer_id: int):
    c = store().get(customers.TABLE, customer_id) or abort(404)
    prods, _ = products.search(store(), customer_id=customer_id, per_page=1000)
    cases = case_lookup.cases_of(store(), user_doc(), customer_id=customer_id)
    return render_template("customers/show.html", c=c, products=prods, editors=CATALOG_EDITORS, cases=cases,
                           calls=followup_rows(customer_id))


def followup_rows(customer_id: int) -> list[dict]:
    """The customer's follow-up calls (8.1, 8.2), newest period first: kind, period, due, status,
    when and by whom called, the case raised (with ``case_id`` when the user may read it), and
    ``task_id`` when the user may open the call (技质部, as the follow-up pages)."""
    s, user = store(), user_doc()
    names = display_names(s)
    may_open = current_user.has_any(*FOLLOWUP_ROLES)
    rows = []
    for t in followups.list_tasks(s, now(), customer_id=customer_id):
        call = t.get("call") or {}
        case = s.get(CASES, call["case_id"]) if call.get("case_id") else None
        rows.append({"kind": followups.KIND_NAMES.get(t["kind"], t["kind"]), "clause": t.get("clause"),
                     "period": t["period"], "due": t["due"],
                     "status": followups.STATUS_NAMES.get(t["state"], t["state"]),
                     "called_at": call.get("called_at"), "called_by": names.get(call.get("called_by"), call.get("called_by")),
                     "case_number": call.get("case_number"),
                     "case_id": case["id"] if case and flow.may_read(case, user) else None,
                     "task_id": t["id"] if may_open else None})
    rows.sort(key=lambda r: (r["period"], r["due"]), reverse=True)
    return rows
