"""Forms of the case workflow: intake, one form per action (each carries the case's revision),
and the 技质部 list's filters. Choices that come from the store are set by the view.
Every number of the regulation comes from records.policy."""
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from records import policy
from records.cases.vocab import (
    ASPECTS,
    CHANNELS,
    CHARGES,
    CONDITIONS,
    EVALUATIONS,
    MAX_REPORT_PARTS,
    RATINGS,
    SOLUTIONS,
    STATES,
    TYPES,
)
from records.fines.proposals import MANUAL_LABELS, amount_text

from .base import CheckboxList, Form, options

DT_FORMAT = "%Y-%m-%dT%H:%M"


def _dt(label: str, required: bool = True, description: str = ""):
    validators = [InputRequired(f"请填写{label}")] if required else [Optional()]
    return DateTimeLocalField(label, format=DT_FORMAT, validators=validators, description=description)


def _text(label: str, required: bool = True, max_len: int = 4000, area: bool = True, description: str = ""):
    validators = [DataRequired(f"请填写{label}")] if required else [Optional()]
    validators.append(Length(max=max_len, message=f"{label}不能超过 {max_len} 个字"))
    cls = TextAreaField if area else StringField
    return cls(label, validators=validators, description=description)


class _Line(Form):
    class Meta:
        csrf = False  # a row of a FieldList: the outer form carries the token


class ActionForm(Form):
    rev = HiddenField()
    RATING_FIELDS: tuple[str, ...] = ()  # radio fields the page shows as one table (the evaluation)
    RATINGS_LEGEND = ""

    def rating_fields(self) -> list:
        return [self[key] for key in self.RATING_FIELDS if key in self]

    def to_data(self) -> dict:
        """The fields as the domain takes them (rows of FieldLists as dicts, blanks kept)."""
        out = {}
        for name, field in self._fields.items():
            if name in ("rev", "csrf_token", "submit"):
                continue
            out[name] = [entry.data for entry in field] if isinstance(field, FieldList) else field.data
        return out


# --- Intake (6.1.1, 6.1.2) ---------------------------------------------------------------------


class IntakeForm(Form):
    type = RadioField("类型", choices=options(TYPES), default="service_request",
                      validators=[InputRequired("请选择类型")])
    customer_id = SelectField("顾客单位", coerce=int, validators=[Optional()],
                              description="只填产品编号时，由系统按产品带出顾客单位")
    product_serial = StringField("产品编号", validators=[Optional(), Length(max=60)],
                                 description="质量问题必填；咨询可不填。可输入部分编号从列表中选择",
                                 render_kw={"list": "product-serials", "autocomplete": "off"})
    caller_name = _text("来电人姓名", max_len=40, area=False)
    caller_phone = _text("来电人电话", max_len=40, area=False)
    channel = SelectField("来源渠道", choices=options(CHANNELS), default="phone")
    description = _text("顾客反映的内容")
    received_at = _dt("收到时间", required=False, description="默认为现在；可填更早的时间，不能晚于现在")
    answered_directly = BooleanField("接收人已直接答复（仅咨询，6.1.1）")
    direct_answer = _text("直接答复的内容", required=False, description="勾选上一项时必填；登记后仍须传递技质部做好记录")
    submit = SubmitField("登记")


# --- One form per action -----------------------------------------------------------------------


class HandoverForm(ActionForm):
    submit = SubmitField("已传递技质部")


class AssignReplyForm(ActionForm):
    assignee = SelectField("答复人（其他部门人员）", validators=[DataRequired("请选择答复人")])
    submit = SubmitField("安排答复")


class ReplyForm(ActionForm):
    answer = _text("答复内容")
    submit = SubmitField("记录答复")


class DecideForm(ActionForm):
    misuse = BooleanField("使用、维护、保养不当（5.1.1.2）")
    misuse_reason = _text("使用维护不当的理由", required=False, max_len=1000)
    analysis = _text("故障分析")
    participants = _text("参加分析人员（可选）", required=False, max_len=400, area=False)
    solution = RadioField("解决方案", choices=options(SOLUTIONS), validators=[InputRequired("请选择解决方案")])
    guidance = _text("电话指导内容（电话指导时必填）", required=False)
    submit = SubmitField("确定方案")


class GuidanceResultForm(ActionForm):
    solved = RadioField("电话指导是否解决了故障", choices=options([("yes", "已解决，结案"), ("no", "未解决，转现场服务")]),
                        validators=[InputRequired("请选择结果")])
    submit = SubmitField("记录结果")

    def to_data(self) -> dict:
        return {"solved": self.solved.data == "yes"}


class PartLine(_Line):
    part = StringField("备件名称", validators=[Optional(), Length(max=100)])
    quantity = StringField("数量", validators=[Optional(), Length(max=10)])


class QuoteForm(ActionForm):
    service_fee = DecimalField("服务费（元）", places=2, validators=[
        InputRequired("请填写服务费"), NumberRange(0, 100_000_000, "服务费不能为负数")])
    parts = FieldList(FormField(PartLine), min_entries=3, max_entries=30, label="需更换的备件（价格由财务部填写）")
    note = _text("报价说明", required=False)
    submit = SubmitField("保存报价")


class PriceForm(ActionForm):
    prices = FieldList(DecimalField("单价（元）", places=2, validators=[
        InputRequired("请填写单价"), NumberRange(0, 100_000_000, "单价不能为负数")]), min_entries=0, max_entries=30,
        label="备件单价（元）")
    submit = SubmitField("保存价格")


class SendQuoteForm(ActionForm):
    submit = SubmitField("已将方案和费用通知顾客")


class CustomerResponseForm(ActionForm):
    accepted = RadioField("顾客意见", choices=options([("yes", "确认承担费用"), ("no", "拒绝承担费用")]),
                          validators=[InputRequired("请选择顾客意见")])
    responded_at = _dt("顾客答复时间")
    person = _text("顾客方答复人", max_len=40, area=False)
    note = _text("备注", required=False, max_len=1000)
    submit = SubmitField("记录顾客意见")


class VpDecisionForm(ActionForm):
    approved = RadioField("审批", choices=options([("yes", "批准提供售后服务"), ("no", "不批准")]),
                          validators=[InputRequired("请选择是否批准")])
    reason = _text("审批意见", max_len=1000)
    submit = SubmitField("提交审批")


class DispatchForm(ActionForm):
    technicians = CheckboxList("售后服务技术人员", validators=[DataRequired("请选择至少一名技术人员")])
    plan = _text("告知顾客的服务方案")
    precautions = _text("告知技术人员的注意事项")
    departed_at = _dt("出发时间", description="可填计划出发时间")
    submit = SubmitField("开具技术服务单并派出")


class ArriveForm(ActionForm):
    arrived_at = _dt("到达现场时间")
    submit = SubmitField("记录到达")


class CompleteForm(ActionForm):
    work_done = _text("完成的工作")
    completed_at = _dt("完成时间")
    evaluation = SelectField("顾客评价", choices=options([("", "（未评价）"), *EVALUATIONS.items()]),
                             validators=[Optional()])
    evaluation_remarks = _text("顾客评价意见", required=False, max_len=1000)
    submit = SubmitField("记录维修完毕")


class ApproveReturnForm(ActionForm):
    note = _text("备注", required=False, max_len=1000)
    submit = SubmitField("同意返回")


class RecordReturnForm(ActionForm):
    returned_at = _dt("返回公司时间")
    submit = SubmitField("记录返回")


class ExpenseLine(_Line):
    item = StringField("费用项目", validators=[Optional(), Length(max=100)])
    amount = StringField("金额（元）", validators=[Optional(), Length(max=20)])


class MaterialLine(_Line):
    part = StringField("返回物料", validators=[Optional(), Length(max=100)])
    quantity = StringField("数量", validators=[Optional(), Length(max=10)])
    condition = SelectField("状态", choices=options([("", "—"), *CONDITIONS.items()]), validators=[Optional()])


class ReplacedPartLine(_Line):
    part = StringField("更换零部件", validators=[Optional(), Length(max=100)])
    quantity = StringField("更换数量", validators=[Optional(), Length(max=10)])


def _rating(label: str) -> RadioField:
    return RadioField(label, choices=options(RATINGS), validators=[InputRequired(f"请选择顾客对「{label}」的评价")])


class ReportForm(ActionForm):
    """6.2.7: the 技术服务单 as filled and evaluated on site, then the report, expenses and returns."""
    arrived_at = _dt("到达时间", description="按技术服务单填写")
    completed_at = _dt("完成时间", description="按技术服务单填写")
    fault_found = _text("故障现象", max_len=1000)
    cause = _text("故障原因", max_len=1000)
    work_done = _text("处理情况", max_len=2000)
    parts = FieldList(FormField(ReplacedPartLine), min_entries=3, max_entries=MAX_REPORT_PARTS,
                      label="更换零部件及数量")
    charge = RadioField("有偿 / 无偿", choices=options(CHARGES), validators=[InputRequired("请选择有偿或无偿")])
    amount = StringField("收费金额（元，有偿时填写）", validators=[Optional(), Length(max=20)])
    attitude = _rating(ASPECTS["attitude"])
    skill = _rating(ASPECTS["skill"])
    timeliness = _rating(ASPECTS["timeliness"])
    overall = _rating(ASPECTS["overall"])
    remarks = _text("顾客意见与建议", required=False, max_len=1000)
    text = _text("书面汇报", description="服务经过、发现的其他问题和建议等")
    expenses = FieldList(FormField(ExpenseLine), min_entries=4, max_entries=30, label="费用报销")
    returned_materials = FieldList(FormField(MaterialLine), min_entries=3, max_entries=30,
                                   label="返回物料（含未使用和损坏品）")
    receipt_no = _text("收款收据号（有偿服务）", required=False, max_len=60, area=False)
    amount_collected = StringField("收款金额（元，有偿服务）", validators=[Optional(), Length(max=20)])
    submit = SubmitField("提交书面汇报")
    RATING_FIELDS = tuple(ASPECTS)
    RATINGS_LEGEND = "顾客服务质量评价（按技术服务单）"

    def to_data(self) -> dict:
        data = super().to_data()
        data["ratings"] = {key: data.pop(key) for key in self.RATING_FIELDS if key in data}
        return data


class AuditLine(_Line):
    approved = StringField("核准金额（元，空 = 按报销）", validators=[Optional(), Length(max=20)])
    reason = StringField("调整理由", validators=[Optional(), Length(max=400)])


class ConfirmForm(ActionForm):
    quality = _text("服务质量及顾客评价确认意见")
    lines = FieldList(FormField(AuditLine), min_entries=0, max_entries=30, label="费用审核")
    submit = SubmitField("确认并完成费用审核")


class RuleFineForm(ActionForm):
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    decision = RadioField("处理", choices=options([("confirmed", "确认处罚"), ("waived", "免除")]),
                          validators=[InputRequired("请选择确认或免除")])
    amount = StringField("金额（元）", validators=[Optional(), Length(max=10)],
                         description="；".join(f"{r.clause} 须在 {amount_text(r)}内确定" for r in (
                             policy.FINE_RETURN_UNAPPROVED, policy.FINE_FALSIFIED_FORM))
                         + "；其他条款为规定金额，可不填")
    reason = _text("理由", max_len=1000)
    submit = SubmitField("处理")


class GmRuleFineForm(ActionForm):
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    amount = StringField("金额（元，0 = 不处罚）", validators=[InputRequired("请填写金额"), Length(max=10)])
    reason = _text("总经理指示", max_len=1000)
    submit = SubmitField("裁定")


class ProposeFineForm(ActionForm):
    kind = RadioField("条款", choices=options(MANUAL_LABELS), validators=[InputRequired("请选择处罚条款")])
    person = SelectField("责任人", validators=[DataRequired("请选择责任人")],
                         description="6.2.9 的责任人为派往该案例的售后服务技术人员")
    items = IntegerField(f"记录不清的条数（{policy.FINE_RECORD_UNCLEAR.clause}，每条 "
                         f"{amount_text(policy.FINE_RECORD_UNCLEAR)}）", default=1,
                         validators=[Optional(), NumberRange(1, 100, "条数应在 1—100 之间")])
    facts = _text("事实", max_len=1000, description="哪条信息记录不清或哪项填报不实，造成了什么后果（如增加的费用）")
    submit = SubmitField("提出处罚建议")


ACTION_FORMS = {
    "handover": HandoverForm,
    "assign_reply": AssignReplyForm,
    "reply": ReplyForm,
    "decide": DecideForm,
    "guidance_result": GuidanceResultForm,
    "quote": QuoteForm,
    "price": PriceForm,
    "send_quote": SendQuoteForm,
    "customer_response": CustomerResponseForm,
    "vp_decision": VpDecisionForm,
    "dispatch": DispatchForm,
    "arrive": ArriveForm,
    "complete": CompleteForm,
    "approve_return": ApproveReturnForm,
    "record_return": RecordReturnForm,
    "report": ReportForm,
    "confirm": ConfirmForm,
    "rule_fine": RuleFineForm,
    "gm_rule_fine": GmRuleFineForm,
    "propose_fine": ProposeFineForm,
}


# --- The 技质部 list ----------------------------------------------------------------------------


class CaseFilterForm(Form):
    class Meta:
        csrf = False  # GET: changes nothing

    q = StringField("搜索", validators=[Optional(), Length(max=100)])
    type = SelectField("类型", choices=options([("", "全部类型"), *TYPES.items()]), validators=[Optional()])
    state = SelectField("状态", choices=options([("", "全部状态"), *STATES.items()]), validators=[Optional()])
    customer_id = SelectField("顾客单位", coerce=lambda v: int(v) if v not in (None, "") else None,
                              validators=[Optional()])
    product = StringField("产品编号", validators=[Optional(), Length(max=60)])
    technician = SelectField("技术人员", validators=[Optional()])
    overdue = BooleanField("仅逾期")
    date_from = DateField("收到日期自", validators=[Optional()])
    date_to = DateField("至", validators=[Optional()])
