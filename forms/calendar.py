"""Forms of the working-calendar page (issue 3; 作息时间, issue 15)."""
from wtforms import RadioField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length
from wtforms.widgets import DateInput

from records.calendar.corrections import MAX_REASON_LENGTH, CalendarError, parse_day
from records.calendar.work_periods import MAX_REASON_LENGTH as MAX_PERIODS_NOTE

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


class RangeCorrectionForm(Form):
    """Correct every day from ``start`` to ``end`` the same way (issue 15)."""

    start = StringField("开始日期", widget=DateInput(), validators=[DataRequired("请填写开始日期（YYYY-MM-DD）")])
    end = StringField("结束日期（含）", widget=DateInput(), validators=[DataRequired("请填写结束日期（YYYY-MM-DD）")])
    is_workday = RadioField("这些日期均为", choices=DAY_KINDS, invalid_choice_message="请选择这些日期是工作日还是休息日")
    reason = StringField("原因", validators=[
        DataRequired("请填写校正原因（例如：公司停工）"),
        Length(max=MAX_REASON_LENGTH, message=f"原因不能超过 {MAX_REASON_LENGTH} 个字")])
    submit = SubmitField("校正这段日期")

    @property
    def workday_value(self) -> bool:
        return self.is_workday.data == "1"


LIST_KINDS = options([("", "按每行标注（每行须写「班」或「休」）"), ("1", "工作日（上班）"), ("0", "休息日")])


class ListCorrectionForm(Form):
    """Paste a list of dates, one a line, optionally 班/休 and a note (a year's 调休 at once)."""

    text = TextAreaField("日期清单", validators=[DataRequired("请粘贴日期清单，每行一个日期")],
                         description="每行一个日期，可加「班」或「休」和备注，例如：2027-02-06 班 春节调休上班；"
                                     "任何一行有误则全部不保存。",
                         render_kw={"rows": 8})
    is_workday = RadioField("未注明班/休的日期为", choices=LIST_KINDS, default="",
                            invalid_choice_message="请选择未注明的日期是工作日还是休息日")
    reason = StringField("原因（未写备注的行使用）", validators=[
        Length(max=MAX_REASON_LENGTH, message=f"原因不能超过 {MAX_REASON_LENGTH} 个字")])
    submit = SubmitField("保存清单中的校正")

    @property
    def workday_value(self) -> bool | None:
        return {"1": True, "0": False}.get(self.is_workday.data)


class WorkPeriodsForm(Form):
    """The working periods from a date on (issue 15, 作息时间). Field names match the ``field`` of
    records.calendar.work_periods' errors; the periods are typed as HH:MM–HH:MM, one a field."""

    effective_from = StringField("生效日期（须晚于今天）", widget=DateInput(),
                                 validators=[DataRequired("请填写生效日期（YYYY-MM-DD）")])
    period1 = StringField("第 1 个时段", description="例如 08:30–12:00",
                          validators=[DataRequired("请至少填写一个工作时段（例如 08:30–12:00）")])
    period2 = StringField("第 2 个时段（可空）", description="例如 13:30–17:30")
    period3 = StringField("第 3 个时段（可空）")
    periods_note = StringField("说明（可空）", description="例如：夏季作息",
                               validators=[Length(max=MAX_PERIODS_NOTE, message=f"说明不能超过 {MAX_PERIODS_NOTE} 个字")])
    periods_submit = SubmitField("保存作息时间")

    @property
    def period_texts(self) -> list[str]:
        return [self.period1.data or "", self.period2.data or "", self.period3.data or ""]
