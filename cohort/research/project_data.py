"""A project's view of the cohort, inside one in-memory DuckDB connection: one view per
approved dataset (``data.<dataset>``) holding only the participants ``consented`` lets in,
only approved variables, dates coarsened to the approved granularity, and the project's
pseudonym in place of the study ID. Extracts write these views to files; aggregate queries
group them. The research store is attached read-only; rows linked after the snapshot
are left out, so a snapshot reads the same however often it is read.

Who may appear is decided in Python once (``consented``'s pass, one Arrow table of
mothers with a flag per consent item, one of children) and joined in; the pseudonyms are
one vectorised HMAC over those tables, so no row is handled in Python per dataset.

Each view also carries ``_participant`` (the mother's consent-zone row id: extracts record
whom they hold with it) and ``_person`` (one per person counted, the same in every query:
queries count these and the query history compares them); neither is ever written out or
grouped on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlmodel import Session

from cohort.consent_items import CONSENT_ITEMS
from cohort.errors import CohortError
from cohort.research import coarsen, consented, pseudonyms
from cohort.research.catalogue import CONSENT, Dataset, datasets
from cohort.research.codebook import MOTHER_PSEUDONYM, PSEUDONYM
from linkage_jobs.store import DUCK_TYPES, StoreBusy

SCHEMA = "data"
PARTICIPANT = "_participant"
PERSON = "_person"  # one per person in the dataset (a child's own, not her mother's)
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


def _flag(item: str | None) -> str:
    """The mothers' column saying whether data covered by ``item`` may be used."""
    return f"_may_{item or 'consent'}"


def _mothers(people: list[consented.Member], items: set[str | None], consent: bool) -> pa.Table:
    """Every mother in the pass, as one Arrow table (no pandas, no per-dataset loop):
    her row id, study ID, a ``_may_<item>`` flag per covering item needed and, when
    the consent data is asked for, its variables (her items as they stand now)."""
    columns: dict[str, pa.Array] = {
        PARTICIPANT: pa.array([m.participant_id for m in people], pa.int64()),
        "study_id": pa.array([m.study_id for m in people], pa.string()),
    }
    for item in items:
        columns[_flag(item)] = pa.array([consented.may_use(m, item) for m in people], pa.bool_())
    if consent:
        now = [m.current_items() for m in people]
        columns["enrolment_month"] = pa.array([m.enrolled_at.date() for m in people], pa.date32())
        for name in ("site", "age_band", "ethnicity", "language"):
            columns[name] = pa.array([getattr(m, name) for m in people], pa.string())
        for item in CONSENT_ITEMS:
            columns[item] = pa.array([held.get(item, False) for held in now], pa.bool_())
    return pa.table(columns)


def _children(kids: list[tuple[str, int, int]]) -> pa.Table:
    """A child's ``_person`` is minus her consent-zone row id: the same in every query (the
    query history compares people across queries) and never a mother's."""
    return pa.table(
        {
            "study_id": pa.array([k[0] for k in kids], pa.string()),
            PARTICIPANT: pa.array([k[1] for k in kids], pa.int64()),
            PERSON: pa.array([-k[2] for k in kids], pa.int64()),
        }
    )


def _load(con, table: str, rows: pa.Table, pseudonymise: bool) -> None:
    """The Arrow table as a DuckDB table, with the project's pseudonym beside each study
    ID when asked (one vectorised HMAC over the column)."""
    con.register("incoming", rows)
    pseudonym = f", {pseudonyms.sql('study_id')} AS {PSEUDONYM}" if pseudonymise else ""
    con.execute(f"CREATE TABLE {table} AS SELECT *{pseudonym} FROM incoming")  # noqa: S608
    con.unregister("incoming")


def _has_table(con, name: str) -> bool:
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'store' "
        "AND schema_name = 'main' AND table_name = ?",
        [name],
    ).fetchall()
    return found[0][0] > 0


def _keys(ds: Dataset, pseudonymise: bool) -> list[str]:
    """The person columns a view starts with: hidden row ids, then the pseudonyms."""
    person = "p" if ds.subject == "mother" else "c"
    counted = f"p.{PARTICIPANT}" if ds.subject == "mother" else f"c.{PERSON}"
    keys = [f"p.{PARTICIPANT}", f"{counted} AS {PERSON}"]
    if pseudonymise:
        keys.append(f"{person}.{PSEUDONYM}")
        if ds.subject == "child":
            keys.append(f"p.{PSEUDONYM} AS {MOTHER_PSEUDONYM}")
    return keys


def _source_view(
    con, ds: Dataset, names: list[str], granularity: str, snapshot: datetime, pseudonymise: bool
) -> str:
    selected = ", ".join(
        _keys(ds, pseudonymise) + [f"{_column_sql(ds, n, granularity)} AS {_q(n)}" for n in names]
    )
    if _has_table(con, ds.name):
        con.execute("SET VARIABLE snapshot = ?", [snapshot])
        source = f"store.main.{_q(ds.name)}"
        linked = "t.linked_at <= getvariable('snapshot')"
    else:  # nothing linked yet: the same columns, no rows
        typed = ", ".join(
            f"CAST(NULL AS {DUCK_TYPES[ds.variables[n].type]}) AS {_q(n)}" for n in names
        )
        source = f"(SELECT NULL::VARCHAR AS study_id{', ' if typed else ''}{typed} LIMIT 0)"
        linked = "TRUE"
    if ds.subject == "mother":
        joins = "JOIN mothers p ON t.study_id = p.study_id"
    else:
        joins = (
            "JOIN children c ON t.study_id = c.study_id "
            f"JOIN mothers p ON c.{PARTICIPANT} = p.{PARTICIPANT}"
        )
    flag = _flag(consented.dataset_item(ds.name))
    return f"SELECT {selected} FROM {source} t {joins} WHERE p.{flag} AND {linked}"  # noqa: S608


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
    session: Session,
    store_path: Path,
    pseudonym_key: bytes,
    code: str,
    definition: Definition,
    *,
    pseudonymise: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection with ``data.<dataset>`` views for the definition's datasets. A query
    counts people by ``_person`` and never sees a pseudonym, so it asks for none
    (``pseudonymise=False``) and skips the hashing."""
    known = datasets()
    unknown = sorted(set(definition.variables) - set(known))
    if unknown:
        raise CohortError(f"dataset {unknown[0]} is no longer available")
    people = consented.members(session, definition.snapshot_at)
    items = {consented.dataset_item(name) for name in definition.variables}
    con = duckdb.connect()
    con.execute(QUIET)
    try:
        _attach(con, store_path)
        if pseudonymise:
            key = pseudonyms.project_key(pseudonym_key, code)
            for name, value in pseudonyms.pads(key).items():
                con.execute(f"SET VARIABLE {name} = ?", [value])
        _load(
            con, "mothers", _mothers(people, items, CONSENT in definition.variables), pseudonymise
        )
        if any(known[name].subject == "child" for name in definition.variables):
            _load(con, "children", _children(consented.children(session)), pseudonymise)
        con.execute(f"CREATE SCHEMA {SCHEMA}")
        for name, variables in definition.variables.items():
            ds = known[name]
            if name == CONSENT:
                keys = [PARTICIPANT, f"{PARTICIPANT} AS {PERSON}"]
                keys += [PSEUDONYM] if pseudonymise else []
                cols = ", ".join(
                    keys
                    + [
                        f"{_column_sql(ds, n, definition.date_granularity)} AS {_q(n)}"
                        for n in variables
                    ]
                )
                sql = f"SELECT {cols} FROM mothers WHERE {_flag(None)}"  # noqa: S608
            else:
                sql = _source_view(
                    con,
                    ds,
                    variables,
                    definition.date_granularity,
                    definition.snapshot_at,
                    pseudonymise,
                )
            con.execute(f"CREATE VIEW {SCHEMA}.{_q(name)} AS {sql}")
        yield con
    finally:
        con.close()


def public_columns(ds: Dataset, variables: list[str]) -> list[str]:
    """The columns a researcher sees, in file order."""
    keys = [PSEUDONYM] + ([MOTHER_PSEUDONYM] if ds.subject == "child" else [])
    return keys + list(variables)
