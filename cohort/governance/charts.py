"""Server-drawn charts: the geometry of a bar or line chart computed from the figures, drawn
as SVG by ``governance_charts.html`` (so pages need no JavaScript). Colours are from the
Okabe-Ito palette, which stays distinct under every common colour-vision deficiency; each
chart has a text description, and the page shows its table beside it."""

from collections.abc import Sequence
from dataclasses import dataclass

from cohort.research.disclosure import rate

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
INK = "#212b32"  # the NHS.UK text colour
WIDTH = 640
LABEL_WIDTH = 220
BAR_HEIGHT = 22
GAP = 8
PLOT_HEIGHT = 220
MARGIN = 40
TICKS = (0, 0.25, 0.5, 0.75, 1.0)
CHAR_WIDTH = 7  # of an 11-pixel label, roughly


def percent(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"


def _description(items: Sequence[tuple[str, float | None]], empty: str) -> str:
    shown = [f"{name}: {percent(v) if v is not None else empty}" for name, v in items]
    return "; ".join(shown) + "." if shown else empty + "."


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float  # 0 when there is no value
    text: str


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    width: int
    height: int
    label_width: int
    bar_height: int
    plot_width: int
    bars: tuple[Bar, ...]
    colour: str = OKABE_ITO[0]
    ink: str = INK


def bar_chart(title: str, items: Sequence[tuple[str, float | None]], empty: str) -> BarChart:
    """Horizontal bars of rates (0 to 1), one per item, with the value written beside."""
    plot = WIDTH - LABEL_WIDTH - 70
    bars = tuple(
        Bar(
            name,
            i * (BAR_HEIGHT + GAP),
            (value or 0) * plot,
            percent(value) if value is not None else empty,
        )
        for i, (name, value) in enumerate(items)
    )
    return BarChart(
        title,
        _description(items, empty),
        WIDTH,
        max(len(bars), 1) * (BAR_HEIGHT + GAP),
        LABEL_WIDTH,
        BAR_HEIGHT,
        plot,
        bars,
    )


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    text: str


@dataclass(frozen=True)
class LineChart:
    title: str
    description: str
    width: int
    height: int
    margin: int
    plot_height: int
    segments: tuple[str, ...]  # SVG path data, broken where a period has no value
    points: tuple[Point, ...]
    x_labels: tuple[Point, ...]
    y_ticks: tuple[tuple[float, str], ...]
    colour: str = OKABE_ITO[0]
    ink: str = INK


def line_chart(title: str, items: Sequence[tuple[str, float | None]], empty: str) -> LineChart:
    """A rate (0 to 1) over periods; gaps where a period has no value. Only as many period
    labels are written under the axis as fit side by side."""
    n = len(items)
    longest = max((len(name) for name, _ in items), default=1)
    max_labels = max(2, (WIDTH - 2 * MARGIN) // (CHAR_WIDTH * longest + 12))
    step = (WIDTH - 2 * MARGIN) / max(n - 1, 1)

    def y_of(value: float) -> float:
        return MARGIN + PLOT_HEIGHT * (1 - value)

    points, segments, current = [], [], []
    for i, (name, value) in enumerate(items):
        x = MARGIN + i * step
        if value is None:
            if current:
                segments.append(current)
            current = []
            continue
        point = Point(round(x, 1), round(y_of(value), 1), name, percent(value))
        points.append(point)
        current.append(point)
    if current:
        segments.append(current)
    every = max(1, -(-n // max_labels))
    x_labels = tuple(
        Point(round(MARGIN + i * step, 1), MARGIN + PLOT_HEIGHT + 18, name, "")
        for i, (name, _) in enumerate(items)
        if i % every == 0
    )
    return LineChart(
        title,
        _description(items, empty),
        WIDTH,
        PLOT_HEIGHT + 2 * MARGIN + 10,
        MARGIN,
        PLOT_HEIGHT,
        tuple("M" + " L".join(f"{p.x},{p.y}" for p in segment) for segment in segments),
        tuple(points),
        x_labels,
        tuple((y_of(t), f"{t * 100:.0f}%") for t in TICKS),
    )


def rates_of(rows: Sequence[tuple[str, tuple[int, ...]]]) -> list[tuple[str, float | None]]:
    """(label, consented / approached) for consent-rate table rows, total row left out."""
    return [(name, rate(c[0], c[2])) for name, c in rows[:-1]]
