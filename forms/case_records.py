"""Forms of a case's record keeping, apart from its workflow: correcting the intake fields, 作废,
合并, restoring a cancelled case (the extra actions ``correct``, ``cancel``, ``merge``,
``restore`` of ``records.cases.flow.TRANSITIONS``, in ``RECORD_FORMS``; ``classify``, the fault's
classification after the close, 9.3), and a note or
attachment on the case's timeline (``NoteForm``)."""
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from records.cases.notes import CATEGORIES, MAX_TEXT
from records.cases.vocab import CHANNELS, TYPES

from .base import Form, datetime_field, options, text_field
from .case_actions import ActionForm
from .classification import classification_fields
from .widgets import LongSelect

REASON_MAX = 500


class CorrectForm(ActionForm):
    HELP = ("更正登记时记错的内容，须写明理由；质保状态和期限按更正后的内容重新计算，收到时间的更正会重新判断 6.1.4。"
            "确定解决方案（或答复）后，只有技质部经理可以更正来电人、电话和顾客反映的内容，其他内容有误须作废后重新登记。")
    type = RadioField("类型", choices=options(TYPES), validators=[InputRequired("请选择类型")],
                      description="仅在答复或确定解决方案之前可以更改")
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=int, validators=[Optional()])
    product_serial = StringField("产品编号", validators=[Optional(), Length(max=60)])
    caller_name = text_field("来电人姓名", max_len=40, area=False)
    caller_phone = text_field("来电人电话", max_len=40, area=False)
    channel = SelectField("来源渠道", choices=options(CHANNELS))
    description = text_field("顾客反映的内容")
    received_at = datetime_field("收到时间")
    reason = text_field("更正理由", max_len=REASON_MAX)
    submit = SubmitField("保存更正")


class CancelForm(ActionForm):
    HELP = ("作废后案例按“已作废”结案：未完成的期限停止计算，不再计入待办、统计；未处理的处罚建议仍须处理。"
            "技术人员到达现场后不能作废。技质部经理可以恢复已作废的案例。")
    reason = text_field("作废理由", max_len=REASON_MAX)
    submit = SubmitField("作废本案例")


class MergeForm(ActionForm):
    HELP = "同一问题重复登记时，把本案例合并到另一案例：本案例按“已合并”结案，两个案例互相链接。"
    target = StringField("合并到的案例编号", validators=[DataRequired("请填写案例编号"), Length(max=40)],
                         description="例如 FW2026-0012")
    reason = text_field("合并理由", max_len=REASON_MAX)
    submit = SubmitField("合并")


class RestoreForm(ActionForm):
    HELP = "把已作废的案例恢复到作废前的状态，须写明理由；期限按原来的时间继续计算。"
    reason = text_field("恢复理由", max_len=REASON_MAX)
    submit = SubmitField("恢复本案例")


class ClassifyForm(ActionForm):
    HELP = ("技质部可对已结案的案例补做或更正故障分类（9.3）：故障类别、原因类别、故障零部件和重复故障；"
            "更正已有的分类须写明理由，修改记入案例记录和审计记录。")
    fault_category, cause_category, part, repeat_fault, repeat_of = classification_fields("必填")
    reason = text_field("更正理由（更正已有分类时必填）", required=False, max_len=REASON_MAX)
    submit = SubmitField("保存故障分类")


RECORD_FORMS = {"correct": CorrectForm, "cancel": CancelForm, "merge": MergeForm, "restore": RestoreForm,
                "classify": ClassifyForm}


class NoteForm(Form):
    text = text_field("备注", required=False, max_len=MAX_TEXT,
                      description="只添加附件时可不填")
    file = FileField("附件（可选）", description="PDF、JPEG 或 PNG，最大 20 MB；苹果手机 HEIC 照片请先转为 JPEG")
    category = SelectField("附件类别", choices=options([("", "— 请选择 —"), *CATEGORIES.items()]),
                           validators=[Optional()])
    submit = SubmitField("添加")
