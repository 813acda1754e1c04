"""Forms of the written report (6.2.7) and its confirmation (6.2.8), with the service conduct of
section 7: the checklist (7.1–7.3) and the 主管领导's prior approval of 交际应酬 (7.4), in
``REPORT_FORMS`` under the actions' names (``records.cases.flow.TRANSITIONS``).

Expense amounts are text: the domain reads 「1,860」, full-width digits and a leading ¥ / ￥
(records.cases.expenses.amount), and refuses every bad line at once, each beside its line. The
report form carries files (the receipts / 发票 of each line): ``MULTIPART``.
"""
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, FieldList, FormField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from records import policy
from records.cases.conduct import CHECKLIST
from records.cases.expenses import CATEGORIES, MAX_RECEIPTS
from records.cases.vocab import ASPECTS, CHARGES, CONDITIONS, MAX_REPORT_PARTS, RATINGS
from records.core.uploads import MAX_BYTES

from .base import Form, datetime_field, options, text_field
from .case_actions import ActionForm, rule_line
from .classification import classification_fields

YES_NO = options([("yes", "是"), ("no", "否")])


class Row(Form):
    class Meta:
        csrf = False  # a row of a FieldList: the outer form carries the token


class ExpenseLine(Row):
    date = StringField("日期", validators=[Optional(), Length(max=20)], render_kw={"type": "date"})
    category = SelectField("类别", choices=options([("", "—"), *CATEGORIES.items()]), validators=[Optional()])
    item = StringField("费用内容", validators=[Optional(), Length(max=100)])
    amount = StringField("金额（元）", validators=[Optional(), Length(max=30)],
                         render_kw={"inputmode": "decimal", "data-expense-amount": "", "autocomplete": "off"})
    receipts = MultipleFileField("收据 / 发票", render_kw={"accept": "application/pdf,image/jpeg,image/png"})


class MaterialLine(Row):
    part = StringField("返回物料", validators=[Optional(), Length(max=100)])
    quantity = StringField("数量", validators=[Optional(), Length(max=10)])
    condition = SelectField("状态", choices=options([("", "—"), *CONDITIONS.items()]), validators=[Optional()])


class ReplacedPartLine(Row):
    part = StringField("更换零部件", validators=[Optional(), Length(max=100)])
    quantity = StringField("更换数量", validators=[Optional(), Length(max=10)])


def _rating(label: str) -> RadioField:
    return RadioField(label, choices=options(RATINGS), validators=[InputRequired(f"请选择顾客对「{label}」的评价")])


def _asked(key: str) -> RadioField:
    clause, text = CHECKLIST[key]
    return RadioField(f"{text}（{clause}）", choices=YES_NO, validators=[InputRequired(f"请回答（{clause}）：{text}")])


class ReportForm(ActionForm):
    """6.2.7: the 技术服务单 as filled and evaluated on site, the report, the conduct checklist
    (7.1–7.3), the expenses with their receipts (交际应酬 marked, 7.4) and the returns."""
    HELP = ("先归档签字的《技术服务单》（上传扫描件或平板签署），再按表单填写现场情况和顾客评价，并以书面形式汇报；"
            "《技术服务单》、费用报销单、返回物料及有偿服务的收款收据、款项交技质部"
            f"（{rule_line(policy.REPORT)}）。交际应酬费用须事先征得主管领导同意，否则不予认可"
            f"（{policy.ENTERTAINMENT.clause}）。")
    MULTIPART = True
    arrived_at = datetime_field("到达时间", description="按技术服务单填写")
    completed_at = datetime_field("完成时间", description="按技术服务单填写")
    fault_found = text_field("故障现象", max_len=1000)
    cause = text_field("故障原因", max_len=1000)
    work_done = text_field("处理情况", max_len=2000)
    parts = FieldList(FormField(ReplacedPartLine), min_entries=3, max_entries=MAX_REPORT_PARTS,
                      label="更换零部件及数量")
    charge = RadioField("有偿 / 无偿", choices=options(CHARGES), validators=[InputRequired("请选择有偿或无偿")])
    amount = StringField("收费金额（元，有偿时填写）", validators=[Optional(), Length(max=30)])
    attitude = _rating(ASPECTS["attitude"])
    skill = _rating(ASPECTS["skill"])
    timeliness = _rating(ASPECTS["timeliness"])
    overall = _rating(ASPECTS["overall"])
    remarks = text_field("顾客意见与建议", required=False, max_len=1000)
    difference_reason = text_field("与签字表单不一致的原因", required=False, max_len=1000,
                                   description="平板签署时：上面的内容与顾客签字的表单不同时必填；确认时技质部将看到差异（6.2.9）")
    text = text_field("书面汇报", description="服务经过、发现的其他问题和建议等")
    plan_explained = _asked("plan_explained")
    asked_other_faults = _asked("asked_other_faults")
    inspected = _asked("inspected")
    inspection_result = text_field(f"全面检测、检查的结果（{policy.CONDUCT_INSPECTION.clause}，检查了时必填）",
                                   required=False, max_len=1000)
    left_contact = _asked("left_contact")
    customer_contact_name = text_field(f"顾客直接联系人姓名（{policy.CONDUCT_CONTACT.clause}）", required=False,
                                       max_len=40, area=False)
    customer_contact_phone = text_field(f"顾客直接联系人电话（{policy.CONDUCT_CONTACT.clause}）", required=False,
                                        max_len=40, area=False)
    expenses = FieldList(FormField(ExpenseLine), min_entries=4, max_entries=30,
                         label=f"费用报销（金额可写 1,860、１８６０ 或 ¥1860；每行可附收据、发票最多 {MAX_RECEIPTS} 个，"
                               "PDF/JPEG/PNG）")
    returned_materials = FieldList(FormField(MaterialLine), min_entries=3, max_entries=30,
                                   label="返回物料（含未使用和损坏品）")
    receipt_no = text_field("收款收据号（有偿服务）", required=False, max_len=60, area=False)
    amount_collected = StringField("收款金额（元，有偿服务）", validators=[Optional(), Length(max=30)])
    submit = SubmitField("提交书面汇报")
    RATING_FIELDS = tuple(ASPECTS)
    RATINGS_LEGEND = "顾客服务质量评价（按技术服务单）"
    SEGMENTED = ("charge", *CHECKLIST)

    def to_data(self) -> dict:
        data = super().to_data()
        data["ratings"] = {key: data.pop(key) for key in self.RATING_FIELDS if key in data}
        for row in data.get("expenses") or []:  # the files' bytes (at most one byte more than allowed)
            row["receipts"] = [{"content": f.stream.read(MAX_BYTES + 1), "filename": f.filename or ""}
                               for f in row.get("receipts") or [] if getattr(f, "filename", "")]
        return data


class AuditLine(Row):
    approved = StringField("核准金额（元，空 = 按报销）", validators=[Optional(), Length(max=30)])
    override = BooleanField("超额核准")
    reason = StringField("调整理由", validators=[Optional(), Length(max=400)])


class ConfirmForm(ActionForm):
    HELP = (f"核对技术服务单的现场情况和顾客评价，确认服务质量，再逐项审核费用；调整金额须写明理由，高于报销金额须勾选"
            f"「超额核准」并写明理由；未事先征得主管领导同意的交际应酬费用核准为 0（{policy.ENTERTAINMENT.clause}）"
            f"（{rule_line(policy.CONFIRM)}）。")
    quality = text_field("服务质量及顾客评价确认意见")
    lines = FieldList(FormField(AuditLine), min_entries=0, max_entries=30, label="费用审核")
    add_contact = BooleanField(f"将技术人员记下的顾客联系人加入顾客单位的联系人（{policy.CONDUCT_CONTACT.clause}）")
    fault_category, cause_category, part, repeat_fault, repeat_of = classification_fields("必填")  # 9.3, issue 17
    submit = SubmitField("确认并完成费用审核")


class RequestApprovalForm(ActionForm):
    HELP = (f"{rule_line(policy.ENTERTAINMENT)}。确属特殊情况，须事先向主管领导申请；主管领导在系统中同意的时间"
            "须早于费用发生的日期，报销时才予认可。")
    purpose = text_field("事由及预计金额", max_len=1000)
    submit = SubmitField("提交申请")


class DecideApprovalForm(ActionForm):
    HELP = (f"技术人员申请事先同意交际应酬费用（{policy.ENTERTAINMENT.clause}）。请填写您答复的实际时间"
            "（可事后补录）：同意的时间早于费用发生的日期，该费用才予认可。")
    request = SelectField("申请", validators=[InputRequired("请选择申请")])
    agreed = RadioField("审批", choices=options([("yes", "同意"), ("no", "不同意")]),
                        validators=[InputRequired("请选择同意或不同意")])
    given_at = datetime_field("答复时间", description="您同意（或不同意）的时间；电话中已答复的，填当时的时间")
    note = text_field("审批意见", required=False, max_len=1000)
    submit = SubmitField("提交审批")


REPORT_FORMS = {
    "report": ReportForm,
    "confirm": ConfirmForm,
    "request_approval": RequestApprovalForm,
    "decide_approval": DecideApprovalForm,
}
