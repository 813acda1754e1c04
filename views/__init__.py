"""Blueprints, one per workflow area; ``register`` wires them into the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import admin, auth, calendar, cases, customers, filters, history, home, ledger, nav, products

    auth.login_manager.init_app(app)
    filters.init_app(app)
    nav.init_app(app)
    for module in (auth, home, admin, customers, products, history, calendar, ledger, cases):
        app.register_blueprint(module.bp)
    from . import followups, notifications  # issue 6: follow-up calls, inbox and mail settings
    for module in (followups, notifications):
        app.register_blueprint(module.bp)
    from . import service_forms  # issue 5: the 技术服务单 PDF, scans and tablet signing
    app.register_blueprint(service_forms.bp)
