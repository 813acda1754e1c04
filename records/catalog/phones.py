"""Telephone numbers as people write them (6.1.1: the caller's phone; customers' contacts).

Accepted: digits (full-width ones too, kept as ASCII), spaces, ``- + ( )`` and an extension
written 转 or ext (``0312-5550101 转 8``). Anything else is refused with a Chinese message.
``digits`` is the number as a search matches it: the digits alone.
"""
from __future__ import annotations

import re

from records.core.errors import DomainError

# Full-width digits, plus, hyphen, parentheses and the ideographic space → their ASCII forms.
_WIDE = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "＋": "+", "－": "-", "（": "(",
                       "）": ")", "\u3000": " ", "—": "-"})
_ALLOWED = re.compile(r"^[0-9 ()+\-]*(?:(?:转|ext\.?|EXT\.?|Ext\.?)\s*[0-9]+)?$")
MAX_LEN = 40
# Not a regulation number (the company's choice, issue 10): the digits a phone search needs, by
# the lookup (fewer would list strangers' calls) and the duplicate warning alike.
MIN_SEARCH_DIGITS = 7
MESSAGE = "电话号码只能包含数字、空格、- + ( ) 以及分机号「转」或 ext"


def normalise(raw: str | None, label: str = "电话", field: str | None = None) -> str:
    """The phone as typed (the caller's, 6.1.1), full-width characters made ASCII and spaces tidied;
    "" when empty.

    Raises DomainError (naming ``field``) when it holds anything but the accepted characters, or
    no digit at all.
    """
    value = " ".join((raw or "").translate(_WIDE).split())
    if not value:
        return ""
    if len(value) > MAX_LEN:
        raise DomainError(f"{label}不能超过 {MAX_LEN} 个字符", field)
    if not _ALLOWED.match(value) or not digits(value):
        raise DomainError(f"{label}格式不正确：{MESSAGE}", field)
    return value


def digits(value: str | None) -> str:
    """Only the digits of a phone (full-width ones as ASCII): what a search compares."""
    return "".join(ch for ch in (value or "").translate(_WIDE) if ch.isdigit() and ch.isascii())


def is_phone(value: str | None) -> bool:
    """Whether ``value`` is written as a phone (what ``normalise`` accepts), e.g. a search query."""
    text = " ".join((value or "").translate(_WIDE).split())
    return bool(text) and bool(_ALLOWED.match(text)) and bool(digits(text))


def case_phone_digits(case: dict) -> str:
    """A case's caller phone as searches match it: the stored ``caller_phone_digits``, or for a
    case recorded before it was kept, the digits of ``caller_phone``."""
    return case.get("caller_phone_digits") or digits(case.get("caller_phone"))
