"""Forms of the inbox and of the admin's e-mail (SMTP) settings."""
from wtforms import BooleanField, IntegerField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from .base import Form


class SmtpSettingsForm(Form):
    host = StringField("邮件服务器（SMTP 主机）", validators=[Optional(), Length(max=200)],
                       description="留空则不发邮件，消息只进站内收件箱")
    port = IntegerField("端口", default=25, validators=[Optional(), NumberRange(1, 65535, "端口必须在 1–65535 之间")],
                        description="常用：25，或 587（STARTTLS）")
    starttls = BooleanField("使用 STARTTLS 加密")
    username = StringField("登录用户名", validators=[Optional(), Length(max=200)],
                           description="服务器不要求登录时留空")
    password = PasswordField("登录密码", validators=[Optional(), Length(max=200)],
                             description="留空则保留原密码；密码不写入审计记录")
    clear_password = BooleanField("清除已保存的密码")
    sender = StringField("发件人地址", validators=[Optional(), Email("发件人地址格式不正确"), Length(max=200)])
    base_url = StringField("系统网址", validators=[Optional(), Length(max=200)],
                           description="邮件中链接的前缀，例如 https://aftersales.example.com")
    submit = SubmitField("保存设置")

    def to_data(self) -> dict:
        return {"host": self.host.data, "port": self.port.data or 25, "starttls": self.starttls.data,
                "username": self.username.data, "password": self.password.data, "sender": self.sender.data,
                "base_url": self.base_url.data}


class TestMailForm(Form):
    to = StringField("收件人", validators=[DataRequired("请填写收件人"), Email("邮箱格式不正确"), Length(max=200)])
    send = SubmitField("发送测试邮件")


class ActionForm(Form):
    """A POST with nothing but the CSRF token (mark read, retry failed mails)."""
