"""The regulation's numbers, each in one place and tagged with its clause.

Every deadline, fine and schedule in the system reads its number from here, so that a
revision of 售后服务管理规定 is a change to this file alone, and so that every screen can show
*why* a deadline is what it is (clause + basis text).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time


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
    "路程 {km} 公里，接到请求后 {n} 小时内到达现场",
)

# --- Fines (proposals; a tq_manager confirms or waives, the GM may rule otherwise) ---------
FINE_HANDOVER_LATE = Rule("6.1.4", 50, "未按规定传递顾客信息，每次处罚责任人 {n} 元")
FINE_RECORD_UNCLEAR = Rule("6.1.5", 50, "信息记录不清导致额外费用，每条处罚责任人 {n} 元")
FINE_RETURN_UNAPPROVED = Rule("6.2.6", (50, 500), "未经技质部同意返回，处罚责任人 50—500 元/每次")
FINE_CONFIRM_LATE_PER_DAY = Rule("6.2.8", 50, "确认及费用审核每延迟 1 个工作日罚款 {n} 元")
FINE_FALSIFIED_FORM = Rule("6.2.9", (50, 500), "弄虚作假填报技术服务单，处罚责任人 50—500 元/每次")

# --- Follow-up calls (section 8) -------------------------------------------------------------
FOLLOW_UP = Rule("8.1", 3, "每季度（{n} 个月）电话跟踪顾客一次")
ANNUAL_VISIT = Rule("8.2", 12, "每年至少一次电话巡访可靠性产品顾客")

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

# Company parameters (company practice, not in the regulation): the working hours a case may wait
# in a step the regulation gives no time limit (records/cases/idle.py, read through
# ``idle.step_hours`` only). Shown on the case page as 「公司规定」, flagged once by the overdue
# run, never fined. Keys: guidance 电话指导中, quote 编制费用报价, price 待财务定价,
# customer 待顾客确认费用, vp 待分管副总批准.
IDLE_STEP_HOURS = {"guidance": 16, "quote": 8, "price": 8, "customer": 40, "vp": 16}

# Company parameter (company practice, not in the regulation): a 报价单 (5.2.5) holds for this
# many days from the day it is sent (records/cases/quotation.py).
QUOTE_VALID_DAYS = 30

# Company parameter (company practice, not in the regulation): 返修 (GLOSSARY, 9.1) is a new
# fault on the same serial received within this many days of an on-site repair (its work completed).
REWORK_DAYS = 90


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
