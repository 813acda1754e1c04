"""The regulation's numbers, each in one place and tagged with its clause.

Every deadline, fine and schedule in the system reads its number from here, so that a
revision of 售后服务管理规定 is a change to this file alone, and so that every screen can show
*why* a deadline is what it is (clause + basis text).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time

from records.core import parameters
from records.core.errors import DomainError


@dataclass(frozen=True)
class Rule:
    """One number of the regulation with the clause it comes from."""

    clause: str
    value: object
    basis: str  # Chinese text shown to users next to a deadline or fine


# --- The working calendar (GLOSSARY: 工作小时 / 工作日) -----------------------------------
TIMEZONE = "Asia/Shanghai"
WORK_PERIODS: tuple[tuple[time, time], ...] = (
    (time(8, 30), time(12, 0)),
    (time(13, 30), time(17, 30)),
)
# Working weekdays (date.weekday(): Monday = 0). Statutory holidays and make-up working days
# (调休上班) come from the `holidays` package; company corrections override both.
WORK_WEEKDAYS: frozenset[int] = frozenset({0, 1, 2, 3, 4})

# --- Deadlines ------------------------------------------------------------------------------
HANDOVER = Rule("6.1.3", 4, "收到后 {n} 个工作小时内传递到技质部")
CONSULT_REPLY = Rule("6.2.1", 8, "收到咨询后 {n} 个工作小时内答复")
DECISION = Rule("6.2.2", 8, "技质部收到后 {n} 个工作小时内确定解决方案")
REPORT = Rule("6.2.7", 3, "返回后 {n} 个工作日内书面汇报")
CONFIRM = Rule("6.2.8", 5, "汇报后 {n} 个工作日内完成确认及费用审核")
# 5.1.1.3: road distance bands (upper bound in km, inclusive) -> clock hours to arrive.
# The text says "1500 公里以外 72 小时"; 1000–1500 km is not stated and takes 72 h (GLOSSARY).
DISPATCH = Rule(
    "5.1.1.3",
    ((300, 24), (1000, 48), (math.inf, 72)),
    "路程 {km} 公里，{since}{n} 小时内到达现场",
)
# Where the 5.1.1.3 clock starts (GLOSSARY), with the clause that says so: in warranty when the
# request was received; a paid service (out of warranty, or misuse in warranty, 5.1.1.2) when
# the customer confirmed the fee (5.2.5, 6.2.4), or when the VP approved it after a refusal (6.2.4).
DISPATCH_STARTS = {
    "request": "接到请求后 ",
    "confirmation": "顾客确认承担费用（5.2.5、6.2.4）后 ",
    "approval": "分管副总批准（6.2.4）后 ",
}

# --- Fines (proposals; a tq_manager confirms or waives, the GM may rule otherwise) ---------
FINE_HANDOVER_LATE = Rule("6.1.4", 50, "未按规定传递顾客信息，每次处罚责任人 {n} 元")
FINE_RECORD_UNCLEAR = Rule("6.1.5", 50, "信息记录不清导致额外费用，每条处罚责任人 {n} 元")
FINE_RETURN_UNAPPROVED = Rule("6.2.6", (50, 500), "未经技质部同意返回，处罚责任人 50—500 元/每次")
FINE_CONFIRM_LATE_PER_DAY = Rule("6.2.8", 50, "确认及费用审核每延迟 1 个工作日罚款 {n} 元")
FINE_FALSIFIED_FORM = Rule("6.2.9", (50, 500), "弄虚作假填报技术服务单，处罚责任人 50—500 元/每次")

# --- Follow-up calls (section 8) -------------------------------------------------------------
FOLLOW_UP = Rule("8.1", 3, "每季度（{n} 个月）电话跟踪顾客一次")
ANNUAL_VISIT = Rule("8.2", 12, "每年至少一次电话巡访可靠性产品顾客")

# --- Service conduct (section 7) -------------------------------------------------------------
# 7.1–7.3: what the technician records on the report (records.cases.conduct.CHECKLIST).
CONDUCT_PLAN = Rule("7.1", None, "到达现场后向顾客详细了解产品使用情况，并简要介绍确定的处理方案")
CONDUCT_INSPECTION = Rule("7.2", None, "维修后询问顾客是否有其他故障需要排除，并对公司产品全面检测、检查")
CONDUCT_CONTACT = Rule("7.3", None, "将自己的联系方式留给顾客直接联系人员，并记下顾客的联系方式")
# 7.4: a 交际应酬 expense is not recognised (approved {n} 元) unless the technician's 主管领导
# agreed beforehand. Reading: "beforehand" = given before the expense's date (the claim has a
# date, not a time), i.e. on an earlier day (records.cases.conduct.prior_approval).
ENTERTAINMENT = Rule("7.4", 0, "交际应酬费用未事先征得主管领导同意，不予认可（核准 {n} 元）")

# --- Not regulation numbers: how early the UI warns of a deadline ----------------------------
WARN_WITHIN_WORKING_HOURS = 2
# Company parameter (not in the regulation): intake warns of a call from the same phone within
# this many days (records.cases.duplicates).
DUPLICATE_CALL_DAYS = 7

# --- Company parameter (company practice, not in the regulation) -----------------------------
# A notification e-mail the mail server refuses, or that cannot be sent, is tried at most this
# many times (one try per scheduled run); then it is marked failed and listed for the admin on
# the 邮件设置 page, who may queue it again.
MAIL_MAX_ATTEMPTS = 10

# Company parameter (company practice, not in the regulation): a session ends this many hours
# after its login, whatever the activity (records/users/sessions.py).
SESSION_HOURS = 12

# Company parameters (company practice, not in the regulation): the working hours a case may wait
# in a step the regulation gives no time limit (records/cases/idle.py, read through
# ``idle.step_hours`` only). Shown on the case page as 「公司规定」, flagged once by the overdue
# run, never fined. Keys: guidance 电话指导中, quote 编制费用报价, price 待财务定价,
# customer 待顾客确认费用, vp 待分管副总批准.
IDLE_STEP_HOURS = {"guidance": 16, "quote": 8, "price": 8, "customer": 40, "vp": 16}

# Company parameter (company practice, not in the regulation): a 报价单 (5.2.5) holds for this
# many days from the day it is sent (records/cases/quotation.py); set on the page 公司参数.
QUOTE_VALID_DAYS = 30

# Company parameter (company practice, not in the regulation): 返修 (GLOSSARY, 9.1) is a new
# fault on the same serial received within this many days of an on-site repair (its work completed).
REWORK_DAYS = 90


# --- 公司参数 (GLOSSARY: company parameters; company practice, not in the regulation) ---------
# The numbers above marked "company parameter" are the defaults; the admin (财务部 the labour
# rate) may set each on the page 公司参数 (/admin/parameters); the stored value wins
# (``parameter``), and every change is audited with its before and after (records/core/parameters.py).


@dataclass(frozen=True)
class Parameter:
    """A company parameter: its key, label, unit, default, limits, who sets it, which pages use it."""

    key: str
    label: str
    unit: str
    default: int
    minimum: int
    maximum: int
    setters: tuple[str, ...]  # roles that may set it
    used_on: tuple[str, ...]  # the pages (in users' words) that use it
    basis: str  # what it does, in Chinese


COMPANY_PARAMETERS: dict[str, Parameter] = {p.key: p for p in (
    Parameter("mail_max_attempts", "邮件最多尝试次数", "次", MAIL_MAX_ATTEMPTS, 1, 100, ("admin",), ("邮件设置",),
              "一封通知邮件被拒或发送失败时，最多尝试的次数（每次定时运行尝试一次），之后标为发送失败"),
    Parameter("session_hours", "登录有效时长", "小时", SESSION_HOURS, 1, 72, ("admin",), ("登录",),
              "登录后满此时长自动退出，无论是否在操作（环境变量 AFTERSALES_SESSION_HOURS 优先）"),
    Parameter("rework_days", "返修认定天数", "天", REWORK_DAYS, 1, 730, ("admin",), ("技术人员考核（9.1）",),
              "同一产品编号在现场维修完毕后此天数内再次报故障，计为返修"),
    Parameter("duplicate_call_days", "重复来电提示天数", "天", DUPLICATE_CALL_DAYS, 1, 365, ("admin",),
              ("登记来电",), "登记来电时，提示同一电话在此天数内的来电"),
    Parameter("labour_rate", "人工费率", "元/人·工作日", 0, 0, 100000, ("finance", "admin"), ("外部损失成本（9.4）",),
              "人工费 = 出发至返回的工作日数 × 派出人数 × 人工费率（由财务部设定；0 表示尚未设定）"),
    Parameter("claim_reply_days", "供应商索赔答复期限", "日历天", 15, 1, 365, ("admin",), ("供应商索赔（3.1）",),
              "索赔发出后，供应商应在此天数内答复"),
    Parameter("notice_ack_days", "技术通报确认期限", "天", 30, 1, 365, ("admin",), ("技术通报",),
              "顾客在此天数内未确认收到技术通报，转为跟踪任务（每份通报可另设）"),
    Parameter("quote_valid_days", "报价单有效期", "天", QUOTE_VALID_DAYS, 1, 365, ("admin",), ("报价单",),
              "报价单自发出之日起在此天数内有效（5.2.5 通知顾客费用时写入报价单）"),
    # The steps with no clock in the regulation (records/cases/idle.py): flagged, never fined.
    *(Parameter(f"idle_{step}_hours", f"{label}时限", "工作小时", IDLE_STEP_HOURS[step], 1, 400, ("admin",),
                ("案例页面", "逾期检查"), f"案例在「{label}」停留超过此工作小时数时提示并由逾期检查通知（不处罚）")
      for step, label in (("guidance", "电话指导中"), ("quote", "编制费用报价"), ("price", "待财务定价"),
                          ("customer", "待顾客确认费用"), ("vp", "待分管副总批准"))),
)}


class ParameterError(DomainError):
    pass


def parameter(source, key: str) -> int:
    """The company parameter ``key`` in force: the value stored on the page 公司参数, else the
    default above (``source``: a Store or an open Transaction)."""
    definition = COMPANY_PARAMETERS[key]
    return parameters.get(source, key, definition.default)


def check_parameter(key: str, raw) -> int:
    """``raw`` as a valid value of ``key`` (a whole number within its limits), or ParameterError on "value"."""
    definition = COMPANY_PARAMETERS.get(key)
    if definition is None:
        raise ParameterError("没有这个公司参数", "value")
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ParameterError(f"{definition.label}必须是整数", "value") from None
    if not definition.minimum <= value <= definition.maximum:
        raise ParameterError(f"{definition.label}须在 {definition.minimum}—{definition.maximum} {definition.unit}之间",
                             "value")
    return value


def may_set_parameter(roles, key: str) -> bool:
    return bool(set(roles or ()) & set(COMPANY_PARAMETERS[key].setters))


def set_parameter(store, key: str, raw, user: dict, note: str = "") -> int:
    """Set the company parameter ``key`` (checked, by one of its setters), audited with before and after."""
    value = check_parameter(key, raw)
    if not may_set_parameter(user.get("roles"), key):
        raise ParameterError("无权设置此参数", "value")
    note = (note or "").strip()
    if len(note) > 200:
        raise ParameterError("说明不能超过 200 个字", "note")
    parameters.set_value(store, key, value, user["username"], note)
    return value


def dispatch_bands_text() -> str:
    """5.1.1.3 in words, from the bands above (for forms and pages)."""
    parts = []
    for upper, hours in DISPATCH.value:
        parts.append(f"更远 {hours} 小时" if math.isinf(upper) else f"{upper:g} 公里内 {hours} 小时")
    return f"按 {DISPATCH.clause} 决定现场服务到达时限：" + "，".join(parts)


def dispatch_hours(distance_km: float) -> int:
    """Clock hours to arrive on site for a road distance, by 5.1.1.3.

    ≤ 300 km → 24 h; ≤ 1000 km → 48 h; beyond → 72 h.
    """
    if isinstance(distance_km, bool) or not isinstance(distance_km, (int, float)):
        raise ValueError(f"路程必须是数字（公里），收到的是 {distance_km!r}")
    if math.isnan(distance_km) or distance_km < 0:
        raise ValueError(f"路程必须是非负数（公里），收到的是 {distance_km!r}")
    for upper, hours in DISPATCH.value:
        if distance_km <= upper:
            return hours
    raise AssertionError("unreachable: the last band is unbounded")


def rule_text(rule: Rule) -> str:
    """A Rule's basis in words with its number (a range as "50—500"), for pages and forms."""
    value = rule.value
    n = f"{value[0]}—{value[1]}" if isinstance(value, tuple) and len(value) == 2 else value
    return rule.basis.format(n=n)
