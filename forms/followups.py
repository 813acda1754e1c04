"""Forms of the follow-up calls (8.1, 8.2): the list filter, creating the period's tasks, recording
a call or an attempt, re-assigning."""
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from records.followups.calls import ATTEMPT_OUTCOMES
from records.followups.tasks import CASE_TYPES, STATUS_NAMES

from .base import Form, options, rev_field
from .widgets import LongSelect


class FilterForm(Form):
    class Meta:
        csrf = False  # GET filter: changes nothing

    engineer = SelectField("工程师", choices=[], validate_choice=False)
    customer = SelectField("顾客单位", widget=LongSelect(), choices=[], validate_choice=False)
    quarter = StringField("季度", validators=[Optional(), Regexp(r"^\s*\d{4}([Qq][1-4])?\s*$", message="格式如 2026Q1 或 2026")],
                          render_kw={"placeholder": "2026Q1"})
    status = SelectField("状态", choices=options([("", "全部")] + list(STATUS_NAMES.items())), validate_choice=False)


class CallForm(Form):
    rev = rev_field(required=True)
    called_at = DateTimeLocalField("通话时间", format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired("请填写通话时间")])
    contact_name = StringField("被访人", validators=[DataRequired("请填写被访人"), Length(max=40)])
    contact_phone = StringField("电话", validators=[DataRequired("请填写电话"), Length(max=40)])
    usage = TextAreaField("产品使用情况", validators=[DataRequired("请填写产品使用情况"), Length(max=2000)])
    guidance = TextAreaField("保养和维护指导（8.1）", validators=[Optional(), Length(max=2000)])
    needs = TextAreaField("顾客的服务需求（8.2）", validators=[Optional(), Length(max=2000)])
    problems = TextAreaField("顾客反映的问题", validators=[Optional(), Length(max=2000)])
    create_case = BooleanField("由反映的问题建立服务案例")
    case_type = SelectField("案例类型", choices=options([("", "—")] + list(CASE_TYPES.items())), validate_choice=False)
    serial_no = SelectField("产品（质量问题必选）", choices=options([("", "—")]), validate_choice=False)
    complete_partner = BooleanField("同时完成")  # label set by the page: the other kind's call of the period
    submit = SubmitField("保存回访记录")

    def to_data(self) -> dict:
        return {
            "called_at": self.called_at.data, "contact_name": self.contact_name.data,
            "contact_phone": self.contact_phone.data, "usage": self.usage.data, "guidance": self.guidance.data,
            "needs": self.needs.data, "problems": self.problems.data, "create_case": self.create_case.data,
            "case_type": self.case_type.data, "serial_no": self.serial_no.data,
            "complete_partner": bool(self.complete_partner.data) if "complete_partner" in self else False,
        }


class AttemptForm(Form):
    """A call that did not complete the task: 未接通, or 改期 with the new date."""
    rev = rev_field(required=True)
    attempted_at = DateTimeLocalField("联系时间", format="%Y-%m-%dT%H:%M", validators=[DataRequired("请填写联系时间")])
    outcome = RadioField("结果", choices=options(list(ATTEMPT_OUTCOMES.items())), validators=[DataRequired("请选择结果")])
    new_date = DateField("改期至（改期时必填）", validators=[Optional()])
    note = StringField("说明", validators=[Optional(), Length(max=500)])
    submit = SubmitField("记录联系尝试（不完成任务）")

    def to_data(self) -> dict:
        return {"attempted_at": self.attempted_at.data, "outcome": self.outcome.data,
                "new_date": self.new_date.data, "note": self.note.data}


class CreateTasksForm(Form):
    """技质部经理 creates the tasks of the current quarter (8.1) and year (8.2) now."""
    submit = SubmitField("生成本期回访任务")


class ReassignForm(Form):
    rev = rev_field(required=True)
    assignee = SelectField("改派给", choices=[], validate_choice=False)
    submit = SubmitField("改派")
