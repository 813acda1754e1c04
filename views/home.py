"""The start page after login."""
from flask import Blueprint, render_template
from flask_login import login_required

from .common import store

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    s = store()
    counts = {"customers": s.count("customers"), "products": s.count("products")}
    return render_template("home.html", counts=counts)
