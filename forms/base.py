"""The base of every form: WTForms' own messages in Chinese.

Our validators carry Chinese messages; this covers the ones WTForms adds by itself (e.g. an
invalid choice or a malformed number), which would otherwise appear in English. Also the
choices helper and the fields several forms share (checkbox list, date-time, text, a
decimal number, the record's revision).
"""
import decimal

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms import DecimalField as WTFormsDecimalField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

DT_FORMAT = "%Y-%m-%dT%H:%M"  # a datetime-local input's value
NOT_A_NUMBER = "请输入数字"
BAD_REVISION = "页面数据无效（缺少或损坏的版本号），请刷新页面后重新填写"


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # A hidden field (the revision) has no place beside it on the page: its refusal is the form's.
        for field in self:
            if field.type == "HiddenField":
                self.form_errors.extend(e for e in field.errors if e not in self.form_errors)
        return ok


class DecimalField(WTFormsDecimalField):
    """WTForms' DecimalField for finite numbers only: ``sNaN``, ``NaN`` and ``Infinity`` parse as
    decimals but are no amount or distance (sNaN even made the range check raise). Every form
    with a decimal number uses this one."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, decimal.Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.invalid_value_message or NOT_A_NUMBER)


def _revision(required: bool):
    def check(form, field):
        value = str(field.data if field.data is not None else "").strip()
        if not value and not required:
            return
        if not (value.isascii() and value.isdigit()) or len(value) > 9:
            raise StopValidation(BAD_REVISION)
    return check


def rev_field(required: bool = False) -> HiddenField:
    """The revision of the record the form was made on (a hidden field, for the stale check):
    digits, and present when ``required`` (a form that only ever edits). A bad one is the
    form's error (no 500); ``int(form.rev.data or 0)`` is then safe."""
    return HiddenField(validators=[_revision(required)])


def options(pairs) -> list[SelectChoice]:
    """Choices for a SelectField / RadioField from (value, label) pairs or a {value: label} dict.

    WTForms 3.3 deprecates plain tuples as choices (removed in 3.4); SelectChoice is the
    supported form. Views use this too when they fill choices from the store.
    """
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class CheckboxList(SelectMultipleField):
    """Several choices as a list of checkboxes (roles, technicians)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # WTForms' own message for this is untranslated (fuzzy in its zh catalogue)
        known = {choice.value for choice in self.choices}
        if any(v not in known for v in self.data or ()):
            raise ValidationError("包含无效的选项")


def datetime_field(label: str, required: bool = True, description: str = "") -> DateTimeLocalField:
    """A date and time to the minute (a datetime-local input), with its message when missing."""
    validators = [InputRequired(f"请填写{label}")] if required else [Optional()]
    return DateTimeLocalField(label, format=DT_FORMAT, validators=validators, description=description)


def text_field(label: str, required: bool = True, max_len: int = 4000, area: bool = True, description: str = ""):
    """A text (a text area, or one line with ``area=False``) with its messages when missing or too long."""
    validators = [DataRequired(f"请填写{label}")] if required else [Optional()]
    validators.append(Length(max=max_len, message=f"{label}不能超过 {max_len} 个字"))
    cls = TextAreaField if area else StringField
    return cls(label, validators=validators, description=description)


class SignatureCheckForm(Form):
    """「重新验证签章」 on a page offering a signed PDF (issue 18): only its CSRF token."""
    submit = SubmitField("重新验证签章")
