from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

from .base import Form


class ProductImportForm(Form):
    file = FileField("产品台账文件（.xlsx 或 .csv）", validators=[
        FileRequired("请选择要导入的文件"),
        FileAllowed(["xlsx", "csv"], "只接受 .xlsx 或 .csv 文件"),
    ], description="读取第一个工作表；表头可在前几行中，任何一行有错则整个文件都不导入。")
    submit = SubmitField("检查并导入")
