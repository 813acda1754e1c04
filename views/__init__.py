"""Blueprints, one per workflow area; ``register`` wires them into the app."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import admin, auth, customers, filters, history, home, nav, products

    auth.login_manager.init_app(app)
    filters.init_app(app)
    nav.init_app(app)
    for module in (auth, home, admin, customers, products, history):
        app.register_blueprint(module.bp)
