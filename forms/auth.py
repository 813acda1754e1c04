from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from records.users.accounts import MIN_PASSWORD_LENGTH

from .base import Form


class LoginForm(Form):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=32)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    submit = SubmitField("登录")


class ChangePasswordForm(Form):
    old_password = PasswordField("原密码", validators=[DataRequired("请输入原密码")])
    new_password = PasswordField("新密码", validators=[
        DataRequired("请输入新密码"),
        Length(min=MIN_PASSWORD_LENGTH, max=128, message=f"密码至少 {MIN_PASSWORD_LENGTH} 个字符"),
    ])
    confirm = PasswordField("确认新密码", validators=[EqualTo("new_password", "两次输入的新密码不一致")])
    submit = SubmitField("修改密码")
