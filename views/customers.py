"""顾客单位: list with search and paging, create, edit, detail."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from forms.customers import CustomerForm, SearchForm
from records.catalog import customers, products
from records.core.errors import DomainError
from records.users.roles import CATALOG_EDITORS

from .common import Pager, actor, form_errors_to_fields, page_arg, roles_required, save_edit, store

bp = Blueprint("customers", __name__, url_prefix="/customers")
PER_PAGE = 50


@bp.get("/")
@login_required
def index():
    search = SearchForm(request.args)
    rows, total = customers.search(store(), search.q.data or "", page=page_arg(), per_page=PER_PAGE)
    return render_template("customers/index.html", rows=rows, search=search,
                           paging=Pager(page_arg(), PER_PAGE, total), editors=CATALOG_EDITORS)


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
    return render_template("customers/show.html", c=c, products=prods, editors=CATALOG_EDITORS)
