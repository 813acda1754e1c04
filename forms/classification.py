"""The fault's classification on the case forms (9.3): the fields the decide form (optional,
provisional), the closing forms (the confirmation, phone guidance solved, the VP's refusal:
required) and the ``classify`` form (技质部 after the close, forms.case_records) share; records.cases.classification
checks them.

The fields are made by ``classification_fields`` inside each form's class body, so that they come
where the form places them. Their choices (the company lists, the earlier cases of the same model)
are set by the action's preparer (views/case_forms.py).
"""
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from records.cases.classification import MAX_PART

from .base import CheckboxList, text_field


def classification_fields(note: str) -> tuple:
    """fault_category, cause_category, part, repeat_fault, repeat_of (``note`` says whether required)."""
    return (SelectField(f"故障类别（9.3，{note}）", validators=[Optional()]),
            SelectField(f"原因类别（9.3，{note}）", validators=[Optional()]),
            text_field("故障零部件（可选）", required=False, max_len=MAX_PART, area=False),
            BooleanField("重复故障：与同型号、同故障类别的早先案例重复（9.3）"),
            CheckboxList("与之重复的早先案例", validators=[Optional()],
                         description="系统列出同型号、已分类的早先案例；只能选择同一故障类别的"))
