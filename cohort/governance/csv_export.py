"""Tables as CSV: as shown, or publishable (disclosure control applied to every count and
the rates recomputed from what is left), written by the platform's one CSV writer."""

from cohort.csv_cells import write_csv
from cohort.governance.tables import Table, cells
from cohort.research.disclosure import Protected, protect


def protected(table: Table, *, threshold: int, rounding: int) -> Protected:
    """The table's counts as they may be published. Counts beside the row total (births)
    are protected as a block of their own, against their column totals only."""
    grid = [list(c) for _, c in table.rows]
    split = len(grid[0]) - table.beside if grid else 0
    totalled = protect(
        [row[:split] for row in grid],
        threshold=threshold,
        rounding=rounding,
        row_totals=table.row_totals,
        column_totals=table.total_row,
    )
    if not table.beside:
        return totalled
    beside = protect(
        [row[split:] for row in grid],
        threshold=threshold,
        rounding=rounding,
        column_totals=table.total_row,
    )
    return [left + right for left, right in zip(totalled, beside, strict=True)]


def table_csv(table: Table, *, publishable: bool, threshold: int, rounding: int) -> str:
    counts = protected(table, threshold=threshold, rounding=rounding) if publishable else None
    return write_csv([list(table.header), *cells(table, counts)])
