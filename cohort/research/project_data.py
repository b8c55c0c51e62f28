"""A project's view of the cohort, inside one in-memory DuckDB connection: one view per
approved dataset (``data.<dataset>``) holding only the participants ``consented`` lets in,
only approved variables, dates coarsened to the approved granularity, and the project's
pseudonym in place of the study ID. Extracts write these views to files; aggregate queries
group them. The research store is attached read-only; rows linked after the snapshot
are left out, so a snapshot reads the same however often it is read.

Each view also carries ``_participant`` (the mother's consent-zone row id): extracts
record whom they hold with it, and it is never written out or grouped on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
from sqlmodel import Session

from cohort.errors import CohortError
from cohort.research import coarsen, consented, pseudonyms
from cohort.research.catalogue import CONSENT, Dataset, datasets
from cohort.research.codebook import MOTHER_PSEUDONYM, PSEUDONYM
from linkage_jobs.store import DUCK_TYPES, StoreBusy

SCHEMA = "data"
PARTICIPANT = "_participant"
ENROLMENT_FINEST = "month"
QUIET = "SET enable_progress_bar = false"  # a server process has no terminal to draw on


@dataclass(frozen=True)
class Definition:
    """What an extract or a query reads: approved variables per dataset, date detail."""

    variables: dict[str, list[str]]
    date_granularity: str
    snapshot_at: datetime

    def as_json(self) -> dict:
        return {"variables": self.variables, "date_granularity": self.date_granularity}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_sql(ds: Dataset, name: str, granularity: str) -> str:
    var = ds.variables[name]
    if var.type != "date":
        return f"{_q(name)}"
    if ds.name == CONSENT:
        granularity = coarsen.coarser(granularity, ENROLMENT_FINEST)
    return coarsen.date_sql(_q(name), granularity)


def _consent_frame(people: list[consented.Member]) -> pd.DataFrame:
    rows = [
        {
            PARTICIPANT: m.participant_id,
            "study_id": m.study_id,
            "enrolment_month": m.enrolled_at.date(),
            "site": m.site,
            "age_band": m.age_band,
            "ethnicity": m.ethnicity,
            "language": m.language,
            **m.current_items(),
        }
        for m in people
        if consented.may_use(m, None)
    ]
    columns = [PARTICIPANT, "study_id", *datasets()[CONSENT].variables]
    return pd.DataFrame(rows, columns=columns).astype({"study_id": "string"})


def _people_frame(
    ds: Dataset, people: list[consented.Member], kids: list[tuple[str, int]]
) -> pd.DataFrame:
    """study_id (and mother's) of everyone whose rows this dataset may show."""
    item = consented.dataset_item(ds.name)
    allowed = {m.participant_id: m for m in people if consented.may_use(m, item)}
    if ds.subject == "mother":
        rows = [(m.study_id, pid) for pid, m in allowed.items()]
        columns = ["study_id", PARTICIPANT]
    else:
        rows = [
            (sid, allowed[mother].study_id, mother) for sid, mother in kids if mother in allowed
        ]
        columns = ["study_id", "mother_study_id", PARTICIPANT]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c: "string" for c in columns if c != PARTICIPANT})


def _pseudonymised(con, table: str, frame: pd.DataFrame) -> None:
    """The frame as a table with the project's pseudonyms beside its study IDs. Each
    person's pseudonym is computed once per connection (``pseudonym_of``), however many
    datasets she is in."""
    con.register("incoming", frame)
    child = "mother_study_id" in frame.columns
    wanted = "SELECT study_id AS s FROM incoming"
    if child:
        wanted += " UNION SELECT mother_study_id FROM incoming"
    new = f"SELECT s, {pseudonyms.sql('s')} FROM ({wanted}) WHERE s IS NOT NULL"  # noqa: S608
    con.execute(
        f"INSERT INTO pseudonym_of {new} AND s NOT IN (SELECT study_id FROM pseudonym_of)"  # noqa: S608
    )
    joins = "JOIN pseudonym_of p ON p.study_id = i.study_id"
    columns = f"i.*, p.{PSEUDONYM}"
    if child:
        joins += " JOIN pseudonym_of m ON m.study_id = i.mother_study_id"
        columns = (
            f"i.* EXCLUDE (mother_study_id), p.{PSEUDONYM}, m.{PSEUDONYM} AS {MOTHER_PSEUDONYM}"
        )
    con.execute(f"CREATE TABLE {_q(table)} AS SELECT {columns} FROM incoming i {joins}")  # noqa: S608
    con.unregister("incoming")


def _has_table(con, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'store' "
        "AND schema_name = 'main' AND table_name = ?",
        [name],
    ).fetchall()
    return found[0][0] > 0


def _source_view(con, ds: Dataset, names: list[str], granularity: str, snapshot: datetime) -> str:
    keys = [PARTICIPANT, PSEUDONYM] + ([MOTHER_PSEUDONYM] if ds.subject == "child" else [])
    selected = ", ".join(
        [f"p.{_q(k)}" for k in keys]
        + [f"{_column_sql(ds, n, granularity)} AS {_q(n)}" for n in names]
    )
    if not _has_table(con, ds.name):  # nothing linked yet: the same columns, no rows
        typed = ", ".join(
            f"CAST(NULL AS {DUCK_TYPES[ds.variables[n].type]}) AS {_q(n)}" for n in names
        )
        source = f"(SELECT NULL::VARCHAR AS study_id{', ' if typed else ''}{typed} LIMIT 0)"
        return (
            f"SELECT {selected} FROM {source} t JOIN {_q('people_' + ds.name)} p USING (study_id)"  # noqa: S608
        )
    con.execute("SET VARIABLE snapshot = ?", [snapshot])
    return (
        f"SELECT {selected} FROM store.main.{_q(ds.name)} t "  # noqa: S608
        f"JOIN {_q('people_' + ds.name)} p ON t.study_id = p.study_id "
        "WHERE t.linked_at <= getvariable('snapshot')"
    )


def _attach(con, store_path: Path) -> None:
    if not store_path.exists():
        return
    try:
        con.execute(f"ATTACH '{store_path.as_posix()}' AS store (READ_ONLY)")
    except duckdb.IOException:
        raise StoreBusy(
            "the research store is being written by a linkage run: try again in a few minutes"
        ) from None


@contextmanager
def open_views(
    session: Session, store_path: Path, pseudonym_key: bytes, code: str, definition: Definition
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with ``data.<dataset>`` views for the definition's datasets."""
    known = datasets()
    unknown = sorted(set(definition.variables) - set(known))
    if unknown:
        raise CohortError(f"dataset {unknown[0]} is no longer available")
    key = pseudonyms.project_key(pseudonym_key, code)
    people = consented.members(session, definition.snapshot_at)
    kids = consented.children(session)
    con = duckdb.connect()
    con.execute(QUIET)
    try:
        _attach(con, store_path)
        for name, value in pseudonyms.pads(key).items():
            con.execute(f"SET VARIABLE {name} = ?", [value])
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        con.execute("CREATE TABLE pseudonym_of (study_id VARCHAR, pseudonym VARCHAR)")
        for name, variables in definition.variables.items():
            ds = known[name]
            if name == CONSENT:
                _pseudonymised(con, "consent_rows", _consent_frame(people))
                cols = ", ".join(
                    [_q(PARTICIPANT), _q(PSEUDONYM)]
                    + [
                        f"{_column_sql(ds, n, definition.date_granularity)} AS {_q(n)}"
                        for n in variables
                    ]
                )
                sql = f"SELECT {cols} FROM consent_rows"  # noqa: S608
            else:
                _pseudonymised(con, f"people_{name}", _people_frame(ds, people, kids))
                sql = _source_view(
                    con, ds, variables, definition.date_granularity, definition.snapshot_at
                )
            con.execute(f"CREATE VIEW {SCHEMA}.{_q(name)} AS {sql}")
        yield con
    finally:
        con.close()


def public_columns(ds: Dataset, variables: list[str]) -> list[str]:
    """The columns a researcher sees, in file order."""
    keys = [PSEUDONYM] + ([MOTHER_PSEUDONYM] if ds.subject == "child" else [])
    return keys + list(variables)
