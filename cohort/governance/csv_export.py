"""Tables as CSV: as shown, or publishable (disclosure control applied to every count and
the rates recomputed from what is left), written by the platform's one CSV writer."""

from cohort.csv_cells import write_csv
from cohort.governance.tables import Table, cells
from cohort.research.disclosure import protect


def table_csv(table: Table, *, publishable: bool, threshold: int, rounding: int) -> str:
    counts = None
    if publishable:
        counts = protect(
            [list(c) for _, c in table.rows],
            threshold=threshold,
            rounding=rounding,
            row_totals=table.row_totals,
            column_totals=table.total_row,
        )
    return write_csv([list(table.header), *cells(table, counts)])
