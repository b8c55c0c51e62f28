"""Disclosure control across queries: whom each answered aggregate query counted, and the
rule that refuses a query whose people are nearly those of an earlier one.

Two results that count nearly the same people give away the few between them by
subtraction (ABS, ONS and SAIL call it differencing). So every answered query of a project
is kept here as its *cells*: cell 0 is its population (everyone its filters select,
before grouping), cells 1, 2, ... its published groups (a suppressed group publishes
nothing to subtract). A person is her ``_person`` key (``project_data``): a consent-zone
row id, never an identifier, and no value of hers is kept, only which cells she was in.

A new query is refused when any of its cells and any cell of an earlier query of the same
project (population or group, either way round) differ by 1 to ``threshold`` people
(symmetric difference), except when one of the two equals a cell of the other's
query: the pair is then within one answer (a group beside the whole of a query of the
same population is a group beside its own total, which secondary suppression guards).
Two cells are at least the difference of their sizes apart, and two with no one in
common their two sizes, so only cells of sizes that close, sharing someone, are compared
person by person; two disjoint populations that close are both smaller than the
threshold, and publish nothing. A query whose cells all equal an earlier one's adds nothing to
compare against, so it is not kept again: the history grows with distinct results, not
with repeats.

The history is its own DuckDB file beside the research store (the research zone), not in
the store: a linkage run holds the store for minutes, a query only this file for the
check. It is never purged: a participant who withdraws fully leaves the store but keeps
her place here, so the same query asked again (now one person short) is refused rather
than subtracted from the earlier answer to give her values back. One check at a time, in
this process (a lock) and across processes (DuckDB's file lock, waited for).
"""

import threading
import time
from pathlib import Path

import duckdb

from forms.i18n import N_
from linkage_jobs.store import StoreBusy

POPULATION = 0  # a query's cell holding everyone it counted; its groups are 1, 2, ...
CELLS = "_cells"  # the new query's (cell, person) rows, in the caller's connection
LOCK_WAIT_S = 30.0
BUSY = N_("the query history is in use by another process: try again in a minute")
_ONE_AT_A_TIME = threading.Lock()
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS history.queries "
    "(id BIGINT PRIMARY KEY, project VARCHAR NOT NULL, cells INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS history.cells "
    "(query BIGINT NOT NULL, cell INTEGER NOT NULL, people BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS history.members "
    "(query BIGINT NOT NULL, cell INTEGER NOT NULL, person BIGINT NOT NULL)",
)
# Every pair of cells (new, earlier) sharing someone and within the threshold. Two cells
# are at least as far apart as their sizes, so only pairs of sizes that close are joined.
CLOSE_SQL = f"""
WITH sizes AS (SELECT cell, count(*) AS people FROM {CELLS} GROUP BY cell),
pairs AS (
    SELECT c.query, s.cell AS new_cell, c.cell AS old_cell, s.people + c.people AS both_sizes
    FROM history.cells c JOIN sizes s ON abs(c.people - s.people) <= $threshold
    WHERE c.query IN (SELECT id FROM history.queries WHERE project = $project)
)
SELECT p.query, p.new_cell, p.old_cell, p.both_sizes - 2 * count(*) AS apart
FROM pairs p
JOIN {CELLS} n ON n.cell = p.new_cell
JOIN history.members m ON m.query = p.query AND m.cell = p.old_cell AND m.person = n.person
GROUP BY p.query, p.new_cell, p.old_cell, p.both_sizes
HAVING p.both_sizes - 2 * count(*) <= $threshold
"""  # noqa: S608


def _attach(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Attach the history for writing; another process holding it is waited for."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            con.execute(f"ATTACH '{path.as_posix()}' AS history")
            return
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreBusy(BUSY) from None
            time.sleep(0.2)


Close = tuple[int, int, int, int]  # (earlier query, new cell, its cell, people apart)


def _too_close(close: list[Close]) -> bool:
    """Is a pair of cells 1 to threshold people apart, across two answers? A pair where
    one cell equals a cell of the other's answer is not: it is then a pair within one
    answer: the earlier one has published both already, and within the new one they are
    ``disclosure.protect``'s to guard (a group beside its own total). This covers a group
    beside the whole of a query of the same population, and a repeat whose groups share
    people (a child has a school census row a year)."""
    new_known = {(q, new) for q, new, old, apart in close if apart == 0}
    old_known = {(q, old) for q, new, old, apart in close if apart == 0}
    return any(
        apart > 0 and (q, new) not in new_known and (q, old) not in old_known
        for q, new, old, apart in close
    )


def _repeats(close: list[Close], cells: int, sizes: dict[int, int]) -> bool:
    """Does an earlier query have exactly these cells (each new one equal to one of its)?"""
    equal: dict[int, set[int]] = {}
    for query, new, old, apart in close:
        if apart == 0 and (new == POPULATION) == (old == POPULATION):
            equal.setdefault(query, set()).add(new)
    return any(sizes.get(q) == cells and len(found) == cells for q, found in equal.items())


def _keep(con: duckdb.DuckDBPyConnection, project: str, cells: int) -> None:
    (query,) = con.execute("SELECT coalesce(max(id), 0) + 1 FROM history.queries").fetchall()[0]
    con.execute("INSERT INTO history.queries VALUES (?, ?, ?)", [query, project, cells])
    con.execute(
        f"INSERT INTO history.cells SELECT ?, cell, count(*) FROM {CELLS} GROUP BY cell",  # noqa: S608
        [query],
    )
    con.execute(
        f"INSERT INTO history.members SELECT ?, cell, person FROM {CELLS} ORDER BY cell, person",  # noqa: S608
        [query],
    )


def record(con: duckdb.DuckDBPyConnection, path: Path, project: str, threshold: int) -> bool:
    """Check the new query's cells (table ``_cells`` of ``con``: cell, person) against the
    project's history and keep them; False, keeping nothing, when a cell of it and one of
    an earlier query differ by 1 to ``threshold`` people."""
    with _ONE_AT_A_TIME:
        _attach(con, path)
        try:
            for statement in SCHEMA:
                con.execute(statement)
            close = con.execute(CLOSE_SQL, {"project": project, "threshold": threshold})
            found = close.fetchall()
            if _too_close(found):
                return False
            (cells,) = con.execute(f"SELECT count(DISTINCT cell) FROM {CELLS}").fetchall()[0]  # noqa: S608
            earlier = {q for q, *_ in found}
            sizes = dict(
                con.execute(
                    "SELECT id, cells FROM history.queries WHERE list_contains(?, id)",
                    [sorted(earlier)],
                ).fetchall()
            )
            if cells and not _repeats(found, cells, sizes):
                con.execute("BEGIN TRANSACTION")
                try:
                    _keep(con, project, cells)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            return True
        finally:
            con.execute("DETACH history")
