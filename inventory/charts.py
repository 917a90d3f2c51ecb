"""Small server-side SVG charts: a product's stock over time, and bar charts (no JavaScript, no CDN)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from inventory.selectors import StockPoint

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
SERIES = (("on_hand", "On hand", "#2563eb", ""), ("available", "Available", "#16a34a", "6 4"))


def _nice_ceiling(value: int) -> int:
    """Round up to 1, 2 or 5 times a power of ten, so gridline labels read well."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * step:
                return factor * step
        step *= 10


def _n(value: float) -> str:
    return f"{value:.1f}"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


LABEL = "Stock over time: on-hand and available units after each stock movement"


@dataclass(frozen=True)
class _Frame:
    """Where the points go: the x of each point and how units map to y."""

    xs: list[float]
    right_edge: float
    top_value: int

    def y_of(self, value: int) -> float:
        return TOP + PLOT_H * (1 - max(value, 0) / self.top_value)


def stock_chart_svg(points: Sequence[StockPoint], *, now: datetime | None = None) -> SafeString:
    """Return an SVG step chart of on-hand and available units after each movement."""
    if not points:
        return _empty_chart()
    frame = _frame(points, now=now)
    parts = [
        _svg_open(),
        *_gridlines(frame),
        *(_series_path(frame, points, series) for series in SERIES),
        _point_markers(frame, points),
        _time_axis(points, now=now),
        *_legend(),
        mark_safe("</svg>"),
    ]
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html


def _empty_chart() -> SafeString:
    return format_html(
        '<svg class="stock-chart" role="img" aria-label="{}" width="{}" height="60" '
        'viewBox="0 0 {} 60" xmlns="http://www.w3.org/2000/svg"><text x="{}" y="30">'
        "No stock movements yet.</text></svg>",
        LABEL,
        WIDTH,
        WIDTH,
        LEFT,
    )


def _frame(points: Sequence[StockPoint], *, now: datetime | None) -> _Frame:
    """Place the points on a time axis running from the first movement to `now`."""
    start = points[0].at.timestamp()
    end = max(points[-1].at.timestamp(), now.timestamp() if now else 0.0)
    span = end - start
    if span <= 0:  # all at one instant: spread evenly
        xs = [LEFT + PLOT_W * index / max(len(points) - 1, 1) for index in range(len(points))]
    else:
        xs = [LEFT + PLOT_W * (point.at.timestamp() - start) / span for point in points]
    return _Frame(
        xs=xs,
        right_edge=LEFT + PLOT_W if span > 0 else xs[-1],
        top_value=_nice_ceiling(max(max(p.on_hand for p in points), 1)),
    )


def _svg_open() -> SafeString:
    return format_html(
        '<svg class="stock-chart" role="img" aria-label="{}" width="{}" height="{}" '
        'viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="sans-serif" font-size="11"><title>{}</title>',
        LABEL,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        LABEL,
    )


def _gridlines(frame: _Frame) -> list[SafeString]:
    top = frame.top_value
    return [
        format_html(
            '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>'
            '<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>',
            LEFT,
            _n(frame.y_of(value)),
            LEFT + PLOT_W,
            _n(frame.y_of(value)),
            LEFT - 6,
            _n(frame.y_of(value) + 4),
            value,
        )
        for value in ((0, top // 2, top) if top > 1 else (0, 1))
    ]


def _series_path(frame: _Frame, points: Sequence[StockPoint], series: tuple) -> SafeString:
    """Draw one series as steps: level until the next movement, then up or down to it."""
    attribute, name, colour, dash = series
    values = [getattr(p, attribute) for p in points]
    path = [f"M{frame.xs[0]:.1f},{frame.y_of(values[0]):.1f}"]
    for x, value in zip(frame.xs[1:], values[1:], strict=True):
        path.append(f"H{x:.1f}V{frame.y_of(value):.1f}")
    path.append(f"H{frame.right_edge:.1f}")
    return format_html(
        '<path class="series series-{}" d="{}" fill="none" stroke="{}" '
        'stroke-width="2" stroke-dasharray="{}"><title>{}</title></path>',
        attribute,
        "".join(path),
        colour,
        dash or "none",
        name,
    )


def _point_markers(frame: _Frame, points: Sequence[StockPoint]) -> SafeString:
    return format_html_join(
        "",
        '<circle class="point" cx="{}" cy="{}" r="2.5" fill="#2563eb">'
        "<title>{} UTC: on hand {}, available {}</title></circle>",
        (
            (_n(x), _n(frame.y_of(p.on_hand)), _when(p.at), p.on_hand, p.available)
            for x, p in zip(frame.xs, points, strict=True)
        ),
    )


def _time_axis(points: Sequence[StockPoint], *, now: datetime | None) -> SafeString:
    axis_y = TOP + PLOT_H + 16
    return format_html(
        '<text x="{}" y="{}" fill="#555">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>',
        LEFT,
        axis_y,
        _when(points[0].at),
        LEFT + PLOT_W,
        axis_y,
        _when(now or points[-1].at),
    )


def _legend() -> list[SafeString]:
    legend_y = HEIGHT - 6
    return [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
            'stroke-dasharray="{}"/><text x="{}" y="{}">{}</text>',
            LEFT + index * 120,
            legend_y - 4,
            LEFT + index * 120 + 24,
            legend_y - 4,
            colour,
            dash or "none",
            LEFT + index * 120 + 30,
            legend_y,
            name,
        )
        for index, (_attribute, name, colour, dash) in enumerate(SERIES)
    ]


# Horizontal bar charts of the stock overview (inventory.dashboard): one row per label, one
# bar per series in each row, the number written at the end of each bar.
BAR_HEIGHT, BAR_GAP, ROW_GAP = 14, 2, 10
BAR_LABEL_W, BAR_TEXT_W = 220, 190
BAR_PLOT_W = WIDTH - BAR_LABEL_W - BAR_TEXT_W - RIGHT
# What fits the label column in the chart's 11px sans font even in capitals (~7.5px a
# letter): longer labels are cut with an ellipsis (whole in the tooltip and the table below).
MAX_LABEL_CHARS = 26


@dataclass(frozen=True)
class BarSeries:
    name: str
    colour: str


@dataclass(frozen=True)
class BarRow:
    """One label with a length per series (a number >= 0) and the text shown at each bar."""

    label: str
    lengths: tuple[float, ...]
    texts: tuple[str, ...]


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart_svg(
    *, title: str, rows: Sequence[BarRow], series: Sequence[BarSeries], empty: str
) -> SafeString:
    """Return a horizontal bar chart: each row's bars scaled to the longest of the chart.

    A bar of length 0 is drawn as a hairline, so a row whose number is unknown still shows
    its text ("value unknown") in place. Every label and text is escaped.
    """
    if not rows:
        return format_html(
            '<svg class="bar-chart" role="img" aria-label="{}" width="{}" height="40" '
            'viewBox="0 0 {} 40" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
            '<text x="8" y="24" font-family="sans-serif" font-size="12" fill="#555">{}</text></svg>',
            title,
            WIDTH,
            WIDTH,
            title,
            empty,
        )
    row_h = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP + ROW_GAP
    legend_h = 22 if len(series) > 1 else 0
    height = TOP + len(rows) * row_h + legend_h
    longest = max((length for row in rows for length in row.lengths), default=0) or 1
    parts = [
        format_html(
            '<svg class="bar-chart" role="img" aria-label="{}" width="{}" height="{}" '
            'viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg" '
            'font-family="sans-serif" font-size="11"><title>{}</title>',
            title,
            WIDTH,
            height,
            WIDTH,
            height,
            title,
        )
    ]
    for index, row in enumerate(rows):
        y = TOP + index * row_h
        parts.append(
            format_html(
                '<text class="bar-label" x="{}" y="{}" text-anchor="end" fill="#333">{}'
                "<title>{}</title></text>",
                BAR_LABEL_W - 8,
                _n(y + (row_h - ROW_GAP) / 2 + 4),
                _short(row.label),
                row.label,
            )
        )
        for number, (one, length, text) in enumerate(
            zip(series, row.lengths, row.texts, strict=True)
        ):
            bar_y = y + number * (BAR_HEIGHT + BAR_GAP)
            width = max(BAR_PLOT_W * max(length, 0) / longest, 1)
            parts.append(
                format_html(
                    '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {}, {}</title></rect>"
                    '<text class="bar-value" x="{}" y="{}" fill="#333">{}</text>',
                    BAR_LABEL_W,
                    bar_y,
                    _n(width),
                    BAR_HEIGHT,
                    one.colour,
                    row.label,
                    one.name,
                    text,
                    _n(BAR_LABEL_W + width + 6),
                    bar_y + BAR_HEIGHT - 3,
                    text,
                )
            )
    if legend_h:
        legend_y = height - 8
        parts += [
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/><text x="{}" y="{}">{}</text>',
                BAR_LABEL_W + index * 140,
                legend_y - 10,
                one.colour,
                BAR_LABEL_W + index * 140 + 18,
                legend_y,
                one.name,
            )
            for index, one in enumerate(series)
        ]
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html
