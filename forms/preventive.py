"""Forms of the preventive actions (预防措施, 9.3): raising one, its steps, its evidence.

Choices (cases, models, causes, departments, users) come from the store: set by views/preventive.py.
"""
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, RadioField, SelectField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from records.reports.preventive import MAX_TEXT, MONTHS

from .base import CheckboxList, Form, options, rev_field, text_field
from .widgets import LongSelect


class RaiseForm(Form):
    cases = CheckboxList("提出依据的案例", validators=[Optional()],
                         description="从一个案例或一组案例（同型号同原因）提出；也可只选型号和原因类别")
    model = SelectField("型号", validators=[Optional()], description="从案例提出时可不选：按案例的产品型号")
    cause_category = SelectField("原因类别", validators=[Optional()], description="从案例提出时可不选：按案例的故障分类")
    root_cause = text_field("根本原因", max_len=MAX_TEXT)
    action = text_field("预防措施（对责任部门的改进要求）", max_len=MAX_TEXT)
    department_id = SelectField("责任部门", coerce=int, validators=[DataRequired("请选择责任部门")])
    owner = SelectField("负责人", widget=LongSelect(), validators=[DataRequired("请选择负责人")])
    due = DateField("完成期限", validators=[InputRequired("请填写完成期限")])
    submit = SubmitField("提出预防措施")


class StepForm(Form):
    rev = rev_field(required=True)
    note = text_field("说明（可选）", required=False, max_len=MAX_TEXT)
    submit = SubmitField("确定")


class VerifyForm(Form):
    rev = rev_field(required=True)
    months = IntegerField(f"观察期（月，{MONTHS[0]}—{MONTHS[1]}）", default=3,
                          validators=[InputRequired("请填写观察期"), NumberRange(*MONTHS, f"观察期应为 {MONTHS[0]}—{MONTHS[1]} 个月")],
                          description="自提交完成证据之日起，同型号不再发生同一原因的故障，方可判定有效")
    result = RadioField("验证结论", choices=options([("effective", "有效，关闭"), ("ineffective", "无效，需重新实施")]),
                        validators=[InputRequired("请选择验证结论")])
    note = text_field("验证意见（无效时必填）", required=False, max_len=MAX_TEXT)
    submit = SubmitField("提交验证")


class ReopenForm(Form):
    rev = rev_field(required=True)
    due = DateField("新的完成期限", validators=[InputRequired("请填写新的完成期限")])
    note = text_field("重新实施的要求", max_len=MAX_TEXT)
    submit = SubmitField("重新实施")


class EvidenceForm(Form):
    file = FileField("完成证据（PDF、JPEG 或 PNG，最大 20 MB）")
    submit = SubmitField("上传证据")


STEP_FORMS = {"start": StepForm, "submit": StepForm, "verify": VerifyForm, "reopen": ReopenForm}
