"""Forms of the working-calendar page (issue 3)."""
from wtforms import RadioField, StringField, SubmitField, ValidationError
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from records.calendar.corrections import MAX_REASON_LENGTH, CalendarError, parse_day

from .base import Form, options

DAY_KINDS = options([("1", "工作日（上班）"), ("0", "休息日")])


class CorrectionForm(Form):
    """Correct one date. Field names match the ``field`` of records.calendar.corrections' errors.

    ``day`` is a string field shown as a date input, so that whatever was typed comes back
    unchanged beside its (Chinese) error message.
    """

    day = StringField("日期", widget=DateInput(),
                      validators=[DataRequired("请填写日期（YYYY-MM-DD）")])
    is_workday = RadioField("该日为", choices=DAY_KINDS,
                            invalid_choice_message="请选择该日是工作日还是休息日")
    reason = StringField("原因", validators=[
        DataRequired("请填写校正原因（例如：国务院公布的放假安排、公司停工）"),
        Length(max=MAX_REASON_LENGTH, message=f"原因不能超过 {MAX_REASON_LENGTH} 个字")])
    submit = SubmitField("保存校正")

    def validate_day(self, field):
        try:
            parse_day(field.data)
        except CalendarError as exc:
            raise ValidationError(str(exc)) from None

    @property
    def workday_value(self) -> bool:
        return self.is_workday.data == "1"


class RemoveCorrectionForm(Form):
    """A bare POST form (CSRF token only) for the remove buttons."""

    submit = SubmitField("撤销")
