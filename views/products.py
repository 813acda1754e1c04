"""产品: delivered units — list with search and paging, create, edit, detail with warranty."""
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from forms.base import options
from forms.customers import ProductForm, SearchForm
from records.calendar.workdays import today_local
from records.cases import lookup as case_lookup
from records.catalog import customers, products
from records.core.errors import DomainError
from records.users.roles import CATALOG_EDITORS

from .common import Pager, actor, form_errors_to_fields, page_arg, roles_required, save_edit, store, user_doc
from .customers import ALL_ROWS, followup_rows
from .exports import export, export_format

bp = Blueprint("products", __name__, url_prefix="/products")
PER_PAGE = 50


def _customer_choices():
    rows = sorted(store().scan(customers.TABLE), key=lambda c: c["name"])
    return options([(0, "— 请选择 —")] + [(c["id"], c["name"]) for c in rows])


def _customer_names() -> dict[int, str]:
    return {c["id"]: c["name"] for c in store().scan(customers.TABLE)}


@bp.get("/")
@login_required
def index():
    search = SearchForm(request.args)
    today = today_local()
    fmt = export_format()
    if fmt:  # every matching row, the page's columns (issue 14)
        rows, _ = products.search(store(), search.q.data or "", per_page=ALL_ROWS)
        names = _customer_names()
        return export("产品", ["产品编号", "型号", "名称", "顾客单位", "交付日期", "质保", "质保至", "可靠性产品"],
                      ([p["serial_no"], p["model"], p["name"], names.get(p["customer_id"], "?"), p["delivery_date"],
                        "在保" if (w := products.warranty(p, today)).in_warranty else "过保", w.last_day.isoformat(),
                        "是" if p.get("reliability") else ""] for p in rows), fmt)
    rows, total = products.search(store(), search.q.data or "", page=page_arg(), per_page=PER_PAGE)
    for p in rows:
        p["warranty"] = products.warranty(p, today)
    return render_template("products/index.html", rows=rows, search=search, names=_customer_names(),
                           paging=Pager(page_arg(), PER_PAGE, total), editors=CATALOG_EDITORS)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def new():
    form = ProductForm()
    form.customer_id.choices = _customer_choices()
    if request.method == "GET" and request.args.get("customer_id", "").isdigit():
        form.customer_id.data = int(request.args["customer_id"])
    if form.validate_on_submit():
        try:
            p = products.create_product(store(), form.to_data(), actor())
        except DomainError as exc:
            form_errors_to_fields(form, exc)
        else:
            flash(f"已登记产品 {p['serial_no']}", "success")
            return redirect(url_for(".show", product_id=p["id"]))
    return render_template("products/form.html", form=form, title="登记交付产品")


@bp.route("/<int:product_id>/edit", methods=["GET", "POST"])
@roles_required(*CATALOG_EDITORS)
def edit(product_id: int):
    p = store().get(products.TABLE, product_id) or abort(404)
    form = ProductForm(data={**p, "rev": p["_rev"], "delivery_date": date.fromisoformat(p["delivery_date"])})
    form.customer_id.choices = _customer_choices()
    if form.validate_on_submit():
        saved = save_edit(
            form, lambda rev: products.update_product(store(), product_id, form.to_data(), actor(), expect_rev=rev),
            "该产品", url_for(".edit", product_id=product_id), url_for(".show", product_id=product_id))
        if saved:
            return saved
    return render_template("products/form.html", form=form, title=f"编辑产品 {p['serial_no']}")


@bp.get("/<int:product_id>")
@login_required
def show(product_id: int):
    p = store().get(products.TABLE, product_id) or abort(404)
    c = store().get(customers.TABLE, p["customer_id"])
    cases = case_lookup.cases_of(store(), user_doc(), product=p)
    parts = [{**part, "number": r["number"], "date": r["date"], "case_id": r["case_id"]}
             for r in cases for part in r["parts"]]
    return render_template("products/show.html", p=p, c=c, warranty=products.warranty(p, today_local()),
                           editors=CATALOG_EDITORS, cases=cases, parts=parts,
                           calls=followup_rows(p["customer_id"]) if c else [])
