"""Participants, consents and declines written straight into their tables, bypassing
capture: how the dashboard's specs build a network whose figures are known by
construction and how its benchmark loads a million records. One shape of row for both, so
the benchmark measures the records the specs check.

``write`` bulk-loads: executemany on SQLite, COPY on PostgreSQL (ten times faster there
than an INSERT per row). It writes in the caller's transaction."""

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection

FORM_NAME, FORM_VERSION = "babi_consent", "1"
ITEMS = {"link_mother_health": True, "link_baby_health": True, "contact": True}
COLUMNS = {
    "participant": ("id", "study_id", "site_id", "created_at"),
    "consent": (
        "participant_id",
        "site_id",
        "recorded_by",
        "form_name",
        "form_version",
        "language",
        "age_band",
        "ethnicity",
        "imd_decile",
        "items",
        "recorded_at",
    ),
    "decline": (
        "site_id",
        "recorded_by",
        "form_name",
        "form_version",
        "language",
        "age_band",
        "ethnicity",
        "imd_decile",
        "recorded_at",
    ),
}


def decline(
    site_id: int,
    recorded_by: int,
    when: datetime,
    *,
    language: str = "en",
    ethnicity: str | None = "white_british",
    age_band: str = "25_29",
    imd_decile: int | None = None,
) -> dict:
    """A decline as stored: what the consent-rate denominator needs and no identifier."""
    return {
        "site_id": site_id,
        "recorded_by": recorded_by,
        "form_name": FORM_NAME,
        "form_version": FORM_VERSION,
        "language": language,
        "age_band": age_band,
        "ethnicity": ethnicity,
        "imd_decile": imd_decile,
        "recorded_at": when,
    }


def consent(participant_id: int, items: dict[str, bool] | None = None, **recorded) -> dict:
    """A consent row: all a decline records (``recorded`` takes the same fields), her
    participant and the items. Her first is her enrolment, a later one an update of scope."""
    return {**decline(**recorded), "participant_id": participant_id, "items": items or ITEMS}


def _stored(value: object, dialect: str) -> object:
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, datetime) and dialect == "sqlite":
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite storage format
    return value


def write(connection: Connection, table: str, rows: Sequence[dict]) -> None:
    """Rows for one of the ``COLUMNS`` tables, as ``consent`` and ``decline`` make them."""
    columns = COLUMNS[table]
    dialect = connection.dialect.name
    values = [tuple(_stored(row[c], dialect) for c in columns) for row in rows]
    into = f"{table} ({', '.join(columns)})"  # names from COLUMNS only; values are bound
    cursor = connection.connection.driver_connection.cursor()
    try:
        if dialect == "postgresql":
            with cursor.copy(f"COPY {into} FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {into} VALUES ({marks})", values)  # noqa: S608
    finally:
        cursor.close()
