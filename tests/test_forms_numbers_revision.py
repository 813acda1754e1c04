"""Hostile numbers and revisions in forms (issue 11, "Hostile files and input").

``sNaN`` in a decimal field made WTForms' range check raise (a 500); NaN and Infinity are no
amount either: every decimal field of every form (forms/base.py's DecimalField) refuses them
beside the field. A non-numeric hidden ``rev`` was a 500; an empty one let a follow-up
reassignment skip the stale check: now the form's error, and the reassignment needs it.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import DecimalField as WTFormsDecimalField
from wtforms import FieldList, FormField, SelectField, SelectMultipleField

import forms
from forms.base import BAD_REVISION, NOT_A_NUMBER, Form
from records.catalog import customers, products
from records.followups import tasks as followup_tasks
from records.jobs.followup_calls import run_followups

HOSTILE = ["sNaN", "NaN", "-sNaN", "Infinity", "-Infinity", "inf"]


def _form_classes() -> list[type]:
    out = []
    for info in pkgutil.iter_modules(forms.__path__):
        module = importlib.import_module(f"forms.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Form) and cls.__module__ == module.__name__:
                out.append(cls)
    return out


def _decimal_names(form) -> list[str]:
    """The input names of every decimal field of a bound form, FieldLists and sub-forms included."""
    names = []
    for field in form:
        if isinstance(field, WTFormsDecimalField):
            names.append(field.name)
        elif isinstance(field, FieldList):
            if field.entries:
                names += _decimal_names_of_entry(field.entries[0])
            elif issubclass(field.unbound_field.field_class, WTFormsDecimalField):
                names.append(f"{field.name}-0")
        elif isinstance(field, FormField):
            names += _decimal_names(field.form)
    return names


def _decimal_names_of_entry(entry) -> list[str]:
    if isinstance(entry, WTFormsDecimalField):
        return [entry.name]
    return _decimal_names(entry.form) if isinstance(entry, FormField) else []


def _give_choices(form) -> None:
    """Choices the views fill from the store: none here, but a list (WTForms refuses None)."""
    for field in form:
        if isinstance(field, (SelectField, SelectMultipleField)) and field.choices is None:
            field.choices = []
        elif isinstance(field, FormField):
            _give_choices(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    _give_choices(entry.form)


def _decimal_cases() -> list:
    app = _bare_app()
    cases = []
    with app.test_request_context():
        for cls in _form_classes():
            for name in _decimal_names(cls(formdata=None)):
                cases += [pytest.param(cls, name, value, id=f"{cls.__name__}.{name}={value}") for value in HOSTILE]
    return cases


def _bare_app():
    from flask import Flask
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False, WTF_I18N_ENABLED=False)
    return app


def test_the_walk_finds_the_decimal_fields():
    found = {p.id.split("=")[0] for p in _decimal_cases()}
    assert {"CustomerForm.distance_km", "QuoteForm.service_fee", "PriceForm.prices-0", "TabletForm.amount"} <= found


@pytest.mark.parametrize("cls,name,value", _decimal_cases())
def test_a_non_finite_number_is_the_fields_error(cls, name, value):
    with _bare_app().test_request_context(method="POST"):
        form = cls(formdata=MultiDict({name: value}))
        _give_choices(form)
        assert form.validate() is False  # no exception: the 500 was an InvalidOperation/ValueError here
        field = form
        for part in name.split("-"):
            holder = field.form if isinstance(field, FormField) else field
            field = field[int(part)] if part.isdigit() else holder[part]
        assert NOT_A_NUMBER in field.errors, field.errors
        assert field.data is None
        assert f'value="{value}"' in field()  # the typed value is kept, and the page renders


def test_customer_page_answers_a_non_finite_distance_beside_the_field(client, auth, store):
    value = "sNaN"  # the page's end of the walk above
    auth.login("engineer")
    resp = client.post("/customers/new", data={"name": "非数单位", "distance_km": value})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert NOT_A_NUMBER in html and f'value="{value}"' in html
    assert customers.by_name(store, "非数单位") is None


def test_a_bad_revision_is_a_form_error_not_a_500(client, auth, store):
    c = customers.create_customer(store, {"name": "版本单位", "distance_km": 10}, "test")
    auth.login("engineer")
    for rev in ("abc", "１", "9" * 30):  # "１" (full width) is a digit to int(), not a revision
        resp = client.post(f"/customers/{c['id']}/edit", data={"rev": rev, "name": "改名", "distance_km": "10"})
        assert resp.status_code == 200 and BAD_REVISION in resp.get_data(as_text=True), rev
        assert store.get(customers.TABLE, c["id"])["name"] == "版本单位"


# --- follow-up reassignment: the revision is required ------------------------------------------
@pytest.fixture
def open_task(store):
    cid = customers.create_customer(store, {"name": "回访单位", "distance_km": 10, "contacts": [
        {"name": "联系人", "phone": "010-1234"}]}, "test")["id"]
    products.create_product(store, {"model": "M", "name": "产品", "serial_no": "R-1", "customer_id": cid,
                                    "delivery_date": "2024-05-01", "warranty_months": 24, "reliability": False}, "test")
    run_followups(store, datetime(2026, 2, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")), send_mail=False)
    return next(t for t in store.scan(followup_tasks.TABLE) if t["customer_id"] == cid)


def test_reassignment_without_a_valid_revision_is_refused(client, auth, store, open_task):
    other = "manager" if open_task["assignee"] != "manager" else "engineer"
    auth.login("manager")
    for rev in (None, "", "0", "abc"):  # the empty and 0 ones skipped the stale check
        data = {"assignee": other} if rev is None else {"rev": rev, "assignee": other}
        resp = client.post(f"/followups/{open_task['id']}/reassign", data=data, follow_redirects=True)
        assert resp.status_code in (200, 400, 409), rev
        after = store.get(followup_tasks.TABLE, open_task["id"])
        assert after["assignee"] == open_task["assignee"] and after["_rev"] == open_task["_rev"], rev
        text = resp.get_data(as_text=True)
        assert BAD_REVISION in text or "已被他人修改" in text, rev


def test_reassignment_with_the_revision_works_once(client, auth, store, open_task):
    other = "manager" if open_task["assignee"] != "manager" else "engineer"
    auth.login("manager")
    data = {"rev": str(open_task["_rev"]), "assignee": other}
    client.post(f"/followups/{open_task['id']}/reassign", data=data)
    assert store.get(followup_tasks.TABLE, open_task["id"])["assignee"] == other
    again = client.post(f"/followups/{open_task['id']}/reassign", data={**data, "assignee": open_task["assignee"]},
                        follow_redirects=True)
    assert "已被他人修改" in again.get_data(as_text=True)  # the same page's revision is stale now
    assert store.get(followup_tasks.TABLE, open_task["id"])["assignee"] == other


def test_the_domain_reassignment_needs_the_revision(store, open_task):
    with pytest.raises(TypeError):
        followup_tasks.reassign(store, open_task["id"], "manager", "manager")
