from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from .base import Form

SHA256 = r"^[0-9a-f]{64}$"
LOST = "页面数据无效，请重新上传文件"


class ProductImportForm(Form):
    file = FileField("产品台账文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择要导入的文件"),
        FileAllowed(["xlsx", "csv"], "只接受 .xlsx 或 .csv 文件"),
    ], description="读取第一个工作表；表头可在前几行中。可以上传完整的累计台账：先列出新增、未变和有变化的产品，确认后才导入。")
    submit = SubmitField("上传并检查")


class ImportConfirmForm(Form):
    """The preview's confirmation: names the file kept server-side (its SHA-256) and what the
    preview showed (``token``); never the rows themselves."""

    upload = HiddenField(validators=[DataRequired(LOST), Regexp(SHA256, message=LOST)])
    filename = HiddenField(validators=[Length(max=255, message=LOST)])
    token = HiddenField(validators=[DataRequired(LOST), Regexp(SHA256, message=LOST)])
    import_new = SubmitField("只导入新产品")
    import_all = SubmitField("导入新产品并更新有变化的产品")
