"""Statistical disclosure control: the one rule every published count passes through.

Primary suppression hides counts at or below ``threshold``. Secondary suppression then
hides more cells until no suppressed cell can be worked back from a published total: in
every row or column that adds up to a total, a lone suppressed cell takes the smallest
other cell with it. A cell the reader can work out whatever is published (``known``: in a
query result, a group absent from the data, which is a true zero) is neither suppressed
nor taken as that other cell: hiding it would protect nothing. Every count still shown is
rounded to the nearest ``rounding``. A rate built on a suppressed count is withheld
(``rate`` returns None), and so is a mean or median whose group count is (``statistic``).

``protect_groups`` is the same rule for a free-form result (the SQL console's): its groups
are known only by their labels, and every coarser grouping of them, down to the grand
total, is one more query away, so each is taken as a published sum.
"""

from collections.abc import Hashable, Sequence
from itertools import combinations

Grid = list[list[int]]
Protected = list[list[int | None]]
Cell = tuple[int, int]  # (row, column)


def round_to(count: int, base: int) -> int:
    """Nearest multiple of ``base``, halves rounded up (12.5 -> 15), as integers."""
    return (count + base // 2) // base * base


def _relations(grid: Grid, row_totals: bool, column_totals: bool) -> list[list[Cell]]:
    """The cell groups that add up to a published total, each including that total."""
    rows, cols = len(grid), len(grid[0]) if grid else 0
    found = [[(r, c) for c in range(cols)] for r in range(rows)] if row_totals else []
    if column_totals:
        found += [[(r, c) for r in range(rows)] for c in range(cols)]
    return found


def _secondary(grid: Grid, hidden: set[Cell], relations, known: frozenset[Cell]) -> None:
    changed = True
    while changed:
        changed = False
        for cells in relations:
            if sum(cell in hidden for cell in cells) == 1:
                shown = [cell for cell in cells if cell not in hidden and cell not in known]
                if shown:
                    hidden.add(min(shown, key=lambda rc: (grid[rc[0]][rc[1]], rc)))
                    changed = True


def protect(
    grid: Grid,
    *,
    threshold: int,
    rounding: int,
    row_totals: bool = False,
    column_totals: bool = False,
    known: frozenset[Cell] = frozenset(),
) -> Protected:
    """The grid as it may be published: None where suppressed, other counts rounded.

    ``row_totals``: the last cell of each row is the sum of the others; ``column_totals``:
    the last row is the sum of the rows above. ``known``: cells the reader already has
    (never suppressed, never hidden to protect another; they count as shown)."""
    hidden = {
        (r, c)
        for r, row in enumerate(grid)
        for c, count in enumerate(row)
        if count <= threshold and (r, c) not in known
    }
    _secondary(grid, hidden, _relations(grid, row_totals, column_totals), known)
    return [
        [None if (r, c) in hidden else round_to(count, rounding) for c, count in enumerate(row)]
        for r, row in enumerate(grid)
    ]


ALL_MARGINS_UP_TO = 8  # label columns; beyond, margins over at most MARGIN_COLUMNS of them
MARGIN_COLUMNS = 3


def _margins(labels: Sequence[tuple[Hashable, ...]]) -> list[list[Cell]]:
    """For every proper subset of the label columns, the groups that share its values:
    each adds up to a count another query would publish (the empty subset: the total)."""
    width = len(labels[0]) if labels else 0
    sizes = range(width) if width <= ALL_MARGINS_UP_TO else range(MARGIN_COLUMNS + 1)
    found = []
    for size in sizes:
        for kept in combinations(range(width), size):
            groups: dict[tuple, list[Cell]] = {}
            for r, label in enumerate(labels):
                groups.setdefault(tuple(label[i] for i in kept), []).append((r, 0))
            found += [cells for cells in groups.values() if len(cells) > 1]
    return found


def protect_groups(
    labels: Sequence[tuple[Hashable, ...]], counts: Sequence[int], *, threshold: int, rounding: int
) -> list[int | None]:
    """Counts of groups named by ``labels`` (a row's other values), as they may be
    published: protected against every margin of them, other counts rounded. Labels that
    are really figures (a mean beside the count) only add margins: more protection, never
    less."""
    grid = [[count] for count in counts]
    hidden = {(r, 0) for r, count in enumerate(counts) if count <= threshold}
    _secondary(grid, hidden, _margins(labels), frozenset())
    return [None if (r, 0) in hidden else round_to(c, rounding) for r, c in enumerate(counts)]


def rate(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator, withheld (None) when either is suppressed or the
    denominator is zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def statistic(value: float | None, count: int | None) -> float | None:
    """A mean or median, withheld (None) when the count it summarises is suppressed."""
    return None if count is None else value
