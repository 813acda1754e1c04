"""Widgets: ``LongSelect``, a select that renders hundreds of options cheaply; ``CheckboxTiles``,
a list of checkboxes as large touch tiles with a note under each choice.

WTForms' own Select builds every ``<option>`` through ``html_params`` and a Markup per option
(about 0.15 ms an option): the 300 customers of a filter bar were half the CPU time of the case
list and the follow-up list. This one writes plain options as one string, escaping each value
and label with ``html.escape``, in WTForms' markup (``<option selected value="…">``); option
groups, several choices, or options with attributes of their own go the ordinary way.
"""
from __future__ import annotations

from html import escape as html_escape

from markupsafe import Markup
from wtforms.widgets import Select, html_params


def escape(text: str) -> str:
    """As markupsafe escapes (the same entities), without a Markup object per call."""
    return html_escape(text).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")


class LongSelect(Select):
    def __call__(self, field, **kwargs):
        choices = None if self.multiple or field.has_groups() else field.iter_choices()
        if choices is None or any(c.render_kw for c in choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = getattr(field.flags, flag)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for c in choices:
            value = str(c.value)
            label = c.label if c.label not in (None, "") else value
            selected = "selected " if c.selected else ""
            html.append(f'<option {selected}value="{escape(value)}">{escape(str(label))}</option>')
        html.append("</select>")
        return Markup("".join(html))


class CheckboxTiles:
    """A checkbox list (``forms.base.CheckboxList``) as tiles a finger can hit (at least 44 px,
    views/static/app.css「触控」): per choice a real checkbox (keyboard and screen readers work as
    usual) and its label; the whole tile toggles it. ``field.notes`` ({value: text}, set by the
    form's preparer) adds a line under a choice, tied to its checkbox by ``aria-describedby``
    (e.g. a technician's open cases), so that the label stays the choice's name."""

    def __call__(self, field, **kwargs):
        kwargs.pop("class", None), kwargs.pop("class_", None)  # the page's form-control: not for a group
        kwargs.setdefault("id", field.id)
        notes = getattr(field, "notes", None) or {}
        html = [f'<div {html_params(class_="touch-tiles", role="group", **{"aria-label": field.label.text}, **kwargs)}>']
        for option in field:
            note = notes.get(option._value()) if hasattr(option, "_value") else None
            attrs = {"class": "touch-tile-input"}
            if note:
                attrs["aria-describedby"] = f"{option.id}-note"
            html.append('<div class="touch-tile">' + str(option(**attrs))
                        + f'<label class="touch-tile-label" for="{escape(option.id)}">{escape(str(option.label.text))}</label>'
                        + (f'<span class="touch-tile-note" id="{escape(option.id)}-note">{escape(note)}</span>' if note else "")
                        + "</div>")
        html.append("</div>")
        return Markup("".join(html))
