"""Forms of the quarterly report to the GM (9.2): the quarter of a new draft, the manager's
summary (saved, or saved and issued), the refresh of a draft's figures, a correction's reason."""
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Regexp

from records.reports.quarterly import MAX_REASON, MAX_SUMMARY

from .base import Form, rev_field, text_field


class CreateForm(Form):
    """技质部经理's button: the draft of a past quarter."""

    quarter = StringField("季度", validators=[DataRequired("请填写季度"),
                                            Regexp(r"^\s*\d{4}[Qq][1-4]\s*$", message="格式如 2026Q3")],
                          render_kw={"placeholder": "2026Q3"})
    submit = SubmitField("生成季度报告草稿")


class SummaryForm(Form):
    rev = rev_field(required=True)
    summary = text_field("技质部经理总结", required=False, max_len=MAX_SUMMARY,
                         description="对本季度售后服务情况的分析和结论、对各部门的改进要求（9.2、9.3）。")
    save = SubmitField("保存总结")
    issue = SubmitField("保存并发布（报总经理）")


class RefreshForm(Form):
    rev = rev_field(required=True)
    refresh = SubmitField("按当前记录重新生成数据")


class CorrectForm(Form):
    reason = text_field("更正原因", required=True, max_len=MAX_REASON)
    correct = SubmitField("更正（生成新版本）")
