"""Forms of the case workflow's actions: one per transition of ``records.cases.flow.TRANSITIONS``,
in ``ACTION_FORMS`` under the action's name (the report, its confirmation and the 7.4 approvals:
``forms.case_report.REPORT_FORMS``). Each carries the case's revision and its ``HELP``:
why the action's card is there, in words for the person who takes it (shown above the form).

Choices that come from the store or the case are set by the action's preparer
(``views/case_forms.py``). Every number of the regulation comes from records.policy.
"""
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
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from records import policy
from records.cases.onsite_record import PATHS
from records.cases.steps.quote import SEND_METHODS
from records.cases.vocab import SOLUTIONS
from records.core.uploads import MAX_BYTES
from records.fines.proposals import MANUAL_LABELS, amount_text
from records.policy import rule_text

from .base import CheckboxList, DecimalField, Form, datetime_field, options, rev_field, text_field
from .classification import classification_fields
from .widgets import CheckboxTiles, LongSelect


def rule_line(rule: policy.Rule) -> str:
    """A rule of the regulation as the pages quote it: "6.1.3：收到后 … 内传递到技质部"."""
    return f"{rule.clause}：{rule_text(rule)}"


RANGED_FINES = (policy.FINE_RETURN_UNAPPROVED, policy.FINE_FALSIFIED_FORM)  # amounts the manager sets


class _Line(Form):
    class Meta:
        csrf = False  # a row of a FieldList: the outer form carries the token


class ActionForm(Form):
    rev = rev_field(required=True)
    HELP = ""  # why the action is there, for the person who takes it
    RATING_FIELDS: tuple[str, ...] = ()  # radio fields the page shows as one table (the evaluation)
    SEGMENTED: tuple[str, ...] = ()  # radio fields shown as large segmented buttons (touch, issue 12)
    RATINGS_LEGEND = ""
    SECOND_STEP: tuple[str, ...] = ()  # fields shown only once the domain asked for them (a confirmation)

    def shown(self, field) -> bool:
        """Whether the page shows ``field``: a second-step field only once it has an error or a value."""
        return field.short_name not in self.SECOND_STEP or bool(field.errors or field.data)

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


# --- The consultation's answer (6.2.1); recording a call is its hand-over (6.1.3) ---------------


class AssignReplyForm(ActionForm):
    HELP = f"技质部可安排其他部门人员解答（{policy.CONSULT_REPLY.clause}），答复期限不变。"
    assignee = SelectField("答复人（其他部门人员）", validators=[DataRequired("请选择答复人")])
    submit = SubmitField("安排答复")


class ReplyForm(ActionForm):
    HELP = f"记录给顾客的答复内容；记录后案例结案（{policy.CONSULT_REPLY.clause}）。"
    answer = text_field("答复内容")
    submit = SubmitField("记录答复")


# --- The decision (6.2.2, 6.2.3) ---------------------------------------------------------------


class ResolveUnknownForm(ActionForm):
    HELP = ("来电的顾客单位或产品编号不在系统中（待核实）。请核实后关联已有的顾客单位和产品，或在此新建；"
            "质保按来电日期判定（6.2.2），核实后才能确定解决方案。")
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=int, validators=[Optional()],
                              description="选择已有单位；选「新建顾客单位」时填写下面三项")
    new_customer_name = text_field("新顾客单位名称", required=False, max_len=100, area=False)
    new_customer_distance_km = DecimalField("新顾客单位路程（公里，5.1.1.3）", places=None, validators=[Optional()])
    new_customer_address = text_field("新顾客单位地址", required=False, max_len=200, area=False)
    product_serial = StringField("产品编号", validators=[DataRequired("请填写产品编号"), Length(max=60)],
                                 render_kw={"list": "product-serials", "autocomplete": "off"})
    new_product = BooleanField("新建产品（产品不在系统中）")
    new_model = text_field("型号", required=False, max_len=60, area=False)
    new_product_name = text_field("产品名称", required=False, max_len=100, area=False)
    new_delivery_date = DateField("交付日期", validators=[Optional()])
    new_warranty_months = IntegerField("质保期（月）", validators=[Optional()])
    note = text_field("核实情况（可选）", required=False, max_len=400)
    submit = SubmitField("核实并关联")


class DecideForm(ActionForm):
    HELP = f"先核对质保状态，再分析故障、确定方案（{rule_line(policy.DECISION)}）。"
    misuse = BooleanField("使用、维护、保养不当（5.1.1.2）")
    misuse_reason = text_field("使用维护不当的理由", required=False, max_len=1000)
    analysis = text_field("故障分析")
    participants = text_field("参加分析人员（可选）", required=False, max_len=400, area=False)
    solution = RadioField("解决方案", choices=options(SOLUTIONS), validators=[InputRequired("请选择解决方案")])
    guidance = text_field("电话指导内容（电话指导时必填）", required=False)
    fault_category, cause_category, part, repeat_fault, repeat_of = classification_fields("可选，初步分类")
    submit = SubmitField("确定方案")


class GuidanceResultForm(ActionForm):
    HELP = "电话指导解决不了的，转现场服务（6.2.3）。"
    solved = RadioField("电话指导是否解决了故障", choices=options([("yes", "已解决，结案"), ("no", "未解决，转现场服务")]),
                        validators=[InputRequired("请选择结果")])
    fault_category, cause_category, part, repeat_fault, repeat_of = classification_fields("已解决结案时必填")
    submit = SubmitField("记录结果")

    def to_data(self) -> dict:
        return {**super().to_data(), "solved": self.solved.data == "yes"}


# --- Paid service: the quote, the customer, the VP (5.2.3—5.2.5, 6.2.4) ------------------------


class PartLine(_Line):
    code = SelectField("目录备件（可选，选后名称可留空）", choices=options([("", "— 手填 —")]), default="",
                       validate_choice=False)
    part = StringField("备件名称", validators=[Optional(), Length(max=100)])
    quantity = StringField("数量", validators=[Optional(), Length(max=10)])


class QuoteForm(ActionForm):
    HELP = "填写服务费和需更换的备件（可从物料目录选取，带出财务部的销售价）；备件价格由财务部确认（5.2.4）。全部定价后，技质部将方案和费用通知顾客（5.2.5）。"
    service_fee = DecimalField("服务费（元）", places=2, validators=[
        InputRequired("请填写服务费"), NumberRange(0, 100_000_000, "服务费不能为负数")])
    parts = FieldList(FormField(PartLine), min_entries=3, max_entries=30, label="需更换的备件（价格由财务部填写）")
    note = text_field("报价说明", required=False)
    submit = SubmitField("保存报价")


class PriceForm(ActionForm):
    HELP = "请为每个备件填写单价（元）（5.2.4）。填写后技质部即可通知顾客。"
    prices = FieldList(DecimalField("单价（元）", places=2, validators=[
        InputRequired("请填写单价"), NumberRange(0, 100_000_000, "单价不能为负数")]), min_entries=0, max_entries=30,
        label="备件单价（元）")
    submit = SubmitField("保存价格")


class SendQuoteForm(ActionForm):
    HELP = ("先打印或下载《报价单》（PDF）发给顾客，再记录发送方式、时间和接收人（5.2.5、6.2.4）；"
            f"报价有效期 {policy.QUOTE_VALID_DAYS} 天（公司规定），然后等待顾客确认。")
    method = RadioField("通知方式", choices=options(list(SEND_METHODS.items())),
                        validators=[InputRequired("请选择通知方式")])
    sent_at = datetime_field("发出时间")
    recipient = text_field("顾客方接收人", max_len=40, area=False)
    address = text_field("传真号、邮箱或地址", required=False, max_len=200, area=False)
    submit = SubmitField("已将方案和费用通知顾客")


class CustomerResponseForm(ActionForm):
    HELP = "顾客确认后即可安排派出；顾客拒绝承担费用时，须报分管副总批准（6.2.4）。"
    accepted = RadioField("顾客意见", choices=options([("yes", "确认承担费用"), ("no", "拒绝承担费用")]),
                          validators=[InputRequired("请选择顾客意见")])
    responded_at = datetime_field("顾客答复时间")
    person = text_field("顾客方答复人", max_len=40, area=False)
    note = text_field("备注", required=False, max_len=1000)
    confirmation = FileField("顾客书面确认（可选）", description="签字或盖章的报价单回执、传真或邮件：PDF、JPEG 或 PNG，最大 20 MB")
    submit = SubmitField("记录顾客意见")
    MULTIPART = True

    def to_data(self) -> dict:
        data = super().to_data()
        fs = data.pop("confirmation", None)
        content = fs.stream.read(MAX_BYTES + 1) if fs and getattr(fs, "filename", "") else None
        data["confirmation"], data["confirmation_filename"] = content, (fs.filename if content else "")
        return data


class VpDecisionForm(ActionForm):
    HELP = "顾客拒绝承担费用：只有经分管副总批准后方可提供售后服务（6.2.4）；不批准则结案。"
    approved = RadioField("审批", choices=options([("yes", "批准提供售后服务"), ("no", "不批准")]),
                          validators=[InputRequired("请选择是否批准")])
    reason = text_field("审批意见", max_len=1000)
    fault_category, cause_category, part, repeat_fault, repeat_of = classification_fields("不批准结案时必填")
    submit = SubmitField("提交审批")


# --- On site (6.2.5, 6.2.6) ----------------------------------------------------------------------


class DispatchForm(ActionForm):
    HELP = "出发前将服务方案通知顾客，告知技术人员注意事项，并开具《技术服务单》交技术人员（6.2.5）。"
    technicians = CheckboxList("售后服务技术人员", widget=CheckboxTiles(),
                               validators=[DataRequired("请选择至少一名技术人员")])
    plan = text_field("告知顾客的服务方案")
    precautions = text_field("告知技术人员的注意事项")
    departed_at = datetime_field("出发时间", description="可填计划出发时间：此前案例显示「待出发」，到时显示「已出发」")
    submit = SubmitField("开具技术服务单并派出")


class ArriveForm(ActionForm):
    HELP = f"到达现场后记录到达时间（时限见 {policy.DISPATCH.clause}）。"
    arrived_at = datetime_field("到达现场时间")
    submit = SubmitField("记录到达")


class CompleteForm(ActionForm):
    HELP = ("维修完毕后请顾客评价并在《技术服务单》上签字或盖章，然后电话反馈技质部（6.2.6）。"
            "平板签署：先在平板上签署归档，本步骤按签署的表单记录；纸质表单：按表单填写，返回后上传扫描件。")
    form_path = RadioField("技术服务单签署方式", choices=options(PATHS), validators=[InputRequired("请选择签署方式")])
    work_done = text_field("完成的工作", description="平板签署时按签署的表单预填")
    completed_at = datetime_field("完成时间", description="平板签署时按签署的表单预填")
    difference_reason = text_field("与签字表单不一致的原因", required=False, max_len=1000,
                                   description="仅当上面的内容与顾客签字的表单不同时填写；确认时技质部将看到差异（6.2.9）")
    submit = SubmitField("记录维修完毕")


class ApproveReturnForm(ActionForm):
    HELP = "技术人员电话反馈维修完毕后，技质部确认、同意返回（6.2.6）。"
    note = text_field("备注", required=False, max_len=1000)
    submit = SubmitField("同意返回")


class RecordReturnForm(ActionForm):
    HELP = f"回到公司后记录返回时间；须按 {rule_line(policy.REPORT)}。"
    returned_at = datetime_field("返回公司时间")
    # 6.2.6: before 技质部 has agreed, the first submission is refused with the consequence and
    # this box appears; only a second submission with it ticked records the return.
    confirm_unapproved = BooleanField(f"我已知晓：未经技质部同意返回，将按 {policy.FINE_RETURN_UNAPPROVED.clause} "
                                      "提出处罚建议；仍要记录返回", render_kw={"required": True})
    SECOND_STEP = ("confirm_unapproved",)
    submit = SubmitField("记录返回")


# --- The report and its confirmation (6.2.7, 6.2.8) and the 7.4 approvals: forms.case_report ---


# --- Fines (6.1.4, 6.1.5, 6.2.6, 6.2.8, 6.2.9) ----------------------------------------------------


class RuleFineForm(ActionForm):
    HELP = "逐条确认或免除处罚建议，并写明理由；" + "；".join(
        f"{r.clause} 的金额在 {amount_text(r)}内确定" for r in RANGED_FINES) + "。"
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    decision = RadioField("处理", choices=options([("confirmed", "确认处罚"), ("waived", "免除")]),
                          validators=[InputRequired("请选择确认或免除")])
    amount = StringField("金额（元）", validators=[Optional(), Length(max=10)],
                         description="；".join(f"{r.clause} 须在 {amount_text(r)}内确定" for r in RANGED_FINES)
                         + "；其他条款为规定金额，可不填")
    reason = text_field("理由", max_len=1000)
    submit = SubmitField("处理")


class GmRuleFineForm(ActionForm):
    HELP = f"特殊情况报总经理指示执行（{policy.CONFIRM.clause}）：可改定任一处罚建议的金额。"
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    amount = StringField("金额（元，0 = 不处罚）", validators=[InputRequired("请填写金额"), Length(max=10)])
    reason = text_field("总经理指示", max_len=1000)
    submit = SubmitField("裁定")


class ReferFineForm(ActionForm):
    HELP = (f"特殊情况，报总经理指示执行（{policy.CONFIRM.clause}）：报总经理后，这条处罚建议等待总经理裁定，"
            "技质部经理不能再确认或免除。")
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    reason = text_field("报总经理的理由（特殊情况）", max_len=1000)
    submit = SubmitField("报总经理")


class StateFineForm(ActionForm):
    HELP = "处罚建议处理前，被处罚人本人可提出申辩或说明；技质部经理和总经理处理时可见。"
    key = SelectField("处罚建议", validators=[DataRequired("请选择处罚建议")])
    text = text_field("申辩/说明", max_len=1000)
    submit = SubmitField("提交申辩/说明")


class ProposeFineForm(ActionForm):
    HELP = (f"{rule_line(policy.FINE_RECORD_UNCLEAR)}（信息记录不清、不完整、不准确）；"
            f"{rule_line(policy.FINE_FALSIFIED_FORM)}。建议提出后仍须处理（确认或免除）。")
    kind = RadioField("条款", choices=options(MANUAL_LABELS), validators=[InputRequired("请选择处罚条款")])
    person = SelectField("责任人", validators=[DataRequired("请选择责任人")],
                         description="6.2.9 的责任人为派往该案例的售后服务技术人员")
    items = IntegerField(f"记录不清的条数（{policy.FINE_RECORD_UNCLEAR.clause}，每条 "
                         f"{amount_text(policy.FINE_RECORD_UNCLEAR)}）", default=1,
                         validators=[Optional(), NumberRange(1, 100, "条数应在 1—100 之间")])
    facts = text_field("事实", max_len=1000, description="哪条信息记录不清或哪项填报不实，造成了什么后果（如增加的费用）")
    submit = SubmitField("提出处罚建议")


ACTION_FORMS = {
    "resolve_unknown": ResolveUnknownForm,
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
    "rule_fine": RuleFineForm,
    "refer_fine": ReferFineForm,
    "gm_rule_fine": GmRuleFineForm,
    "state_fine": StateFineForm,
    "propose_fine": ProposeFineForm,
}
