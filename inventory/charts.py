"""A small server-side SVG chart of a product's stock over time (no JavaScript, no CDN)."""

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from inventory.selectors import StockPoint

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
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


def stock_chart_svg(points: Sequence[StockPoint], *, now: datetime | None = None) -> SafeString:
    """Return an SVG step chart of on-hand and available units after each movement."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    label = "Stock over time: on-hand and available units after each stock movement"
    if not points:
        return format_html(
            '<svg class="stock-chart" role="img" aria-label="{}" width="{}" height="60" '
            'viewBox="0 0 {} 60" xmlns="http://www.w3.org/2000/svg"><text x="{}" y="30">'
            "No stock movements yet.</text></svg>",
            label,
            WIDTH,
            WIDTH,
            LEFT,
        )
    start = points[0].at.timestamp()
    end = max(points[-1].at.timestamp(), now.timestamp() if now else 0.0)
    span = end - start
    top_value = _nice_ceiling(max(max(p.on_hand for p in points), 1))

    def x_of(index: int, point: StockPoint) -> float:
        if span <= 0:  # all at one instant: spread evenly
            return LEFT + plot_w * index / max(len(points) - 1, 1)
        return LEFT + plot_w * (point.at.timestamp() - start) / span

    def y_of(value: int) -> float:
        return TOP + plot_h * (1 - max(value, 0) / top_value)

    xs = [x_of(i, p) for i, p in enumerate(points)]
    right_edge = LEFT + plot_w if span > 0 else xs[-1]

    parts = [
        format_html(
            '<svg class="stock-chart" role="img" aria-label="{}" width="{}" height="{}" '
            'viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg" '
            'font-family="sans-serif" font-size="11">',
            label,
            WIDTH,
            HEIGHT,
            WIDTH,
            HEIGHT,
        ),
        format_html("<title>{}</title>", label),
    ]
    for value in (0, top_value // 2, top_value) if top_value > 1 else (0, 1):
        y = y_of(value)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>',
                LEFT,
                _n(y),
                LEFT + plot_w,
                _n(y),
                LEFT - 6,
                _n(y + 4),
                value,
            )
        )
    for attribute, name, colour, dash in SERIES:
        values = [getattr(p, attribute) for p in points]
        path = [f"M{xs[0]:.1f},{y_of(values[0]):.1f}"]
        for x, value in zip(xs[1:], values[1:], strict=True):
            path.append(f"H{x:.1f}V{y_of(value):.1f}")
        path.append(f"H{right_edge:.1f}")
        parts.append(
            format_html(
                '<path class="series series-{}" d="{}" fill="none" stroke="{}" '
                'stroke-width="2" stroke-dasharray="{}"><title>{}</title></path>',
                attribute,
                "".join(path),
                colour,
                dash or "none",
                name,
            )
        )
    parts.append(
        format_html_join(
            "",
            '<circle class="point" cx="{}" cy="{}" r="2.5" fill="#2563eb">'
            "<title>{} UTC: on hand {}, available {}</title></circle>",
            (
                (_n(x), _n(y_of(p.on_hand)), _when(p.at), p.on_hand, p.available)
                for x, p in zip(xs, points, strict=True)
            ),
        )
    )
    axis_y = TOP + plot_h + 16
    parts.append(
        format_html(
            '<text x="{}" y="{}" fill="#555">{}</text>'
            '<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>',
            LEFT,
            axis_y,
            _when(points[0].at),
            LEFT + plot_w,
            axis_y,
            _when(now or points[-1].at),
        )
    )
    legend_y = HEIGHT - 6
    for index, (_attribute, name, colour, dash) in enumerate(SERIES):
        x = LEFT + index * 120
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
                'stroke-dasharray="{}"/><text x="{}" y="{}">{}</text>',
                x,
                legend_y - 4,
                x + 24,
                legend_y - 4,
                colour,
                dash or "none",
                x + 30,
                legend_y,
                name,
            )
        )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped by format_html
