"""Aggregate queries (safe outputs): a count, mean or median of a project's approved data,
grouped by approved variables and optionally filtered, with disclosure control applied
before anything leaves. Counts are of people (each child her own), the unit disclosure
control protects; a group's count at or below the threshold is suppressed, the rest
rounded, and its mean or median withheld with it.

A result prints no totals, but its totals are published all the same, by the same query
with fewer variables under the same filters (by A alone; by nothing, the total). So the
counts go to ``disclosure.protect`` with those margins, counted in the same statement
(GROUP BY CUBE) exactly as those queries count them, for secondary suppression:

- grouped by one variable, the groups are one column with the ungrouped count as its
  total: a lone suppressed group takes the next smallest with it, or the total minus the
  rest would give it back;
- grouped by two, the counts are the A x B table with the counts by A as row totals, by
  B as column totals and the total in the corner, and suppression carries on across rows
  and columns until none has a lone suppressed cell. A combination absent from the data
  is a zero the reader can see (it is not listed, nor listed by a query filtered on B),
  so it is ``known``: it is not a suppressed cell protecting a small one, and it is
  never hidden in place of a count that would.

A mean or median is withheld wherever its count is suppressed, by either rule. Counts are
of distinct people, so a margin is at most (not always exactly) the sum of its cells; the
cells are protected as if it were.

Against the other results the project has asked for, ``query_history`` keeps whom each
answer counted (its population and each published group) and refuses a query that counts
nearly the same people as an earlier one, in whole or in any group: the two could be
subtracted. A refusal is audited and keeps nothing.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa
from sqlmodel import Session

from cohort import audit
from cohort.config import Settings
from cohort.control_characters import has_control
from cohort.errors import CohortError, Conflict
from cohort.i18n import refusal
from cohort.models import User
from cohort.research import projects, query_history
from cohort.research.catalogue import datasets
from cohort.research.disclosure import Cell, protect, statistic
from cohort.research.project_data import PERSON, Definition, open_views
from forms.i18n import N_

MEASURES = {"count": None, "mean": "avg", "median": "median"}
NUMERIC = ("integer", "number")
MAX_GROUPS = 2
MAX_FILTER_CHARS = 200  # longer than any value of a catalogued variable
DECIMALS = 2
SELECTED = "_selected"  # the rows the filters select, read once by the counts and the cells
TOO_CLOSE = N_(
    "this query counts nearly the same people as an earlier query of this project (%(threshold)s "
    "or fewer differ, in all or in one group), so the two results together could reveal "
    "them: choose a broader or a narrower filter, or other groups"
)


@dataclass(frozen=True)
class Query:
    dataset: str
    group_by: tuple[str, ...] = ()
    measure: str = "count"  # count, mean or median
    of: str | None = None  # the numeric variable a mean or median is of
    filters: tuple[tuple[str, str], ...] = ()  # (variable, value): rows where it equals

    def as_json(self) -> dict:
        return {
            "dataset": self.dataset,
            "group_by": list(self.group_by),
            "measure": self.measure,
            "of": self.of,
            "filters": [list(f) for f in self.filters],
        }


@dataclass(frozen=True)
class Row:
    groups: tuple[str, ...]
    n: int | None  # people, after disclosure control (None: suppressed)
    value: float | None = None  # the mean or median, withheld with its count


@dataclass(frozen=True)
class Result:
    query: Query
    rows: list[Row] = field(default_factory=list)

    @property
    def suppressed(self) -> int:
        return sum(row.n is None for row in self.rows)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _shown(name: str) -> str:
    """A name quoted back in a refusal, cut short so a huge one is not echoed whole."""
    return repr(name[:40])


def _check(query: Query, approved: dict[str, list[str]]) -> None:
    if query.dataset not in approved:
        raise CohortError(
            f"the project is not approved for dataset {_shown(query.dataset)}", field="dataset"
        )
    allowed = approved[query.dataset]
    named = [*query.group_by, *(f for f, _ in query.filters), *([query.of] if query.of else [])]
    for name in named:
        if name not in allowed:
            raise CohortError(
                f"{_shown(name)} is not an approved variable of {query.dataset}", field="group_by"
            )
    for _, value in query.filters:
        if len(value) > MAX_FILTER_CHARS or has_control(value):
            raise CohortError(
                f"a filter value must be at most {MAX_FILTER_CHARS} characters, with no "
                "control characters",
                field="filters",
            )
    if len(query.group_by) > MAX_GROUPS or len(set(query.group_by)) != len(query.group_by):
        raise CohortError(f"group by 1 or {MAX_GROUPS} different variables", field="group_by")
    if query.measure not in MEASURES:
        raise CohortError(f"the measure must be one of {', '.join(MEASURES)}", field="measure")
    if query.measure != "count":
        kind = datasets()[query.dataset].variables[query.of].type if query.of else None
        if kind not in NUMERIC:
            raise CohortError(f"a {query.measure} needs a numeric variable", field="of")


def _names(query: Query) -> list[str]:
    return [f"_group_{i}" for i in range(len(query.group_by))]


def _rows(query: Query) -> str:
    """The rows the filters select: group labels, the person, the measured value."""
    groups = [f"CAST({_q(g)} AS VARCHAR) AS _group_{i}" for i, g in enumerate(query.group_by)]
    value = [f"{_q(query.of)} AS _value"] if MEASURES[query.measure] else []
    where = " AND ".join(f"CAST({_q(f)} AS VARCHAR) = ?" for f, _ in query.filters) or "TRUE"
    read = ", ".join([*groups, PERSON, *value])
    return f"SELECT {read} FROM data.{_q(query.dataset)} WHERE {where}"  # noqa: S608


def _sql(query: Query) -> str:
    """Per group: its labels, a grouping level (0 for a group; for its margins, a bit set
    per variable added up, as SQL's GROUPING numbers them), the count of people and the
    measure. Grouped, the margins come too (GROUP BY CUBE), after the groups."""
    names = _names(query)
    measure = MEASURES[query.measure]
    value = f"{measure}(_value)" if measure else "NULL"
    level = f"GROUPING({', '.join(names)})" if names else "0"
    listed = ", ".join([*names, f"{level} AS _level", f"count(DISTINCT {PERSON})", value])
    sql = f"SELECT {listed} FROM {SELECTED}"  # noqa: S608
    if names:
        sql += f" GROUP BY CUBE({', '.join(names)}) ORDER BY _level, {', '.join(names)}"
    return sql


def _cells(con: duckdb.DuckDBPyConnection, query: Query, published: list[tuple]) -> None:
    """The answer's cells for ``query_history``, as its table ``_cells`` (cell, person):
    everyone the filters select (cell 0), and the people of each published group."""
    names = _names(query)
    con.execute(
        f"CREATE TEMP TABLE _members AS SELECT DISTINCT {', '.join([*names, PERSON])} "  # noqa: S608
        f"FROM {SELECTED}"
    )
    whole = f"SELECT {query_history.POPULATION} AS cell, {PERSON} AS person FROM _members"  # noqa: S608
    if not names:
        con.execute(f"CREATE TEMP TABLE {query_history.CELLS} AS {whole}")
        return
    groups = {"cell": pa.array(range(1, len(published) + 1), pa.int64())}
    for i, name in enumerate(names):
        groups[name] = pa.array([labels[i] for labels in published], pa.string())
    con.register("_published", pa.table(groups))
    on = " AND ".join(f"m.{n} IS NOT DISTINCT FROM p.{n}" for n in names)
    con.execute(
        f"CREATE TEMP TABLE {query_history.CELLS} AS SELECT DISTINCT cell, person FROM "  # noqa: S608
        f"({whole} UNION ALL SELECT p.cell, m.{PERSON} FROM _members m JOIN _published p ON {on})"
    )


Labels = tuple[str | None, ...]


@dataclass(frozen=True)
class _Table:
    """The counts laid out as ``disclosure.protect`` takes them, margins included."""

    grid: list[list[int]]
    at: dict[Labels, Cell]  # where each group's count is in the grid
    row_totals: bool = False
    column_totals: bool = False

    @property
    def zeros(self) -> frozenset[Cell]:
        """Cells the reader knows to be 0: a zero is never a row of a result (nor a
        margin), so an absent group or combination tells her it is one."""
        return frozenset(
            (r, c) for r, line in enumerate(self.grid) for c, n in enumerate(line) if n == 0
        )


def _table(raw: list[tuple], width: int) -> _Table:
    """Ungrouped: one cell. By A: one column, the total below it. By A and B: A down, B
    across, each row's total (the count by A) at its end, then a row of the counts by B
    with the total in the corner. A combination absent from the data is a 0 there."""
    counts = {tuple(r[:width]): r[width + 1] for r in raw if r[width] == 0}
    margins = {(r[width], *r[:width]): r[width + 1] for r in raw if r[width] != 0}
    if width == 0:
        return _Table([[n] for n in counts.values()], dict.fromkeys(counts, (0, 0)))
    if width == 1:
        grid = [[n] for n in counts.values()] + [[margins[(1, None)]]]
        return _Table(grid, {g: (i, 0) for i, g in enumerate(counts)}, column_totals=True)
    # GROUPING(a, b) is 1 where b is summed over (the counts by A), 2 by B, 3 the total
    down = [a for level, a, _ in margins if level == 1]
    across = [b for level, _, b in margins if level == 2]
    grid = [[*(counts.get((a, b), 0) for b in across), margins[(1, a, None)]] for a in down]
    grid.append([*(margins[(2, None, b)] for b in across), margins[(3, None, None)]])
    at = {(a, b): (r, c) for r, a in enumerate(down) for c, b in enumerate(across)}
    return _Table(grid, {g: at[g] for g in counts}, row_totals=True, column_totals=True)


def _published(query: Query, raw: list[tuple], settings: Settings) -> list[tuple[tuple, Row]]:
    """Each group with something to publish, by its labels as counted, and its row."""
    width = len(query.group_by)
    table = _table(raw, width)
    zeros = table.zeros
    published = protect(
        table.grid,
        threshold=settings.sdc_threshold,
        rounding=settings.sdc_rounding,
        row_totals=table.row_totals,
        column_totals=table.column_totals,
        known=zeros,
    )
    rows = []
    for r in (r for r in raw if r[width] == 0):
        row, column = table.at[tuple(r[:width])]
        if (row, column) in zeros:
            continue  # a group of no one: nothing to publish
        n = published[row][column]
        groups = tuple("" if g is None else g for g in r[:width])
        rows.append((tuple(r[:width]), Row(groups, n, _rounded(statistic(r[-1], n)))))
    return rows


def run(
    session: Session,
    settings: Settings,
    pseudonym_key: bytes,
    user: User,
    code: str,
    query: Query,
) -> Result:
    """The query's result as it may be published, unless it counts nearly the people of an
    earlier query of the project (``query_history``); audited either way."""
    project = projects.open_project(session, user, code)
    _check(query, project.variables)
    definition = Definition(
        variables={query.dataset: project.variables[query.dataset]},
        date_granularity=project.date_granularity,
        snapshot_at=datetime.now(UTC),
    )
    store = settings.research_store_path
    with open_views(session, store, pseudonym_key, code, definition, pseudonymise=False) as con:
        filters = [v for _, v in query.filters]
        con.execute(f"CREATE TEMP TABLE {SELECTED} AS {_rows(query)}", filters)
        raw = con.execute(_sql(query)).fetchall()
        rows = _published(query, raw, settings)
        _cells(con, query, [labels for labels, row in rows if row.n is not None])
        threshold = settings.sdc_threshold
        answered = query_history.record(con, settings.query_history_path, project.code, threshold)
    if not answered:
        audit.record(
            session,
            actor=user.username,
            action="research.query.refused",
            project=project.code,
            detail={**query.as_json(), "reason": "differencing"},
        )
        session.commit()  # the refusal is audited; raising must not roll that back
        raise refusal(Conflict, TOO_CLOSE, threshold=threshold)
    result = Result(query, [row for _, row in rows])
    audit.record(
        session,
        actor=user.username,
        action="research.query",
        project=project.code,
        detail={**query.as_json(), "groups": len(rows), "suppressed": result.suppressed},
    )
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), DECIMALS)
