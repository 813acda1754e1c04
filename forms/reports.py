"""Forms of the assessments (9.1 technicians per quarter, 9.5 after-sales managers per month):
the period filters and the opinion / evaluation with its grade."""
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import Optional, Regexp

from records.reports.assessments import GRADES

from .base import CheckboxList, Form, options, text_field


class QuarterForm(Form):
    class Meta:
        csrf = False  # GET filter: changes nothing

    quarter = StringField("季度", validators=[Optional(), Regexp(r"^\s*\d{4}[Qq][1-4]\s*$", message="格式如 2026Q3")],
                          render_kw={"placeholder": "2026Q3"})


class MonthForm(Form):
    class Meta:
        csrf = False  # GET filter: changes nothing

    month = StringField("月份", validators=[Optional(), Regexp(r"^\s*\d{4}-(0[1-9]|1[0-2])\s*$", message="格式如 2026-09")],
                        render_kw={"placeholder": "2026-09"})


def _grade() -> SelectField:
    return SelectField("考核等级", choices=options([("", "—")] + [(g, g) for g in GRADES]), validate_choice=True)


class TechnicianAssessmentForm(Form):
    """9.1: 技质部's 考核意见 and grade, and the departments' people it goes to (「报相关部门」)."""

    grade = _grade()
    opinion = text_field("考核意见", required=False, max_len=2000)
    recipients = CheckboxList("报相关部门（发送给）", choices=[])
    save = SubmitField("保存草稿")
    send = SubmitField("发送")

    def to_data(self) -> dict:
        return {"grade": self.grade.data, "opinion": self.opinion.data, "recipients": list(self.recipients.data or [])}


class ManagerAssessmentForm(Form):
    """9.5: the evaluation of a 技质部 member's month (技质部经理; the GM for the manager)."""

    grade = _grade()
    quality_notes = text_field("服务质量记录", required=False, max_len=2000)
    evaluation = text_field("考核评价", required=False, max_len=2000)
    save = SubmitField("保存草稿")
    send = SubmitField("确认并归档")

    def to_data(self) -> dict:
        return {"grade": self.grade.data, "quality_notes": self.quality_notes.data, "evaluation": self.evaluation.data}
