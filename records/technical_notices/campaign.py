"""The campaign of a 技术通报 that needs work on site: one step creates a case per affected product
(frozen at issue) with the notice linked, through records.cases.from_notice — free whatever the
warranty, starting at dispatch (待派出) with the notice's own due date and none of the
customer-request clocks (GLOSSARY); 6.2.5–6.2.8 and the 技术服务单 then apply as to any on-site
service. Run twice, it creates nothing new (one case per notice and product). Plain Python."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from records.calendar.workdays import now_local
from records.cases.from_notice import create_for_products
from records.cases.from_notice import existing as notice_cases
from records.core.store import Store

from .notices import may_write
from .vocab import ISSUED, TABLE, TechnicalNoticeError


@dataclass(frozen=True)
class CampaignResult:
    created: list[dict]  # the cases made now
    existing: list[dict]  # the cases an earlier run made


def pending(source, notice: dict) -> list[int]:
    """The affected products without a case for the notice yet."""
    have = notice_cases(source, notice["id"])
    return [p["product_id"] for p in notice.get("affected") or [] if p["product_id"] not in have]


def run(store: Store, notice_id: int, user: dict, now: datetime | None = None) -> CampaignResult:
    """技质部 runs the campaign of an issued notice that needs work on site: the cases wait for
    their dispatch (6.2.5); 6.2.5–6.2.8 then apply as to any on-site service."""
    if not may_write(user):
        raise TechnicalNoticeError("只有技质部可以发起技术通报的现场服务")
    now = now_local(now)
    with store.transaction(user["username"]) as tx:
        notice = tx.require(TABLE, notice_id)
        if notice["state"] != ISSUED:
            raise TechnicalNoticeError("只有已发布（未完成）的技术通报可以发起现场服务")
        if not notice.get("onsite"):
            raise TechnicalNoticeError("该技术通报不需要现场工作")
        ref = {"id": notice["id"], "number": notice["number"], "title": notice["title"],
               "onsite_due": notice["onsite_due"]}
        ids = [p["product_id"] for p in notice.get("affected") or []]
        created, there = create_for_products(tx, ref, ids, user["username"], now)
    return CampaignResult(created, there)
