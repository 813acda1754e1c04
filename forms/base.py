"""The base of every form: WTForms' own messages in Chinese.

Our validators carry Chinese messages; this covers the ones WTForms adds by itself (e.g. an
invalid choice or a malformed number), which would otherwise appear in English.
"""
from flask_wtf import FlaskForm
from wtforms import SelectChoice


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
