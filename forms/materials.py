"""Forms of the service materials pages (3.1, 5.2.4, 6.2.5): the parts catalogue, the sale
price, receipts, issues and returns, the stocktake, purchase requests and their inspection,
and the stock discrepancies. Choices from the store are set by views/materials.py."""
from wtforms import DateField, FieldList, FormField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from records.materials.parts import SOURCES

from .base import DecimalField, Form, options, rev_field, text_field
from .widgets import LongSelect

NO_CHOICE = options([("", "— 请选择 —")])


def part_select(label: str = "物料", required: bool = True) -> SelectField:
    validators = [DataRequired("请选择物料")] if required else [Optional()]
    return SelectField(label, widget=LongSelect(), choices=NO_CHOICE, default="", validators=validators)


def qty_field(label: str = "数量", minimum: int = 1) -> IntegerField:
    return IntegerField(label, validators=[InputRequired(f"请填写{label}"),
                                           NumberRange(minimum, 99_999, f"{label}必须是 {minimum}—99999 的整数")])


def money_field(label: str, required: bool = False) -> DecimalField:
    first = InputRequired(f"请填写{label}") if required else Optional()
    return DecimalField(label, places=2, validators=[first, NumberRange(0, 100_000_000, f"{label}不能为负数")])


class PartSearchForm(Form):
    class Meta:
        csrf = False  # GET filters: change nothing

    q = StringField("搜索", validators=[Optional(), Length(max=100)])
    source = SelectField("来源", choices=options([("", "全部来源"), *SOURCES.items()]), default="",
                         validators=[Optional()])
    retired = SelectField("状态", choices=options([("", "在用"), ("all", "含已停用")]), default="",
                          validators=[Optional()])


class PartForm(Form):
    rev = rev_field()
    code = StringField("物料编码", validators=[DataRequired("请输入物料编码"), Length(max=40)],
                       description="字母、数字和 . _ / -，不区分大小写；有出入库记录后不能修改")
    name = StringField("物料名称", validators=[DataRequired("请输入物料名称"), Length(max=100)])
    spec = StringField("型号规格", validators=[Optional(), Length(max=100)])
    unit = StringField("单位", default="件", validators=[Optional(), Length(max=10)])
    source = RadioField("来源", choices=options(SOURCES), validators=[InputRequired("请选择来源")])
    supplier_id = SelectField("供应商（外购、外协）", coerce=int, default=0, validators=[Optional()])
    cost = money_field("成本（元，可选）")
    min_stock = IntegerField("最低库存（3.1 及时采购）", default=0, validators=[
        InputRequired("请填写最低库存（不需要时填 0）"), NumberRange(0, 99_999, "最低库存必须在 0—99999 之间")])
    submit = SubmitField("保存")

    def to_data(self) -> dict:
        return {"code": self.code.data, "name": self.name.data, "spec": self.spec.data, "unit": self.unit.data,
                "source": self.source.data, "supplier_id": self.supplier_id.data or None,
                "cost": self.cost.data, "min_stock": self.min_stock.data}


class SalePriceForm(Form):
    rev = rev_field(required=True)
    sale_price = money_field("销售价格（元，5.2.4）", required=True)
    submit = SubmitField("保存价格")


class ConfirmForm(Form):
    """A button that changes one thing (retire, restore): its CSRF token only."""
    submit = SubmitField("确定")


class ReceiptForm(Form):
    part_code = part_select()
    qty = qty_field()
    unit_cost = money_field("单位成本（元，可选）")
    note = text_field("来源说明（如生产部交库、外协返回）", required=False, max_len=200, area=False)
    submit = SubmitField("入库")


class TransferForm(Form):
    direction = RadioField("方向", choices=options([("issue", "仓库 → 工具包（发放）"), ("kit_return", "工具包 → 仓库（退回）")]),
                           default="issue", validators=[InputRequired("请选择方向")])
    username = SelectField("技术人员", validators=[DataRequired("请选择技术人员")])
    part_code = part_select()
    qty = qty_field()
    note = text_field("说明（可选）", required=False, max_len=200, area=False)
    submit = SubmitField("保存")


class IssueLine(Form):
    class Meta:
        csrf = False  # a row of a FieldList: the outer form carries the token

    part_code = SelectField("物料", choices=NO_CHOICE, default="", validators=[Optional()])
    qty = StringField("数量", validators=[Optional(), Length(max=6)])


class CaseIssueForm(Form):
    username = SelectField("技术人员", validators=[DataRequired("请选择技术人员")])
    lines = FieldList(FormField(IssueLine), min_entries=4, max_entries=20, label="发放的物料")
    submit = SubmitField("发放到工具包")

    def to_lines(self) -> list[dict]:
        return [row.data for row in self.lines if (row.data.get("part_code") or (row.data.get("qty") or "").strip())]


class AdjustForm(Form):
    location = SelectField("库位", validators=[DataRequired("请选择库位")])
    part_code = part_select()
    counted = qty_field("盘点数量", minimum=0)
    reason = text_field("调整原因", max_len=400)
    submit = SubmitField("按盘点数量调整")


class PurchaseForm(Form):
    part_code = part_select("目录中的物料（可选）", required=False)
    text = text_field("物料名称或说明（目录中没有时必填）", required=False, max_len=200, area=False)
    qty = qty_field()
    reason = text_field("采购原因", max_len=1000)
    case = StringField("相关案例编号（可选）", validators=[Optional(), Length(max=40)])
    need_by = DateField("需要日期", validators=[InputRequired("请填写需要日期（YYYY-MM-DD）")])
    submit = SubmitField("提交申请")


class DecideForm(Form):
    rev = rev_field(required=True)
    decision = RadioField("审批", choices=options([("approve", "批准"), ("refuse", "不批准")]),
                          validators=[InputRequired("请选择批准或不批准")])
    note = text_field("审批意见（不批准时必填）", required=False, max_len=1000)
    submit = SubmitField("保存审批")


class ReceiveForm(Form):
    rev = rev_field(required=True)
    part_code = part_select("入库物料", required=False)
    accepted = qty_field("合格数量（入库）", minimum=0)
    rejected = qty_field("不合格数量（拒收）", minimum=0)
    unit_cost = money_field("单位成本（元，可选）")
    inspection = text_field("检验结果（3.1 所需材料的检验）", max_len=1000)
    reject_reason = text_field("不合格原因（有拒收时必填）", required=False, max_len=1000)
    submit = SubmitField("验收")


class ResolveForm(Form):
    note = text_field("处理说明", max_len=1000)
    submit = SubmitField("处理完毕")
