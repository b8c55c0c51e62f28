"""What matching hands to Splink: the standardised identifiers, NHS numbers as keyed
hashes only, in an in-memory DuckDB that spills (if ever) to a private folder deleted
afterwards. No plain NHS number and no identifier file outlives a call.

A child's row is compared as a stand-in for its mother: her NHS number (from
``mother_nhs_number``), the family name and postcode the two often share; the child's
own given name, birthday and sex say nothing about the mother and are left out.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import duckdb
import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from cohort.errors import CohortError
from linkage_jobs.comparisons import COLUMNS, NHS
from linkage_jobs.keyed_hash import nhs_hashes
from linkage_jobs.standardise import standardise

COHORT, PARTNER = "cohort", "partner"
MOTHER_ONLY = ("given_name", "date_of_birth", "sex")  # left out of a child's stand-in row


class SplinkInputs(NamedTuple):
    cohort: pd.DataFrame
    source: pd.DataFrame
    db: DuckDBAPI
    con: duckdb.DuckDBPyConnection
    tables: list[SplinkDataFrame]


def is_child_file(source: pd.DataFrame) -> bool:
    """A file whose rows carry a mother's NHS number is about her children."""
    return "mother_nhs_number" in source and bool(source["mother_nhs_number"].notna().any())


def cohort_table(cohort: pd.DataFrame, key: bytes) -> pd.DataFrame:
    return _table(cohort, "study_id", key, child=False)


def source_table(source: pd.DataFrame, key: bytes) -> pd.DataFrame:
    return _table(source, "record_id", key, child=is_child_file(source))


def _table(df: pd.DataFrame, id_column: str, key: bytes, *, child: bool) -> pd.DataFrame:
    if id_column not in df:
        raise CohortError(f"The table to link has no {id_column} column", field=id_column)
    ids = df[id_column]
    if ids.isna().any():
        raise CohortError(f"Some rows have no {id_column}: every row needs one", field=id_column)
    if ids.duplicated().any():
        raise CohortError(f"{id_column} must be unique: some values repeat", field=id_column)
    clean = standardise(df.reset_index(drop=True)) if len(df) else df
    out = pd.DataFrame({"unique_id": ids.astype(str).to_numpy()})
    number = clean.get("mother_nhs_number" if child else "nhs_number")
    out[NHS] = nhs_hashes(_or_none(number, len(df)), key).to_numpy()
    for column in COLUMNS[1:]:
        values = _or_none(clean.get(column), len(df)).to_numpy()
        out[column] = None if child and column in MOTHER_ONLY else values
    return out


def _or_none(column: pd.Series | None, n: int) -> pd.Series:
    return pd.Series([None] * n, dtype=object) if column is None else column.reset_index(drop=True)


def has_identifiers(table: pd.DataFrame) -> bool:
    return bool(table[list(COLUMNS)].notna().any(axis=None))


@contextmanager
def splink_db(cohort: pd.DataFrame, source: pd.DataFrame) -> Iterator[SplinkInputs]:
    """Both tables loaded once into an in-memory DuckDB for one call, spilling only to a
    private folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="cohort-match-") as spill:
        con = duckdb.connect(":memory:", config={"temp_directory": spill})
        con.execute("SET enable_progress_bar = false")
        try:
            db = DuckDBAPI(con)
            tables = []
            for name, df in ((COHORT, cohort), (PARTNER, source)):
                con.register("incoming", pa.Table.from_pandas(df, preserve_index=False))
                con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")  # noqa: S608 (our names)
                con.unregister("incoming")
                tables.append(db.register(name, table_name=f"{name}_input"))
            yield SplinkInputs(cohort, source, db, con, tables)
        finally:
            con.close()


def count_pairs(con: duckdb.DuckDBPyConnection, rule: str) -> int:
    """How many cohort-partner pairs a blocking rule (from ``comparisons``) admits."""
    sql = f"SELECT count(*) FROM {COHORT} AS l JOIN {PARTNER} AS r ON {rule}"  # noqa: S608
    return int(con.execute(sql).fetchall()[0][0])
