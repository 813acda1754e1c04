"""The base of every form: WTForms' own messages in Chinese.

Our validators carry Chinese messages; this covers the ones WTForms adds by itself (e.g. an
invalid choice or a malformed number), which would otherwise appear in English.
"""
from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta:
        locales = ("zh",)
