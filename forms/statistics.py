"""The 9.3 statistics page's period and filters (GET: changes nothing, no CSRF)."""
from __future__ import annotations

from datetime import date

from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from records.calendar.periods import Period, parse_quarter

from .base import Form, options
from .widgets import LongSelect

KINDS = {"quarter": "季度", "year": "年度", "custom": "自定义期间"}
MAX_DAYS = 366 * 20


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


class StatisticsForm(Form):
    class Meta:
        csrf = False

    kind = SelectField("期间", choices=options(list(KINDS.items())), default="quarter", validators=[Optional()])
    quarter = SelectField("季度", validators=[Optional()])
    year = SelectField("年度", validators=[Optional()])
    date_from = DateField("自", validators=[Optional()])
    date_to = DateField("至", validators=[Optional()])
    model = SelectField("型号", widget=LongSelect(), validators=[Optional()])
    customer_id = SelectField("顾客单位", widget=LongSelect(), coerce=_int_or_none, validators=[Optional()])
    fault = SelectField("故障类别", validators=[Optional()])
    cause = SelectField("原因类别", validators=[Optional()])

    def set_periods(self, today: date, years: int = 11) -> None:
        """The quarters and years offered: the last ``years`` years up to today's."""
        self.quarter.choices = options([(f"{y}Q{q}", f"{y} 年第 {q} 季度") for y in range(today.year, today.year - years, -1)
                                        for q in range(4, 0, -1) if date(y, 3 * q - 2, 1) <= today])
        self.year.choices = options([(str(y), f"{y} 年") for y in range(today.year, today.year - years, -1)])
        if not self.quarter.data:
            self.quarter.data = f"{today.year}Q{(today.month - 1) // 3 + 1}"
        if not self.year.data:
            self.year.data = str(today.year)

    def validate_date_to(self, field):
        if self.kind.data != "custom":
            return
        if not field.data or not self.date_from.data:
            raise ValidationError("自定义期间请填写起止日期")
        if field.data < self.date_from.data:
            raise ValidationError("结束日期早于开始日期，请检查日期范围")
        if (field.data - self.date_from.data).days > MAX_DAYS:
            raise ValidationError("期间不能超过 20 年")

    def period(self, today: date) -> Period:
        """The period asked for; the current quarter when it is missing or wrong."""
        if self.kind.data == "custom" and self.date_from.data and self.date_to.data and not self.date_to.errors:
            return Period(f"{self.date_from.data:%Y-%m-%d}～{self.date_to.data:%Y-%m-%d}", self.date_from.data,
                          self.date_to.data)
        label = self.year.data if self.kind.data == "year" else self.quarter.data
        got = parse_quarter(label or "")
        if got is None:
            label = f"{today.year}Q{(today.month - 1) // 3 + 1}"
            got = parse_quarter(label)
        return Period(label, *got)
