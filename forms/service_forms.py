"""Forms of the 技术服务单: the scan upload and the tablet path."""
from datetime import date
from decimal import Decimal

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from records.calendar.workdays import to_local
from records.service_forms.fields import ASPECTS, CHARGES, RATINGS

from .base import DecimalField, Form, options

RATING_CHOICES = options(RATINGS)
CHARGE_CHOICES = options(CHARGES)


class UploadForm(Form):
    file = FileField("签字盖章后的技术服务单（扫描件或照片）", validators=[FileRequired("请选择要上传的文件")],
                     description="PDF、JPEG 或 PNG，最大 20 MB。系统按二维码自动核对编号。")
    confirm_no = StringField("确认编号", validators=[Optional(), Length(max=40)],
                             description="仅当二维码无法识别时需要：请输入纸质表单上印的编号")
    reason = TextAreaField("更正原因", validators=[Optional(), Length(max=500)],
                           description="已归档过时必填：新的文件作为新版本保存，旧版本保留")
    submit = SubmitField("上传归档")


class PartForm(Form):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    name = StringField("零部件名称", validators=[Optional(), Length(max=60)])
    spec = StringField("型号/规格", validators=[Optional(), Length(max=40)])
    qty = IntegerField("数量", validators=[Optional(), NumberRange(1, 9999, "数量必须是 1–9999 的整数")])
    note = StringField("备注", validators=[Optional(), Length(max=40)])


def _rating_field(label: str) -> RadioField:
    return RadioField(label, choices=RATING_CHOICES, validators=[InputRequired(f"请顾客选择「{label}」")])


class TabletForm(Form):
    arrived_at = DateTimeLocalField("到达时间", format="%Y-%m-%dT%H:%M",
                                    validators=[InputRequired("请填写到达时间")])
    completed_at = DateTimeLocalField("完成时间", format="%Y-%m-%dT%H:%M",
                                      validators=[InputRequired("请填写完成时间")])
    fault_found = TextAreaField("故障情况", validators=[DataRequired("请填写故障情况"), Length(max=1000)])
    cause = TextAreaField("故障原因", validators=[DataRequired("请填写故障原因"), Length(max=1000)])
    work_done = TextAreaField("处理过程", validators=[DataRequired("请填写处理过程"), Length(max=2000)])
    parts = FieldList(FormField(PartForm), min_entries=6, max_entries=30, label="更换零部件")
    charge = RadioField("服务性质", choices=CHARGE_CHOICES,
                        validators=[InputRequired("请选择免费或有偿")])
    amount = DecimalField("收费金额（元）", places=2, validators=[Optional(), NumberRange(0, 10_000_000)])
    attitude = _rating_field(ASPECTS[0][1])
    skill = _rating_field(ASPECTS[1][1])
    timeliness = _rating_field(ASPECTS[2][1])
    overall = _rating_field(ASPECTS[3][1])
    remarks = TextAreaField("意见与建议", validators=[Optional(), Length(max=1000)])
    customer_signer = StringField("顾客签字人姓名", validators=[DataRequired("请填写签字人姓名"), Length(max=40)])
    customer_signature = HiddenField("顾客签名")
    # The case's assigned technicians (records.service_forms.document.technician_signers, set by the view).
    technician_signer = SelectField("技术人员签字 姓名", choices=[],
                                    validators=[DataRequired("请选择签字的售后服务技术人员")],
                                    description="派往该案例的售后服务技术人员；由其本人在下方签名")
    technician_signature = HiddenField("技术人员签名")
    reason = TextAreaField("更正原因", validators=[Optional(), Length(max=500)],
                           description="已归档过时必填：新的文件作为新版本保存，旧版本保留")
    submit = SubmitField("生成并归档技术服务单")

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # The times are checked against the case by the rules every path shares (the view:
        # records.cases.onsite_record.check_times).
        if self.charge.data == "paid" and self.amount.data is None:
            self.amount.errors = list(self.amount.errors) + ["有偿服务请填写收费金额"]
            ok = False
        for sub in self.parts:
            if sub.form.name.data and not sub.form.qty.data:
                sub.form.qty.errors = list(sub.form.qty.errors) + [f"请填写 {sub.form.name.data} 的数量"]
                ok = False
        return ok

    def start_from(self, pre: dict) -> None:
        """Start, where empty, from what the on-site steps recorded (arrival, completion, work done)
        and 服务性质 with its amount from the decision (``records.cases.onsite_record.tablet_prefill``)."""
        for field in (self.arrived_at, self.completed_at):
            if pre.get(field.name) and field.data is None:
                field.data = to_local(pre[field.name]).replace(tzinfo=None, second=0, microsecond=0)
        if pre.get("work_done") and not self.work_done.data:
            self.work_done.data = pre["work_done"]
        if pre.get("charge") and not self.charge.data:
            self.charge.data = pre["charge"]
        if pre.get("amount") is not None and self.amount.data is None:
            self.amount.data = Decimal(f"{pre['amount']:.2f}")

    def to_data(self, signers: dict[str, str], signed_on: date) -> dict:
        """The filled fields as the archive keeps them (``records.service_forms``): times as
        "YYYY-MM-DD HH:MM", the parts named, the ratings by aspect. ``signers`` maps the
        technicians' usernames to their names; ``signed_on`` is the day of signing."""
        parts = []
        for sub in self.parts:
            p = sub.form
            if (p.name.data or "").strip():
                parts.append({"name": p.name.data.strip(), "spec": (p.spec.data or "").strip(),
                              "qty": p.qty.data, "note": (p.note.data or "").strip()})
        fmt = "%Y-%m-%d %H:%M"
        return {
            "arrived_at": self.arrived_at.data.strftime(fmt),
            "completed_at": self.completed_at.data.strftime(fmt),
            "fault_found": self.fault_found.data.strip(),
            "cause": self.cause.data.strip(),
            "work_done": self.work_done.data.strip(),
            "parts": parts,
            "charge": self.charge.data,
            "amount": f"{self.amount.data:.2f}" if self.charge.data == "paid" and self.amount.data is not None else "",
            "ratings": {key: self[key].data for key, _ in ASPECTS},
            "remarks": (self.remarks.data or "").strip(),
            "customer_signer": self.customer_signer.data.strip(),
            "technician_signer": signers[self.technician_signer.data],
            "technician_signer_username": self.technician_signer.data,
            "signed_on": signed_on.strftime("%Y-%m-%d"),
        }
