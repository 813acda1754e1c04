from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from records.policy import dispatch_bands_text

from .base import DecimalField, Form, rev_field
from .widgets import LongSelect


class ContactForm(Form):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    name = StringField("联系人", validators=[Optional(), Length(max=40)])
    phone = StringField("电话", validators=[Optional(), Length(max=40)])
    title = StringField("职务", validators=[Optional(), Length(max=40)])


class CustomerForm(Form):
    rev = rev_field()
    name = StringField("单位名称", validators=[DataRequired("请输入单位名称"), Length(max=100)])
    address = StringField("地址", validators=[Optional(), Length(max=200)])
    distance_km = DecimalField("路程（公里）", places=1, validators=[
        InputRequired("请输入与公司的公路路程"), NumberRange(0, 20000, "路程必须在 0–20000 公里之间")],
        description=dispatch_bands_text())
    contacts = FieldList(FormField(ContactForm), min_entries=3, max_entries=10, label="联系人")
    remarks = TextAreaField("备注", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("保存")

    def to_data(self) -> dict:
        return {
            "name": self.name.data, "address": self.address.data,
            "distance_km": float(self.distance_km.data), "remarks": self.remarks.data,
            "contacts": [c.data for c in self.contacts],
        }


class ProductForm(Form):
    rev = rev_field()
    model = StringField("型号", validators=[DataRequired("请输入型号"), Length(max=60)])
    name = StringField("产品名称", validators=[DataRequired("请输入产品名称"), Length(max=100)])
    serial_no = StringField("产品编号", validators=[DataRequired("请输入产品编号"), Length(max=60)])
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=int, validators=[DataRequired("请选择顾客单位")])
    delivery_date = DateField("交付日期", validators=[DataRequired("请输入交付日期（YYYY-MM-DD）")])
    warranty_months = IntegerField("质保期（月）", validators=[
        InputRequired("请输入质保期"), NumberRange(0, 240, "质保期必须在 0–240 个月之间")])
    reliability = BooleanField("可靠性产品（8.2 每年电话巡访）")
    remarks = TextAreaField("备注", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("保存")

    def to_data(self) -> dict:
        return {
            "model": self.model.data, "name": self.name.data, "serial_no": self.serial_no.data,
            "customer_id": self.customer_id.data, "delivery_date": self.delivery_date.data,
            "warranty_months": self.warranty_months.data, "reliability": self.reliability.data,
            "remarks": self.remarks.data,
        }


class SearchForm(Form):
    class Meta:
        csrf = False  # GET search: changes nothing

    q = StringField("搜索", validators=[Optional(), Length(max=100)])
