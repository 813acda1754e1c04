"""Forms of the 技术通报 (technical notices, issue 18): the draft with its selection of affected
products, issuing, a delivery, an acknowledgement, the on-site campaign, done."""
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from records.technical_notices.selection import MODES
from records.technical_notices.vocab import KINDS, METHODS

from .base import Form, datetime_field, options, rev_field, text_field


class NoticeForm(Form):
    rev = rev_field()
    title = text_field("标题", max_len=100, area=False)
    model = StringField("产品型号", validators=[DataRequired("请填写产品型号"), Length(max=60, message="型号不能超过 60 个字")])
    kind = RadioField("通报类别", choices=options(KINDS), validators=[DataRequired("请选择通报类别")])
    text = text_field("通报内容（缺陷及处理方法、维护说明或更改内容）", max_len=5000)
    mode = RadioField("受影响产品的选择方式", choices=options(MODES), default="model",
                      validators=[DataRequired("请选择受影响产品的选择方式")])
    serial_from = StringField("起始产品编号", validators=[Optional(), Length(max=60)],
                              description="按产品编号范围：前缀相同、尾部为数字，含起止编号")
    serial_to = StringField("截止产品编号", validators=[Optional(), Length(max=60)])
    delivered_from = DateField("交付日期（起）", validators=[Optional()])
    delivered_to = DateField("交付日期（止）", validators=[Optional()])
    serials = text_field("产品编号清单", required=False, max_len=60000,
                         description="按粘贴的清单：每行一个，或以逗号、空格、顿号分隔")
    ack_days = IntegerField("确认期限（天）", validators=[Optional(), NumberRange(1, 365, "须在 1–365 天之间")],
                            description="顾客在发布后此天数内未确认收到，转为跟踪任务；留空取公司参数「技术通报确认期限」")
    onsite = BooleanField("需要到现场实施（为每台受影响产品建立免费现场服务案例）")
    onsite_due = DateField("现场工作完成期限", validators=[Optional()])
    preview = SubmitField("预览受影响产品")
    submit = SubmitField("保存草稿")

    def to_data(self) -> dict:
        return {k: getattr(self, k).data for k in ("title", "model", "kind", "text", "mode", "serial_from", "serial_to",
                                                   "delivered_from", "delivered_to", "serials", "ack_days", "onsite",
                                                   "onsite_due")}


class IssueForm(Form):
    rev = rev_field(required=True)
    submit = SubmitField("发布（生成并归档 PDF）")


class DeliveryForm(Form):
    customer_id = SelectField("顾客单位", choices=[], validate_choice=False,
                              validators=[DataRequired("请选择顾客单位")])
    method = RadioField("送达方式", choices=options(METHODS), validators=[DataRequired("请选择送达方式")])
    at = datetime_field("送达时间")
    by = StringField("送达人", validators=[Optional(), Length(max=40)], description="留空为本人")
    note = StringField("备注", validators=[Optional(), Length(max=500)])
    submit = SubmitField("记录送达")


class AckForm(Form):
    customer_id = SelectField("顾客单位", choices=[], validate_choice=False,
                              validators=[DataRequired("请选择顾客单位")])
    acknowledged_by = StringField("顾客确认人", validators=[DataRequired("请填写顾客确认人"), Length(max=60)])
    acknowledged_at = datetime_field("确认时间")
    submit = SubmitField("记录确认")


class CampaignForm(Form):
    confirm = BooleanField("我确认：为每台尚无案例的受影响产品建立免费现场服务案例（待派出）",
                           validators=[DataRequired("请勾选确认")])
    submit = SubmitField("建立现场服务案例")


class CompleteForm(Form):
    submit = SubmitField("标记为已完成")
