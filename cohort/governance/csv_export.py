"""Tables as CSV: as shown, or publishable (disclosure control applied to every count and
the rates recomputed from what is left). Cells a spreadsheet would run as a formula are
prefixed with a single quote."""

import csv
import io

from cohort.governance.tables import Table, cells
from cohort.research.disclosure import protect

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


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
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in [list(table.header), *cells(table, counts)]:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()
