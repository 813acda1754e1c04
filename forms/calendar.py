"""Forms of the working-calendar page (issue 3)."""
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from records.calendar_store import MAX_REASON_LENGTH

DAY_KINDS = [("1", "工作日（上班）"), ("0", "休息日")]


class CorrectionForm(FlaskForm):
    """Correct one date. Field names match the ``field`` of records.calendar_store's errors."""

    day = DateField("日期", format="%Y-%m-%d",
                    validators=[InputRequired("请填写日期（YYYY-MM-DD）")])
    is_workday = RadioField("该日为", choices=DAY_KINDS,
                            validators=[InputRequired("请选择该日是工作日还是休息日")])
    reason = StringField("原因", validators=[
        DataRequired("请填写校正原因（例如：国务院公布的放假安排、公司停工）"),
        Length(max=MAX_REASON_LENGTH, message=f"原因不能超过 {MAX_REASON_LENGTH} 个字")])
    submit = SubmitField("保存校正")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # WTForms' stock message for an unparsable date is English.
        self.day.validators[0].message = "请填写日期（YYYY-MM-DD）"

    @property
    def workday_value(self) -> bool:
        return self.is_workday.data == "1"


class RemoveCorrectionForm(FlaskForm):
    """A bare POST form (CSRF token only) for the remove buttons."""

    submit = SubmitField("撤销")
