"""The words of a 技术通报 (technical notice): its tables, kinds, states, delivery methods, the
error. A leaf of ``records.technical_notices``. In code "technical notice", never "notice" alone
(that is an inbox message, records.notifications.inbox)."""
from __future__ import annotations

from records.core.errors import DomainError

TABLE = "technical_notices"  # = records.cases.vocab.SOURCE_TABLES["technical_notice"][0]
DELIVERIES = "technical_notice_deliveries"  # one per notice and customer
NUMBER_PREFIX = "TB"  # TB2026-0001 (the yearly series of records.cases.numbers)
ISSUER = "技质部"
KINDS = {"defect": "已知缺陷及处理方法", "maintenance": "维护保养说明", "change": "软件或硬件更改"}
DRAFT, ISSUED, DONE = "draft", "issued", "done"
STATES = {DRAFT: "草稿", ISSUED: "已发布", DONE: "已完成"}
LIVE = (ISSUED, DONE)  # issued: its products are frozen, the PDF archived
METHODS = {"post": "邮寄", "fax": "传真", "hand": "面交", "phone": "电话告知"}
MAX_TEXT = 5000


class TechnicalNoticeError(DomainError):
    """A refused change of a technical notice (with the field in error)."""
