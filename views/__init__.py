"""Blueprints, one per workflow area; ``register`` wires them into the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        admin,
        archive,
        auth,
        calendar,
        case_notes,
        case_report,
        cases,
        categories,
        costs,
        customers,
        exports,
        filters,
        fines,
        followups,
        history,
        home,
        lookup,
        mail_soon,
        material_purchases,  # noqa: F401  (the purchase pages of the blueprint materials)
        materials,
        nav,
        notifications,
        preventive,
        product_import,
        products,
        quarterly,
        reports,
        returns,
        service_forms,
        statistics,
        suppliers,
        technical_notices,
    )

    auth.login_manager.init_app(app)
    filters.init_app(app)
    exports.init_app(app)
    nav.init_app(app)
    mail_soon.init_app(app)
    # One blueprint per line: each area adds its own line.
    for module in (
        auth,
        home,
        admin,
        customers,
        products,
        product_import,
        history,
        calendar,
        cases,
        case_notes,
        lookup,
        service_forms,
        followups,
        notifications,
        reports,
        fines,
        archive,
        case_report,
        costs,
        materials,
        suppliers,
        quarterly,
        categories,
        preventive,
        statistics,
        technical_notices,
        returns,
    ):
        app.register_blueprint(module.bp)
