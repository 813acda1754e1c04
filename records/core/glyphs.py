"""What the PDF fonts can draw: a character no font has (an emoji typed on a tablet keyboard)
prints as a visible replacement, never as an empty box. Used by ``pdf.py`` on every value a PDF
template shows."""
from __future__ import annotations

import logging
from functools import lru_cache

LOG = logging.getLogger(__name__)

EMOJI_TEXT = "[表情]"  # what an emoji no font draws prints as
# Joiners and modifiers that belong to the emoji before them (ZWJ, variation selectors, skin
# tones, keycap, tags): one emoji sequence prints as one replacement.
_JOINERS = frozenset({0x200D, 0xFE0E, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400)) | set(range(0xE0020, 0xE0080)))
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF), (0x3030, 0x3030),
                 (0x303D, 0x303D), (0x3297, 0x3299))


@lru_cache(maxsize=4)
def font_chars(path: str, family: str) -> frozenset[int]:
    """The characters the font ``family`` of the font file (or collection) at ``path`` has; empty
    when it cannot be read (then every emoji counts as not drawable)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        index = 0
        if path.lower().endswith((".ttc", ".otc")):
            coll = TTCollection(path, lazy=True)
            index = next((i for i, f in enumerate(coll.fonts) if f["name"].getDebugName(1) == family), 0)
        return frozenset(TTFont(path, fontNumber=index, lazy=True).getBestCmap())
    except Exception as exc:  # a missing or broken font file
        LOG.warning("无法读取字体 %s 的字符表：%r", path, exc)
        return frozenset()


def is_emoji(code: int) -> bool:
    return any(lo <= code <= hi for lo, hi in _EMOJI_RANGES)


def printable(text: str, drawable: frozenset[int] | set[int]) -> str:
    """``text`` with every emoji not in ``drawable`` (and its joiners and modifiers) replaced by
    ``EMOJI_TEXT``: one replacement per emoji sequence (a family joined by ZWJ, a flag's two
    letters, a skin tone). An emoji the font has (e.g. ☎, ★) stays."""
    if text.isascii():
        return text
    out: list[str] = []
    last = ""  # "emoji" after a replacement, "zwj" after its joiner, "ri" after a lone flag letter
    for ch in text:
        code = ord(ch)
        if last and code in _JOINERS:
            last = "zwj" if code == 0x200D else last
            continue
        if is_emoji(code) and code not in drawable:
            flag_letter = 0x1F1E6 <= code <= 0x1F1FF  # a flag is two of them
            if last == "zwj" or (last == "ri" and flag_letter):
                last = "emoji"
                continue
            out.append(EMOJI_TEXT)
            last = "ri" if flag_letter else "emoji"
            continue
        last = ""
        if code in _JOINERS and code not in drawable and code not in (0x200D, 0xFE0E, 0xFE0F):
            continue  # a stray skin tone or tag: nothing to draw it with
        out.append(ch)
    return "".join(out)
