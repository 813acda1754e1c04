"""Forms of the external failure cost (9.4): an entered item with its evidence, its correction
and reversal, and the quarter's 工业总产值 (财务部). The rules are records/reports/failure_entries.py."""
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from records.core.uploads import MAX_BYTES
from records.reports.failure_entries import ENTERED, ITEMS, MAX_TEXT

from .base import Form, options, rev_field, text_field


class EntryForm(Form):
    """9.4: one amount of 索赔费用, 退货损失, 诉讼费用 or 降价损失, linked to a case or a customer."""

    item = SelectField("项目（GB/T 13339）", choices=options([("", "— 请选择 —")] + [(k, ITEMS[k]) for k in ENTERED]),
                       validators=[Optional()])
    amount = StringField("金额（元）", validators=[Optional(), Length(max=30)], render_kw={"inputmode": "decimal"})
    date = DateField("发生日期", validators=[InputRequired("请填写日期")], description="按此日期计入季度")
    case_number = StringField("关联案例编号", validators=[Optional(), Length(max=40)],
                              description="例如 FW2026-0012；与顾客单位二选一，关联案例时顾客单位取自案例")
    customer_id = SelectField("或关联顾客单位", choices=[], validators=[Optional()])
    description = text_field("说明", max_len=MAX_TEXT)
    evidence = MultipleFileField("证据文件", description="PDF、JPEG 或 PNG，最多 5 个，每个最大 20 MB（新录入必须附证据）",
                                 render_kw={"accept": "application/pdf,image/jpeg,image/png"})
    reason = text_field("更正理由", required=False, max_len=MAX_TEXT, description="更正已录入的记录时必填")
    rev = rev_field()
    submit = SubmitField("保存")

    def to_data(self) -> dict:
        return {"item": self.item.data or "", "amount": self.amount.data, "date": self.date.data,
                "case_number": (self.case_number.data or "").strip(), "customer_id": self.customer_id.data or None,
                "description": self.description.data or ""}

    def files(self) -> list[dict]:
        """The evidence's bytes (at most one byte more than allowed, so the check can refuse it)."""
        return [{"content": f.stream.read(MAX_BYTES + 1), "filename": f.filename or ""}
                for f in self.evidence.data or [] if getattr(f, "filename", "")]


class ReverseForm(Form):
    reason = text_field("冲销理由", max_len=MAX_TEXT)
    submit = SubmitField("冲销（保留记录）")


class OutputForm(Form):
    """9.4: 财务部 enters the quarter's 工业总产值, the divisor of the external loss rate."""

    amount = StringField("工业总产值（元）", validators=[InputRequired("请填写工业总产值"), Length(max=30)],
                         render_kw={"inputmode": "decimal"})
    note = text_field("备注（更正时写明理由）", required=False, max_len=MAX_TEXT, area=False)
    submit = SubmitField("保存工业总产值")
