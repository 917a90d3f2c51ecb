import re
from datetime import UTC, datetime, timedelta

from inventory.charts import HEIGHT, LEFT, TOP, WIDTH, stock_chart_svg
from inventory.selectors import StockPoint

T0 = datetime(2024, 12, 1, 9, 0, tzinfo=UTC)


def path_of(svg: str, series: str) -> str:
    return re.search(rf'class="series series-{series}" d="([^"]+)"', svg).group(1)


def test_chart_draws_on_hand_and_available_as_step_lines():
    points = [
        StockPoint(T0, 10, 10),
        StockPoint(T0 + timedelta(days=1), 10, 6),
        StockPoint(T0 + timedelta(days=2), 20, 16),
    ]

    svg = str(stock_chart_svg(points))

    assert svg.startswith('<svg class="stock-chart" role="img"')
    assert svg.endswith("</svg>")
    on_hand = path_of(svg, "on_hand")
    available = path_of(svg, "available")
    # y axis tops out at 20: y(20) = TOP, y(10) is half way, and x spans the plot width.
    plot_h = HEIGHT - TOP - 40
    assert on_hand.startswith(f"M{LEFT:.1f},{TOP + plot_h / 2:.1f}")
    assert on_hand.count("V") == 2
    assert f"V{TOP:.1f}" in on_hand
    assert available != on_hand
    assert svg.count('class="point"') == 3
    assert "2024-12-02 09:00 UTC: on hand 10, available 6" in svg
    assert f'viewBox="0 0 {WIDTH} {HEIGHT}"' in svg


def test_chart_extends_the_last_value_to_now():
    points = [StockPoint(T0, 5, 5), StockPoint(T0 + timedelta(hours=1), 7, 7)]

    svg = str(stock_chart_svg(points, now=T0 + timedelta(hours=2)))

    # The second point sits half way along the time axis; the line runs on to the right edge.
    right_edge = WIDTH - 16
    assert path_of(svg, "on_hand").endswith(f"H{right_edge:.1f}")
    assert "2024-12-01 11:00" in svg


def test_chart_of_movements_at_one_instant_spreads_them_evenly():
    svg = str(stock_chart_svg([StockPoint(T0, 1, 1), StockPoint(T0, 3, 3)]))

    xs = re.findall(r'<circle class="point" cx="([\d.]+)"', svg)
    assert xs == [f"{LEFT:.1f}", f"{WIDTH - 16:.1f}"]


def test_chart_without_movements_says_so():
    svg = str(stock_chart_svg([]))

    assert "<svg" in svg
    assert "No stock movements yet." in svg


def test_chart_contains_no_external_references_or_scripts():
    svg = str(stock_chart_svg([StockPoint(T0, 1, 0)]))

    assert "<script" not in svg
    assert "href" not in svg
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
