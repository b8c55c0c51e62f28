"""The SQL console (safe settings) for projects approved for row-level work: one SELECT at
a time over the project's latest extract, in a DuckDB of its own.

- Only that extract is there: its Parquet files are loaded into an in-memory database
  (read by this module, not by the query), then file access, extension loading and
  installing are switched off and the configuration locked, so no statement can reach a
  file, another database or the network.
- Only a single SELECT is run: the text is split by DuckDB's own parser and any other
  statement type (ATTACH, COPY, INSTALL, LOAD, PRAGMA, SET, DDL, DML...) or a second
  statement is refused before anything runs.
- At most ``ROW_LIMIT`` rows come back, and a query still running after ``TIME_LIMIT_S``
  is interrupted.
- Disclosure control: in a query that aggregates (GROUP BY, or any aggregate or window
  function) a column is a count when its select item is ``count(...)`` or its name is
  ``n``, ``n_...`` or ``count...``. Counts at or below the threshold are suppressed, and
  then more, so none can be worked back from a margin another query would give (the
  grand total, the counts by any of the row's other columns: ``protect_groups``); the
  rest are rounded, and every other number in a row with a suppressed count is withheld (a
  numeric group label too: the console cannot tell a label from a figure). An
  aggregate without a count is refused, since nothing would say how many people each
  figure stands for. Row-level results are the extract's own rows, which the project is
  approved to hold.
"""

import json
import re
import threading
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
from sqlmodel import Session

from cohort import audit
from cohort.config import Settings
from cohort.errors import CohortError, Forbidden
from cohort.models import User
from cohort.research import extracts, projects
from cohort.research.disclosure import protect_groups
from cohort.research.project_data import QUIET

ROW_LIMIT = 1000
MAX_STATEMENT_CHARS = 100_000  # far beyond any query a person writes; parsing stays quick
TIME_LIMIT_S = 10.0
LOCKED = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}
NUMBERS = (int, float, Decimal)


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool  # more rows than ROW_LIMIT
    aggregate: bool  # disclosure control was applied
    suppressed: int


class Refused(CohortError):
    """A statement the console does not run."""


def check_statement(sql: str) -> str:
    """The one SELECT statement in ``sql``, or a refusal naming what was found."""
    if len(sql) > MAX_STATEMENT_CHARS:
        raise Refused(
            f"the statement must be at most {MAX_STATEMENT_CHARS:,} characters", field="sql"
        )
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise Refused(
            f"the query cannot be read: {str(exc).splitlines()[0]}", field="sql"
        ) from None
    if len(statements) != 1:
        raise Refused(f"run one statement at a time (found {len(statements)})", field="sql")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise Refused(f"only SELECT statements run here, not {kind.name}", field="sql")
    return sql


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


COUNT_FUNCTIONS = {"count", "count_star"}
COUNT_NAME = re.compile(r"(n|n_.*|count.*)", re.IGNORECASE)


@dataclass(frozen=True)
class Shape:
    aggregate: bool
    counts: frozenset[int]  # select-list positions that are counts (no * in the list)


def shape(con: duckdb.DuckDBPyConnection, sql: str) -> Shape:
    """Whether the query aggregates (GROUP BY anywhere, any aggregate or window function)
    and which of its top select items are ``count(...)``."""
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    names = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() "
            "WHERE function_type = 'aggregate'"
        ).fetchall()
    } | {"count_star"}
    aggregate = any(
        node.get("group_expressions")
        or node.get("class") == "WINDOW"
        or (node.get("class") == "FUNCTION" and node.get("function_name") in names)
        for node in _walk(tree)
    )
    items = (tree.get("statements") or [{}])[0].get("node", {}).get("select_list", [])
    counted = frozenset(
        i for i, item in enumerate(items) if item.get("function_name") in COUNT_FUNCTIONS
    )
    if any(item.get("class") == "STAR" for item in items):
        counted = frozenset()
    return Shape(aggregate, counted)


def _load(con: duckdb.DuckDBPyConnection, folder, names: list[str]) -> None:
    for name in names:
        table = name.removesuffix(".parquet")
        con.register("incoming", pq.read_table(folder / name))
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM incoming')  # noqa: S608
        con.unregister("incoming")


def _label(value: object) -> object:
    """A value usable as a group's label (a DuckDB list or struct is not hashable)."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _protected(
    columns: list[str], rows: list[tuple], counted: frozenset[int], settings: Settings
) -> tuple[list[tuple], int]:
    counts = [
        i
        for i, c in enumerate(columns)
        if (i in counted or COUNT_NAME.fullmatch(c))
        and all(type(r[i]) is int or r[i] is None for r in rows)
    ]
    if not counts:
        raise Refused(
            "an aggregate query must return a count of people in each group, such as "
            "count(DISTINCT pseudonym) AS n, so disclosure control can check its size",
            field="sql",
        )
    if not rows:
        return rows, 0
    labels = [tuple(_label(v) for j, v in enumerate(r) if j not in counts) for r in rows]
    columns_shown = [
        protect_groups(
            labels,
            [r[i] or 0 for r in rows],
            threshold=settings.sdc_threshold,
            rounding=settings.sdc_rounding,
        )
        for i in counts
    ]
    grid = [list(shown) for shown in zip(*columns_shown, strict=True)]
    out, suppressed = [], 0
    for row, shown in zip(rows, grid, strict=True):
        hidden = any(v is None for v in shown)
        suppressed += hidden
        cells = list(row)
        for i, value in zip(counts, shown, strict=True):
            cells[i] = value
        if hidden:
            cells = [
                None
                if (j not in counts and isinstance(v, NUMBERS) and not isinstance(v, bool))
                else v
                for j, v in enumerate(cells)
            ]
        out.append(tuple(cells))
    return out, suppressed


def run(
    session: Session,
    settings: Settings,
    user: User,
    code: str,
    sql: str,
    *,
    row_limit: int = ROW_LIMIT,
    time_limit_s: float = TIME_LIMIT_S,
) -> ConsoleResult:
    project = projects.open_project(session, user, code)
    if not project.row_level:
        raise Forbidden(f"project {project.code} is approved for aggregate queries only")
    check_statement(sql)
    latest = extracts.listed(session, project)
    if not latest:
        raise CohortError("make an extract first: the console works on the latest one")
    extract = latest[0].extract
    folder = extracts.directory(settings, project.code, extract.id)
    con = duckdb.connect(config=LOCKED)
    timer = threading.Timer(time_limit_s, con.interrupt)
    try:
        _load(con, folder, [f["name"] for f in extract.files if f["name"].endswith(".parquet")])
        con.execute(QUIET)
        con.execute("SET lock_configuration = true")
        found = shape(con, sql)
        timer.start()
        try:
            result = con.execute(sql)
            rows = result.fetchmany(row_limit + 1)
        except duckdb.InterruptException:
            raise Refused(
                f"the query took longer than {time_limit_s:g} seconds and was stopped", field="sql"
            ) from None
        except duckdb.Error as exc:
            raise Refused(f"the query failed: {str(exc).splitlines()[0]}", field="sql") from None
        columns = [d[0] for d in result.description]
    finally:
        timer.cancel()
        con.close()
    truncated = len(rows) > row_limit
    rows = rows[:row_limit]
    suppressed = 0
    if found.aggregate:
        rows, suppressed = _protected(columns, rows, found.counts, settings)
    audit.record(
        session,
        actor=user.username,
        action="research.console",
        project=project.code,
        detail={
            "extract": extract.id,
            "sql": sql[:2000],
            "rows": len(rows),
            "aggregate": found.aggregate,
        },
    )
    return ConsoleResult(columns, rows, truncated, found.aggregate, suppressed)
