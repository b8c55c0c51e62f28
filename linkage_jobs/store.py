"""The research store: linked partner payloads keyed by study ID only, in DuckDB.

Layout (``settings.research_store_path``):

- ``main.<source>``: one table per source, what researchers read. Each row is one partner
  record: ``study_id`` (a mother's, or her child's for child sources), ``record_key`` (a
  keyed hash of the partner's record id, for de-duplication), ``source``, ``run_id``,
  ``linked_at``, ``method``, ``match_probability`` and the spec's payload columns, typed.
- ``linkage.deliveries``: one row per file written, by SHA-256, so a file delivered twice
  adds nothing twice.
- ``linkage.pending_<source>``: payloads of clerical pairs awaiting a data manager's
  decision; accepting one moves its row into ``main.<source>``.

A run's rows are written in one DuckDB transaction: a failure part-way leaves nothing.
A record delivered again in a later file replaces its earlier row. Nothing identifying is
ever written here: the callers hand over study IDs, keyed hashes and payload columns only.
DuckDB lets one process write a file at a time, so connections are short-lived and a
locked file is retried for a while before the caller is told.
"""

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from cohort.errors import CohortError
from linkage_jobs.spec import SourceSpec

DUCK_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "boolean": "BOOLEAN",
}
LINK_COLUMNS = {
    "study_id": "VARCHAR NOT NULL",
    "record_key": "VARCHAR NOT NULL",
    "source": "VARCHAR NOT NULL",
    "run_id": "BIGINT NOT NULL",
    "linked_at": "TIMESTAMPTZ NOT NULL",
    "method": "VARCHAR NOT NULL",
    "match_probability": "DOUBLE",
}
PENDING_COLUMNS = {
    "pair_id": "BIGINT NOT NULL",
    "study_id": "VARCHAR NOT NULL",  # the candidate: purged with her
    "record_key": "VARCHAR NOT NULL",
}
PRIVATE = "linkage"
CHUNK_ROWS = 50_000
LOCK_WAIT_S = 30.0
_WRITER = threading.Lock()


class StoreBusy(CohortError):
    """Another process holds the research store for longer than we wait."""

    status_code = 503


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


@contextmanager
def _writing(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for a writing transaction: one at a time in this process (sources run
    in parallel threads under the scheduler, and DuckDB refuses concurrent catalog
    changes); other processes queue on the file lock in ``connect``."""
    with _WRITER, connect(path) as con:
        yield con


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection; a file locked by another process is retried for a while."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() > deadline:
                raise StoreBusy(
                    f"the research store {path.name} is in use by another process: "
                    "try again when its linkage run has finished"
                ) from None
            time.sleep(0.5)
    try:
        yield con
    finally:
        con.close()


def _source_columns(spec: SourceSpec) -> dict[str, str]:
    return {**LINK_COLUMNS, **{c: DUCK_TYPES[t] for c, t in spec.payload.items()}}


def _pending_columns(spec: SourceSpec) -> dict[str, str]:
    return {**PENDING_COLUMNS, **{c: DUCK_TYPES[t] for c, t in spec.payload.items()}}


def _pending_table(spec: SourceSpec) -> str:
    return f"{PRIVATE}.{_ident('pending_' + spec.name)}"


def _source_table(spec: SourceSpec) -> str:
    return source_table(spec.name)


def _ensure_table(con, schema: str, table: str, columns: dict[str, str]) -> None:
    """Create the table, or add the columns a changed spec has gained."""
    full = f"{schema}.{_ident(table)}"
    definition = ", ".join(f"{_ident(c)} {t}" for c, t in columns.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {full} ({definition})")
    have = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    }
    for column, kind in columns.items():
        if column not in have:
            con.execute(f"ALTER TABLE {full} ADD COLUMN {_ident(column)} {kind.split(' ')[0]}")


def _ensure(con, spec: SourceSpec) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PRIVATE}")
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {PRIVATE}.deliveries (file_sha256 VARCHAR PRIMARY KEY, "
        "source VARCHAR NOT NULL, run_id BIGINT NOT NULL, delivered_at TIMESTAMPTZ NOT NULL, "
        "rows_written BIGINT NOT NULL)"
    )
    _ensure_table(con, "main", spec.name, _source_columns(spec))
    _ensure_table(con, PRIVATE, f"pending_{spec.name}", _pending_columns(spec))


def _delivering_run(con, sha256: str) -> int | None:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
        [PRIVATE, "deliveries"],
    ).fetchall()[0][0]
    if not found:
        return None
    rows = con.execute(
        f"SELECT run_id FROM {PRIVATE}.deliveries WHERE file_sha256 = ?",  # noqa: S608
        [sha256],
    ).fetchall()
    return rows[0][0] if rows else None


def _delivered(con, sha256: str) -> bool:
    return _delivering_run(con, sha256) is not None


def delivered_by(path: Path, sha256: str) -> int | None:
    """The run that wrote the file with this SHA-256, or None if none has."""
    if not path.exists():
        return None
    with connect(path) as con:
        return _delivering_run(con, sha256)


def is_delivered(path: Path, sha256: str) -> bool:
    """Has a file with this SHA-256 already been written?"""
    return delivered_by(path, sha256) is not None


def _typed_select(columns: dict[str, str]) -> str:
    return ", ".join(
        f"CAST({_ident(c)} AS {t.split(' ')[0]}) AS {_ident(c)}" for c, t in columns.items()
    )


def _insert_chunk(con, table: str, columns: dict[str, str], chunk: pd.DataFrame) -> None:
    con.register("incoming", chunk)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT {_typed_select(columns)} FROM incoming")  # noqa: S608
    finally:
        con.unregister("incoming")


def _insert(con, table: str, columns: dict[str, str], rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    frame = rows.reindex(columns=list(columns))
    for start in range(0, len(frame), CHUNK_ROWS):
        _insert_chunk(con, table, columns, frame.iloc[start : start + CHUNK_ROWS])


def _replace_records(con, table: str, record_keys: Iterable[str]) -> None:
    keys = list(record_keys)
    if keys:
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, record_key)", [keys])  # noqa: S608


def write_run(
    path: Path,
    spec: SourceSpec,
    *,
    run_id: int,
    sha256: str,
    linked: pd.DataFrame,
    pending: pd.DataFrame,
    linked_at: datetime,
) -> int | None:
    """Write one file's linked rows and pending payloads, all or nothing.

    ``linked``: study_id, record_key, method, match_probability and payload columns;
    ``pending``: pair_id, study_id, record_key and payload columns. Returns the rows
    written, or None when this file was already delivered (nothing is written)."""
    with _writing(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            if _delivered(con, sha256):
                con.execute("ROLLBACK")
                return None
            _ensure(con, spec)
            rows = linked.assign(source=spec.name, run_id=run_id, linked_at=linked_at)
            _replace_records(con, _source_table(spec), rows["record_key"])
            _insert(con, _source_table(spec), _source_columns(spec), rows)
            _replace_records(con, _pending_table(spec), pending["record_key"])
            _insert(con, _pending_table(spec), _pending_columns(spec), pending)
            con.execute(
                f"INSERT INTO {PRIVATE}.deliveries VALUES (?, ?, ?, ?, ?)",  # noqa: S608
                [sha256, spec.name, run_id, linked_at, len(rows)],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(rows)


def accept_pending(
    path: Path,
    spec: SourceSpec,
    *,
    pair_id: int,
    study_id: str,
    probability: float,
    run_id: int,
    linked_at: datetime,
) -> int:
    """Move an accepted clerical pair's payload into the source table under ``study_id``
    (the child's own, for child sources). Returns the rows moved (0 if it was purged)."""
    columns = _source_columns(spec)
    payload = ", ".join(_ident(c) for c in spec.payload)
    with _writing(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            _ensure(con, spec)
            keys = con.execute(
                f"SELECT record_key FROM {_pending_table(spec)} WHERE pair_id = ?",  # noqa: S608
                [pair_id],
            ).fetchall()
            _replace_records(con, _source_table(spec), [k for (k,) in keys])
            con.execute(
                f"INSERT INTO {_source_table(spec)} ({', '.join(_ident(c) for c in columns)}) "  # noqa: S608
                f"SELECT ?, record_key, ?, ?, ?, 'clerical', ?{', ' if payload else ''}{payload} "
                f"FROM {_pending_table(spec)} WHERE pair_id = ?",
                [study_id, spec.name, run_id, linked_at, probability, pair_id],
            )
            con.execute(f"DELETE FROM {_pending_table(spec)} WHERE pair_id = ?", [pair_id])  # noqa: S608
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return len(keys)


def drop_pending(path: Path, spec: SourceSpec, pair_ids: list[int]) -> None:
    """Forget rejected pairs' payloads."""
    if not pair_ids or not path.exists():
        return
    with _writing(path) as con:
        _ensure(con, spec)
        con.execute(
            f"DELETE FROM {_pending_table(spec)} WHERE list_contains(?, pair_id)",  # noqa: S608
            [pair_ids],
        )


def _tables_with(con, column: str) -> list[str]:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_columns() WHERE column_name = ? "
        "AND NOT internal ORDER BY 1, 2",
        [column],
    ).fetchall()
    return [f"{schema}.{_ident(table)}" for schema, table in rows]


def purge(path: Path, study_ids: list[str]) -> int:
    """Delete every row of these participants (a mother and her children) in every table,
    in one transaction. Returns the rows deleted."""
    if not study_ids or not path.exists():
        return 0
    deleted = 0
    with _writing(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for table in _tables_with(con, "study_id"):
                deleted += con.execute(
                    f"DELETE FROM {table} WHERE list_contains(?, study_id)",  # noqa: S608
                    [study_ids],
                ).fetchall()[0][0]
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return deleted


def read_table(path: Path, table: str) -> pd.DataFrame:
    """A whole table (``source`` or ``linkage.<name>``), for checks and the demo."""
    schema, _, name = table.rpartition(".")
    with connect(path) as con:
        return (
            con.sql(f"SELECT * FROM {schema or 'main'}.{_ident(name)}")  # noqa: S608
            .to_arrow_table()
            .to_pandas()
        )


def linked_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The sources that have a table of linked rows yet (``main.<source>``)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
    ).fetchall()
    return {table for (table,) in rows}


def source_table(name: str) -> str:
    """A source's table of linked rows, quoted for SQL: ``main."<source>"``."""
    return f"main.{_ident(name)}"


def table_names(path: Path) -> list[str]:
    """Every table, schema-qualified (``main.maternity``, ``linkage.deliveries``, ...)."""
    if not path.exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
    return [f"{schema}.{table}" for schema, table in rows]
