"""The one shape every dashboard table has, shown on the page and downloaded as CSV:
labelled rows of counts, optional totals, and figures derived from the counts (rates,
shares) so the publishable export can recompute them from protected counts."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Counts = Sequence[int | None]
WITHHELD = "suppressed"


@dataclass(frozen=True)
class Derived:
    label: str
    compute: Callable[[Counts, Counts | None], float | None]  # (row, total row) -> value
    empty: str  # shown when there is nothing to divide by
    signed: bool = False  # a difference in percentage points, not a percentage


@dataclass(frozen=True)
class Table:
    key: str  # names its download
    title: str
    columns: tuple[str, ...]  # the row label's heading, then one per count
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    derived: tuple[Derived, ...] = ()
    row_totals: bool = False  # the last count of each row adds up the others
    total_row: bool = False  # the last row adds up the rows above
    # The last ``beside`` counts of each row stand outside its row total (births beside
    # the approached): only their column totals relate them.
    beside: int = 0

    @property
    def header(self) -> tuple[str, ...]:
        return (*self.columns, *(d.label for d in self.derived))

    @property
    def empty(self) -> bool:
        return not any(any(counts) for _, counts in self.rows)


def _figure(value: float | None, derived: Derived, withheld: bool) -> str:
    if value is None:
        return WITHHELD if withheld else derived.empty
    return f"{value * 100:+.1f}" if derived.signed else f"{value * 100:.1f}%"


def cells(table: Table, counts: Sequence[Counts] | None = None) -> list[list[str]]:
    """The table as text, one list per row; ``counts`` replaces the table's own (protected
    counts for a publishable copy, None where suppressed)."""
    grid = counts if counts is not None else [c for _, c in table.rows]
    total = grid[-1] if table.total_row and grid else None
    out = []
    for (label, _), row in zip(table.rows, grid, strict=True):
        withheld = any(n is None for n in row) or (total is not None and None in total)
        shown = [WITHHELD if n is None else str(n) for n in row]
        figures = [_figure(d.compute(row, total), d, withheld) for d in table.derived]
        out.append([label, *shown, *figures])
    return out
