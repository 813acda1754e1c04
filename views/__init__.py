"""Blueprints, one per workflow area; ``register`` wires them into the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        admin,
        assessments,
        auth,
        calendar,
        case_notes,
        cases,
        customers,
        filters,
        followups,
        history,
        home,
        lookup,
        mail_soon,
        nav,
        notifications,
        product_import,
        products,
        service_forms,
    )

    auth.login_manager.init_app(app)
    filters.init_app(app)
    nav.init_app(app)
    mail_soon.init_app(app)
    for module in (auth, home, admin, customers, products, product_import, history, calendar, cases, case_notes,
                   lookup, service_forms, followups, notifications, assessments):
        app.register_blueprint(module.bp)
