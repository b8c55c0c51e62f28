"""A query result as a table of text cells: the group columns, the count of people and
the mean or median, with what disclosure control hid written as a word, never a number.
The command line prints it or writes it as CSV (cells a spreadsheet would run as a
formula neutralised)."""

from cohort.csv_cells import write_csv
from cohort.research.queries import Result

SUPPRESSED, WITHHELD = "suppressed", "withheld"


def cells(result: Result) -> list[list[str]]:
    """The header, then one row per group."""
    query = result.query
    header = [*query.group_by, "people"]
    if query.measure != "count":
        header.append(f"{query.measure} {query.of}")
    rows = [header]
    for row in result.rows:
        line = [*row.groups, SUPPRESSED if row.n is None else str(row.n)]
        if query.measure != "count":
            line.append(WITHHELD if row.value is None else str(row.value))
        rows.append(line)
    return rows


def as_csv(result: Result) -> str:
    return write_csv(cells(result))


def as_text(result: Result) -> str:
    """Tab-separated, one line per row, for a terminal or ``cut``."""
    return "".join("\t".join(line) + "\n" for line in cells(result))
