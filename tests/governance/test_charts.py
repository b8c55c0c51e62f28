"""Chart geometry: bars as long as the rate, a line broken where a period has no value,
and a text description of every value."""

from itertools import pairwise

from cohort.governance.charts import OKABE_ITO, bar_chart, line_chart, rates_of


def test_bars_are_as_long_as_the_rate_and_say_it():
    chart = bar_chart("By site", [("A", 0.8), ("B", None), ("C", 0.0)], "no approaches")
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == chart.plot_width * 0.8
    assert widths[1:] == [0, 0]
    assert [bar.text for bar in chart.bars] == ["80.0%", "no approaches", "0.0%"]
    assert chart.description == "A: 80.0%; B: no approaches; C: 0.0%."
    assert chart.colour in OKABE_ITO


def test_a_line_breaks_where_a_period_has_no_value():
    chart = line_chart("Trend", [("Jan", 0.5), ("Feb", 0.6), ("Mar", None), ("Apr", 1.0)], "none")
    assert len(chart.segments) == 2
    assert [p.label for p in chart.points] == ["Jan", "Feb", "Apr"]
    top = chart.margin
    assert chart.points[-1].y == top  # 100% sits at the top of the plot


def test_x_labels_are_thinned_to_stay_readable():
    items = [(f"2026-{i:02d}-01", 0.5) for i in range(52)]
    labels = line_chart("Weeks", items, "none").x_labels
    assert 4 <= len(labels) <= 8
    assert all(b.x - a.x >= 7 * 10 for a, b in pairwise(labels))


def test_rates_of_a_consent_table_leave_out_the_total():
    rows = (("A", (8, 2, 10)), ("B", (0, 0, 0)), ("Total", (8, 2, 10)))
    assert rates_of(rows) == [("A", 0.8), ("B", None)]
