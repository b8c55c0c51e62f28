"""Linkage coverage appears on the dashboard once linkage exists: this says whether its
tables are in the database yet, and how many runs they hold."""

from sqlalchemy import func, inspect, select, table
from sqlmodel import Session

RUNS_TABLE = "linkagerun"


def runs_recorded(session: Session) -> int | None:
    """How many linkage runs are recorded; None while the linkage tables do not exist."""
    if not inspect(session.connection()).has_table(RUNS_TABLE):
        return None
    return (
        session.connection()
        .execute(select(func.count()).select_from(table(RUNS_TABLE)))
        .scalar_one()
    )
