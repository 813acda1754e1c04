"""Server-side SVG charts of section 9 (9.2, 9.3): a Pareto chart and a trend chart (pure).

Hand-built SVG text, every label escaped: no JavaScript, no ``<style>`` and no ``style=``
attribute (the app's CSP allows neither inline script nor inline style), no external resource.
The same text goes into the page (inlined) and into the quarterly report's PDF (WeasyPrint renders
SVG); Chinese labels use the app's fonts (``FONTS``: the PDFs' FormCJK cut first, then the
system's Noto Sans CJK). A chart never stands alone: its caller prints the numbers in a table.
Each bar and point carries ``data-label`` / ``data-value`` so that tests read the figures back.
"""
from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

FONTS = "FormCJK, 'Noto Sans CJK SC', 'Noto Sans SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', sans-serif"
BAR = "#4e79a7"
LINE = "#e15759"
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")
WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 34, 70


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, body: str, size: int = 11, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'font-family="{FONTS}" fill="#333"{extra}>{escape(str(body))}</text>')


def _short(label: str, limit: int = 8) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _scale_max(value: float) -> int:
    """A round top for the axis at or above ``value`` (at least 1)."""
    value = max(1, value)
    step = 1
    while step * 10 < value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step


def _svg(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-label={quoteattr(title)} class="chart">'
            f'<title>{escape(title)}</title>'
            + _text(width / 2, 18, title, 13) + "".join(body) + "</svg>")


def _axes(top_value: int, plot_h: float, right_axis: bool, width: int) -> list[str]:
    out = [f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{_num(TOP + plot_h)}" stroke="#999"/>',
           f'<line x1="{LEFT}" y1="{_num(TOP + plot_h)}" x2="{width - RIGHT}" y2="{_num(TOP + plot_h)}" stroke="#999"/>']
    for i in range(5):
        y = TOP + plot_h - plot_h * i / 4
        out.append(_text(LEFT - 4, y + 4, _num(top_value * i / 4), 10, "end"))
        if right_axis:
            out.append(_text(width - RIGHT + 4, y + 4, f"{25 * i}%", 10, "start"))
        if i:
            out.append(f'<line x1="{LEFT}" y1="{_num(y)}" x2="{width - RIGHT}" y2="{_num(y)}" stroke="#eee"/>')
    if right_axis:
        out.append(f'<line x1="{width - RIGHT}" y1="{TOP}" x2="{width - RIGHT}" y2="{_num(TOP + plot_h)}" stroke="#999"/>')
    return out


def pareto_svg(title: str, rows: Sequence[tuple[str, int, float]]) -> str:
    """A Pareto chart (9.3, 排列图): one bar per ``(label, count, cumulative %)`` in the order given (sorted by
    the caller), the cumulative share as a line on the right axis (0–100 %)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = []
    if not rows:
        return _svg(title, [_text(WIDTH / 2, HEIGHT / 2, "本期无数据")])
    top_value = _scale_max(max(r[1] for r in rows))
    body += _axes(top_value, plot_h, True, WIDTH)
    slot = plot_w / len(rows)
    bar_w = max(2.0, slot * 0.6)
    points = []
    for i, (label, count, cumulative) in enumerate(rows):
        x = LEFT + slot * i + (slot - bar_w) / 2
        h = plot_h * count / top_value
        y = TOP + plot_h - h
        body.append(f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" height="{_num(h)}" '
                    f'fill="{BAR}" data-label={quoteattr(label)} data-value="{count}"/>')
        body.append(_text(x + bar_w / 2, y - 3, count, 10))
        body.append(_text(x + bar_w / 2, TOP + plot_h + 14, _short(label), 10))
        points.append((x + bar_w / 2, TOP + plot_h - plot_h * cumulative / 100, label, cumulative))
    path = " ".join(f"{_num(px)},{_num(py)}" for px, py, _, _ in points)
    body.append(f'<polyline class="cumulative" points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for px, py, label, cumulative in points:
        body.append(f'<circle class="point" cx="{_num(px)}" cy="{_num(py)}" r="3" fill="{LINE}" '
                    f'data-label={quoteattr(label)} data-value="{_num(cumulative)}"/>')
    body.append(_legend([("数量", BAR), ("累计百分比", LINE)], HEIGHT - 22))
    return _svg(title, body)


def _legend(items: Sequence[tuple[str, str]], y: float, width: int = WIDTH) -> str:
    out, x = [], LEFT
    for label, colour in items:
        out.append(f'<rect x="{_num(x)}" y="{_num(y - 9)}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y, _short(label, 12), 10, "start"))
        x += 22 + 11 * min(len(label), 12)
        if x > width - RIGHT - 60:
            break
    return "".join(out)


def trend_svg(title: str, periods: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    """A trend chart: one line per ``(label, counts)`` over ``periods`` (e.g. the last 8 quarters)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    if not periods or not series:
        return _svg(title, [_text(WIDTH / 2, HEIGHT / 2, "本期无数据")])
    top_value = _scale_max(max((max(counts) for _, counts in series if counts), default=0))
    body = _axes(top_value, plot_h, False, WIDTH)
    step = plot_w / max(1, len(periods) - 1) if len(periods) > 1 else 0
    xs = [LEFT + (step * i if len(periods) > 1 else plot_w / 2) for i in range(len(periods))]
    for x, label in zip(xs, periods):
        body.append(_text(x, TOP + plot_h + 14, label, 10))
    for n, (label, counts) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        pts = [(x, TOP + plot_h - plot_h * c / top_value, c) for x, c in zip(xs, counts)]
        body.append(f'<polyline class="series" data-label={quoteattr(label)} points="'
                    + " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in pts)
                    + f'" fill="none" stroke="{colour}" stroke-width="2"/>')
        for (x, y, c), period in zip(pts, periods):
            body.append(f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="3" fill="{colour}" '
                        f'data-label={quoteattr(label)} data-period={quoteattr(period)} data-value="{c}"/>')
    body.append(_legend([(label, PALETTE[n % len(PALETTE)]) for n, (label, _) in enumerate(series)], HEIGHT - 22))
    return _svg(title, body)
