"""Forms of the returned materials (3.1, 6.2.7): 技质部 receives a case's materials, and inspects a
faulty part (result, failure cause, cause category from records.catalog.categories)."""
from wtforms import FieldList, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from records.materials.inspections import RESULTS
from records.materials.returns import MAX_NOTE

from .base import Form, datetime_field, options, rev_field, text_field


class ReceiveForm(Form):
    rev = rev_field(required=True)
    received_at = datetime_field("交回时间", description="技术人员交回物料的时间（6.2.7：交齐后书面汇报方算交齐）")
    notes = FieldList(StringField("检查情况", validators=[Optional(), Length(max=MAX_NOTE)]), min_entries=0,
                      max_entries=30)
    submit = SubmitField("确认接收")

    def to_data(self) -> dict:
        return {"received_at": self.received_at.data, "notes": [n.data or "" for n in self.notes],
                "expect_rev": self.rev.data}


class InspectForm(Form):
    rev = rev_field(required=True)
    result = SelectField("检验结果", choices=options([("", "— 请选择 —"), *RESULTS.items()]),
                         validators=[DataRequired("请选择检验结果")])
    cause_text = text_field("故障原因", max_len=1000)
    cause_category = SelectField("原因类别", choices=[], validators=[DataRequired("请选择原因类别")],
                                 description="原因类别表由技质部经理维护；外购件、外协件可据此向供应商索赔（3.1）")
    serial = text_field("零部件序列号", required=False, max_len=60, area=False)
    submit = SubmitField("保存检验结果")

    def to_data(self) -> dict:
        return {"result": self.result.data, "cause_text": self.cause_text.data,
                "cause_category": self.cause_category.data, "serial": self.serial.data}
