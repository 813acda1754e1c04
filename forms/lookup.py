"""The lookup of a case any employee may make (6.1.1): one box, read by records.cases.lookup."""
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from records.cases.lookup import MIN_PHONE_DIGITS

from .base import Form


class LookupForm(Form):
    class Meta:
        csrf = False  # GET: a lookup changes nothing

    q = StringField("案例编号、电话或顾客单位", validators=[DataRequired("请输入案例编号、电话号码或顾客单位名称"),
                                                   Length(max=100, message="不能超过 100 个字")],
                    description=f"完整的案例编号（如 FW2026-0001）或技术服务单编号；电话号码中至少 {MIN_PHONE_DIGITS} 位数字；"
                                "或顾客单位名称的一部分")
    submit = SubmitField("查询")
