"""A query result as a bar chart, drawn by the governance chart code (bars scaled to the
largest figure shown, each labelled with its published value; a suppressed group has no
bar and says so), so the chart never shows more than the table beside it."""

from dataclasses import replace

from cohort.governance.charts import BarChart, bar_chart
from cohort.research.queries import Result


def _label(groups: tuple[str, ...]) -> str:
    return " · ".join(groups) or "everyone"


def chart(result: Result, title: str, suppressed: str) -> BarChart:
    measure = result.query.measure
    values = [row.n if measure == "count" else row.value for row in result.rows]
    top = max((v for v in values if v is not None), default=0) or 1
    drawn = bar_chart(
        title,
        [
            (_label(r.groups), None if v is None else v / top)
            for r, v in zip(result.rows, values, strict=True)
        ],
        suppressed,
    )
    texts = [suppressed if v is None else f"{v:g}" for v in values]
    bars = tuple(replace(bar, text=text) for bar, text in zip(drawn.bars, texts, strict=True))
    description = "; ".join(
        f"{_label(r.groups)}: {t}" for r, t in zip(result.rows, texts, strict=True)
    )
    return replace(drawn, bars=bars, description=description + ".")
