"""A small server-side SVG chart of a product's stock over time (no JavaScript, no CDN)."""

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
