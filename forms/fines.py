"""Forms of the penalty register (处罚台账): its filters, the bulk ruling of proposals with one
reason (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9), issuing a month to payroll. Choices that come from
the store are set by the view."""
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Optional, Regexp

from records.fines.rulings import STATUSES

from .base import Form, options, text_field

CLAUSES = ("6.1.4", "6.1.5", "6.2.6", "6.2.8", "6.2.9")
DECISIONS = {"confirmed": "确认", "waived": "免除"}


class RegisterFilterForm(Form):
    class Meta:
        csrf = False  # GET: changes nothing

    person = SelectField("责任人", choices=[], validate_choice=False)
    department = SelectField("部门", choices=[], validate_choice=False)
    month = StringField("月份", validators=[Optional(), Regexp(r"^\s*\d{4}(-(0[1-9]|1[0-2]))?\s*$",
                                                             message="格式如 2026-11（某月）或 2026（全年）")],
                        render_kw={"placeholder": "2026-11"})
    clause = SelectField("条款", choices=options([("", "全部条款"), *((c, c) for c in CLAUSES)]), validators=[Optional()])
    status = SelectField("状态", choices=options([("", "全部状态"), *STATUSES.items(), ("correction", "更正")]),
                         validate_choice=False)

    def month_value(self) -> str:
        """The month (or year) to filter on; "" when empty or malformed (shown with its message)."""
        return (self.month.data or "").strip() if not self.month.errors else ""


class BulkRuleForm(Form):
    """Several proposals ruled at once: the ticked rows (``fines``: "case id:key"), one decision, one reason."""

    fines = SelectMultipleField("处罚建议", choices=[], validate_choice=False,
                                validators=[InputRequired("请至少勾选一条处罚建议")])
    decision = RadioField("处理", choices=options(DECISIONS), validators=[InputRequired("请选择确认或免除")])
    reason = text_field("理由", max_len=1000, description="一个理由适用于所勾选的每一条；已处理或需逐条定金额的将被跳过并说明")
    submit = SubmitField("批量处理所选建议")

    def items(self) -> list[tuple[int, str]]:
        """The ticked proposals as (case id, fine key); a malformed value is left out."""
        out = []
        for value in self.fines.data or ():
            case_id, _, key = str(value).partition(":")
            if case_id.isdigit() and key:
                out.append((int(case_id), key))
        return out


class IssueMonthForm(Form):
    submit = SubmitField("发放本月（冻结）")
