"""The base of every form: WTForms' own messages in Chinese.

Our validators carry Chinese messages; this covers the ones WTForms adds by itself (e.g. an
invalid choice or a malformed number), which would otherwise appear in English.
"""
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)


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
