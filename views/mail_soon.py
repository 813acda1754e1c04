"""The mail of a request's notices leaves right after its commit (``records.notifications.courier``).

Before a request that may change data the pending mail is noted; after it, the new pending mail
is handed to the app's ``Courier`` (``app.extensions["aftersales.courier"]``): a background thread
in production, at once under TESTING (config ``MAIL_AFTER_COMMIT``: "thread", "sync" or "off").
"""
from __future__ import annotations

from flask import Flask, g, request

from records.notifications.courier import Courier

from .common import store

CHANGES = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    mode = app.config.get("MAIL_AFTER_COMMIT") or ("sync" if app.testing else "thread")
    courier = Courier(app.extensions["aftersales.store"], mode)
    app.extensions["aftersales.courier"] = courier

    @app.before_request
    def note_pending():
        if request.method in CHANGES and courier.mode != "off":
            g.mail_pending_before = courier.pending()

    @app.after_request
    def send_new_mail(resp):
        before = g.pop("mail_pending_before", None)
        if before is not None and store() is courier.store:
            new = courier.pending() - before
            if new:
                courier.send(new)
        return resp
