"""Forms of the suppliers and their claims (3.1): a supplier with its contacts and the warranty of
its parts, a claim with its basis lines, evidence, the supplier's reply, a recovery, the close,
and the register's filter."""
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from records.materials import claim_flow, warranty
from records.materials.claim_notice import LINE_KINDS
from records.materials.claims import OUTCOMES

from .base import DecimalField, Form, options, rev_field, text_field


class _Row(Form):
    class Meta:
        csrf = False  # a row of a FieldList: the outer form carries the token


class ContactRow(_Row):
    name = StringField("联系人", validators=[Optional(), Length(max=40)])
    phone = StringField("电话", validators=[Optional(), Length(max=40)])
    email = StringField("邮箱", validators=[Optional(), Length(max=100)])


class WarrantyRow(_Row):
    part_code = StringField("零部件代号", validators=[Optional(), Length(max=60)])
    part_name = StringField("零部件名称", validators=[Optional(), Length(max=100)])
    months = IntegerField("保修期（月）", validators=[Optional(), NumberRange(1, warranty.MAX_MONTHS,
                                                                         "保修期必须在 1–240 个月之间")])


class SupplierForm(Form):
    rev = rev_field()
    name = StringField("供应商名称", validators=[DataRequired("请输入供应商名称"), Length(max=100)])
    address = StringField("地址", validators=[Optional(), Length(max=200)])
    contacts = FieldList(FormField(ContactRow), min_entries=3, max_entries=10, label="联系人")
    warranties = FieldList(FormField(WarrantyRow), min_entries=4, max_entries=warranty.MAX_RULES,
                           label="零部件保修期（代号或名称均不填：该供应商其他零部件的默认保修期）")
    remarks = TextAreaField("备注", validators=[Optional(), Length(max=1000)])
    active = BooleanField("在用", default=True)
    submit = SubmitField("保存")

    def to_data(self) -> dict:
        return {"name": self.name.data, "address": self.address.data, "remarks": self.remarks.data,
                "active": bool(self.active.data), "contacts": [c.data for c in self.contacts],
                "warranties": [w.data for w in self.warranties]}


class LineRow(_Row):
    kind = SelectField("类别", choices=options([("", "—")] + list(LINE_KINDS.items())), validate_choice=False)
    text = StringField("说明", validators=[Optional(), Length(max=200)])
    amount = DecimalField("金额（元）", places=2, validators=[Optional(), NumberRange(0, 100_000_000, "金额超出范围")])


class ClaimForm(Form):
    rev = rev_field()
    supplier_id = SelectField("供应商", coerce=int, validate_choice=False,
                              validators=[DataRequired("请选择供应商")])
    case_number = StringField("服务案例编号", validators=[DataRequired("请填写服务案例编号"), Length(max=40)])
    inspection_id = IntegerField("检验记录编号（可选）", validators=[Optional()])
    part_code = StringField("零部件代号", validators=[Optional(), Length(max=60)])
    part_text = StringField("零部件名称/描述", validators=[Optional(), Length(max=100)])
    cause_category = SelectField("原因类别", validate_choice=False, validators=[DataRequired("请选择原因类别")])
    failure = text_field("故障描述", max_len=2000)
    warranty_basis = RadioField("保修期起算", choices=options(warranty.BASES), default=warranty.DELIVERY,
                                validators=[InputRequired("请选择保修期的起算依据")])
    warranty_start = DateField("起算日（产品交付日或备件入库日）", validators=[DataRequired("请填写起算日（YYYY-MM-DD）")])
    failed_on = DateField("故障日期", validators=[DataRequired("请填写故障日期（YYYY-MM-DD）")])
    lines = FieldList(FormField(LineRow), min_entries=4, max_entries=20, label="索赔金额及依据")
    submit = SubmitField("保存草稿")

    def to_data(self) -> dict:
        return {"supplier_id": self.supplier_id.data, "case_number": (self.case_number.data or "").strip(),
                "inspection_id": self.inspection_id.data, "part_code": self.part_code.data,
                "part_text": self.part_text.data, "cause_category": self.cause_category.data,
                "failure": self.failure.data, "warranty_basis": self.warranty_basis.data,
                "warranty_start": self.warranty_start.data, "failed_on": self.failed_on.data,
                "lines": [{**line.data, "amount": "" if line.amount.data is None else str(line.amount.data)}
                          for line in self.lines]}


class EvidenceForm(Form):
    file = FileField("证据文件", description="照片、检验报告等：PDF、JPEG 或 PNG，最大 20 MB")
    submit = SubmitField("上传证据")


class StepForm(Form):
    rev = rev_field(required=True)


class SendForm(StepForm):
    submit = SubmitField("发出通知和索赔（归档通知函）")


class ReplyForm(StepForm):
    outcome = RadioField("供应商答复", choices=options(OUTCOMES), validators=[InputRequired("请选择供应商的答复结果")])
    on = DateField("答复日期", validators=[DataRequired("请填写答复日期（YYYY-MM-DD）")])
    text = text_field("答复内容", max_len=2000)
    submit = SubmitField("记录答复")


class RecoverForm(StepForm):
    amount = DecimalField("追回金额（元）", places=2, validators=[InputRequired("请填写追回金额"),
                                                          NumberRange(0.01, 100_000_000, "追回金额必须大于 0")])
    date = DateField("到账日期", validators=[DataRequired("请填写到账日期（YYYY-MM-DD）")])
    note = StringField("说明（可选）", validators=[Optional(), Length(max=200)])
    submit = SubmitField("记录追回款")


class CloseForm(StepForm):
    note = StringField("关闭说明（可选）", validators=[Optional(), Length(max=500)])
    submit = SubmitField("关闭索赔")


class RegisterFilter(Form):
    class Meta:
        csrf = False  # GET filter: changes nothing

    supplier = SelectField("供应商", choices=[], validate_choice=False)
    state = SelectField("状态", choices=options([("", "全部")] + list(claim_flow.STATES.items())), validate_choice=False)
    year = StringField("年度", validators=[Optional(), Length(max=4)], render_kw={"placeholder": "2026"})
