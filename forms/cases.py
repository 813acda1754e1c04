"""Forms of the case pages: the intake of a call (6.1.1, 6.1.2) and the 技质部 list's filters.
The actions' forms are in forms/case_actions.py. Choices that come from the store are set by
the view."""
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from records.cases.queries import parse_ids
from records.cases.vocab import CHANNELS, STATES, TYPES, UNVERIFIED
from records.catalog import phones
from records.core.errors import DomainError

from .base import Form, datetime_field, options, text_field
from .widgets import LongSelect

# --- Intake (6.1.1, 6.1.2) ---------------------------------------------------------------------


def phone_number(form, field) -> None:
    """The characters a phone may hold (records.catalog.phones), with its Chinese message."""
    try:
        phones.normalise(field.data, field.label.text)
    except DomainError as exc:
        raise ValidationError(str(exc)) from None


class IntakeForm(Form):
    type = RadioField("类型", choices=options(TYPES), default="service_request",
                      validators=[InputRequired("请选择类型")])
    received_by = SelectField("接收人", validators=[Optional()],
                              description="接听来电的人（默认是您）。技质部可代他人登记，接收人仍为责任人（6.1.3）")
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=int, validators=[Optional()],
                              description="只填产品编号时，由系统按产品带出顾客单位")
    product_serial = StringField("产品编号", validators=[Optional(), Length(max=60)],
                                 description="质量问题必填；咨询可不填。可输入部分编号从列表中选择",
                                 render_kw={"list": "product-serials", "autocomplete": "off"})
    unverified = BooleanField(f"顾客单位或产品编号不在系统中（记为{UNVERIFIED}，由技质部核实）")
    unit_text = text_field(f"顾客单位名称（{UNVERIFIED}）", required=False, max_len=100, area=False,
                           description="顾客单位不在列表中时填写来电人所说的单位名称")
    caller_name = text_field("来电人姓名", max_len=40, area=False)
    caller_phone = StringField("来电人电话", validators=[DataRequired("请填写来电人电话"),
                                                    Length(max=40, message="来电人电话不能超过 40 个字"), phone_number],
                               description="数字、空格、- + ( ) 及分机「转」或 ext")
    channel = SelectField("来源渠道", choices=options(CHANNELS), default="phone")
    description = text_field("顾客反映的内容")
    received_at = datetime_field("收到时间", required=False, description="默认为现在；可填更早的时间，不能晚于现在")
    answered_directly = BooleanField("接收人已直接答复（仅咨询，6.1.1）")
    direct_answer = text_field("直接答复的内容", required=False, description="勾选上一项时必填；登记即告知技质部做好记录")
    confirm_duplicate = BooleanField("已查看上面可能重复的案例，仍要登记")
    submit = SubmitField("登记")


# --- The 技质部 list ----------------------------------------------------------------------------


class CaseFilterForm(Form):
    class Meta:
        csrf = False  # GET: changes nothing

    q = StringField("搜索", validators=[Optional(), Length(max=100)])
    type = SelectField("类型", choices=options([("", "全部类型"), *TYPES.items()]), validators=[Optional()])
    state = SelectField("状态", choices=options([("", "全部状态"), *STATES.items()]), validators=[Optional()])
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=lambda v: int(v) if v not in (None, "") else None,
                              validators=[Optional()])
    product = StringField("产品编号", validators=[Optional(), Length(max=60)])
    technician = SelectField("技术人员", validators=[Optional()])
    overdue = BooleanField("仅逾期")
    date_from = DateField("收到日期自", validators=[Optional()])
    date_to = DateField("至", validators=[Optional()])

    # The 9.3 statistics' drill-down (views/statistics.py): kept as hidden fields, shown as a note.
    model = StringField("型号", validators=[Optional(), Length(max=60)])
    fault = StringField("故障类别", validators=[Optional(), Length(max=40)])
    cause = StringField("原因类别", validators=[Optional(), Length(max=40)])
    repeat = BooleanField("重复故障")
    unclassified = BooleanField("未分类")
    counted = BooleanField("不含作废、合并")
    ids = StringField("案例", validators=[Optional(), Length(max=200_000)])

    STAT_FIELDS = ("model", "fault", "cause", "repeat", "unclassified", "counted", "ids")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("结束日期早于开始日期，请检查日期范围")

    def validate_ids(self, field):
        if field.data and parse_ids(field.data) is None:
            raise ValidationError("案例编号列表格式不正确")

    def id_set(self) -> set[int] | None:
        return parse_ids(self.ids.data) if self.ids.data and not self.ids.errors else None
