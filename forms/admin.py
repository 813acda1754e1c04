from wtforms import HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from records.users.accounts import MIN_PASSWORD_LENGTH
from records.users.departments import MAX_NAME
from records.users.roles import ROLES

from .base import CheckboxList, Form, options, rev_field


def _department_field():
    """部门 (GLOSSARY); its choices (the active departments) are set by the view."""
    return SelectField("部门", coerce=int, default=0, validators=[Optional()])


def _supervisor_field():
    """主管领导 (GLOSSARY, 7.4): another active user; the choices are set by the view."""
    return SelectField("主管领导", default="", validators=[Optional()], description="为其审批的人（7.4），可不填")


def _roles_field():
    return CheckboxList("角色", choices=options(ROLES),
                        validators=[DataRequired("至少选择一个角色")])


class UserCreateForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(2, 32, "2–32 个字符")])
    display_name = StringField("姓名", validators=[DataRequired("请输入姓名"), Length(max=40)])
    email = StringField("电子邮箱", validators=[Optional(), Email("电子邮箱格式不正确"), Length(max=120)])
    roles = _roles_field()
    department_id = _department_field()
    supervisor = _supervisor_field()
    password = PasswordField("初始密码", validators=[
        DataRequired("请输入初始密码"),
        Length(min=MIN_PASSWORD_LENGTH, max=128, message=f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")])
    submit = SubmitField("创建用户")


class UserEditForm(Form):
    rev = rev_field(required=True)
    display_name = StringField("姓名", validators=[DataRequired("请输入姓名"), Length(max=40)])
    email = StringField("电子邮箱", validators=[Optional(), Email("电子邮箱格式不正确"), Length(max=120)])
    roles = _roles_field()
    department_id = _department_field()
    supervisor = _supervisor_field()
    submit = SubmitField("保存")


class ResetPasswordForm(Form):
    password = PasswordField("新密码", validators=[
        DataRequired("请输入新密码"),
        Length(min=MIN_PASSWORD_LENGTH, max=128, message=f"密码至少 {MIN_PASSWORD_LENGTH} 个字符")])
    submit = SubmitField("重置密码")


class ConfirmForm(Form):
    """A bare POST form (CSRF token only) for buttons that change something."""
    submit = SubmitField("确定")


class DepartmentForm(Form):
    """A new department."""
    rev = rev_field(required=False)
    name = StringField("部门名称", validators=[DataRequired("请输入部门名称"),
                                           Length(max=MAX_NAME, message=f"部门名称不能超过 {MAX_NAME} 个字")])
    submit = SubmitField("保存")


class DepartmentRenameForm(DepartmentForm):
    """A department's new name, on the revision it was read at (the stale check needs it)."""
    rev = rev_field(required=True)


class ParameterForm(Form):
    """A company parameter's new value (公司参数, GLOSSARY); checked against its limits by records.policy."""
    value = StringField("数值", validators=[DataRequired("请输入数值"), Length(max=12, message="数值太长")])
    note = StringField("修改说明", validators=[Optional(), Length(max=200, message="说明不能超过 200 个字")],
                       description="为何修改（记入变更记录）")
    submit = SubmitField("保存")


def _successor_field(label: str):
    """A successor for one kind of open work; the choices (active users who may take it) are set by the view."""
    return SelectField(label, default="", validators=[Optional()])


class DisableForm(Form):
    """停用用户: the second step, on the page that lists their open work; one successor per kind,
    or one for all (a kind left empty takes the one for all)."""
    confirmed = HiddenField(default="1", validators=[DataRequired("请在确认页面上确认停用")])
    to_all = _successor_field("统一接手人")
    to_owner = _successor_field("案例负责人由谁接手")
    to_reply = _successor_field("咨询答复由谁接手（6.2.1）")
    to_technician = _successor_field("派出的技术人员由谁接替（6.2.5）")
    to_deadline = _successor_field("时限责任人由谁接手")
    to_followup = _successor_field("跟踪回访由谁接手（8.1、8.2）")
    to_approval = _successor_field("交际应酬申请由谁审批（7.4）")
    submit = SubmitField("停用并交接")
