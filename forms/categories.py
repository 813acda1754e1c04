"""Forms of the company category lists (故障类别 / 原因类别, 9.3), kept by 技质部经理."""
from wtforms import SubmitField

from records.catalog.categories import MAX_NAME

from .base import Form, text_field


class CategoryNameForm(Form):
    """Add an entry to a list, or rename one (the name; the code never changes)."""
    name = text_field("名称", max_len=MAX_NAME, area=False)
    submit = SubmitField("保存")


class CategoryActionForm(Form):
    """停用 / 恢复 an entry: the CSRF token only."""
