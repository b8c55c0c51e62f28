"""Women approached, split by one dimension: the consent rate's numerator (enrolments) and
the rest of its denominator (declines), each one grouped SQL count.

An enrolment is a participant's first consent row; her later rows are updates of its
scope and are not counted again. A decline has no participant, so each row is one woman.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, exists, func, literal, select
from sqlmodel import Session

from cohort.governance.filters import Filters
from cohort.governance.periods import month_of, week_of
from cohort.models import Consent, Decline

CONSENT: Table = Consent.__table__
DECLINE: Table = Decline.__table__
OVERALL = "all"

# What each split groups by, on either table (both carry these columns).
DIMENSIONS: dict[str, Callable[[Table], ColumnElement]] = {
    "overall": lambda t: literal(OVERALL),
    "site": lambda t: t.c.site_id,
    "midwife": lambda t: t.c.recorded_by,
    "language": lambda t: t.c.language,
    "ethnicity": lambda t: t.c.ethnicity,
    "age_band": lambda t: t.c.age_band,
    "month": lambda t: month_of(t.c.recorded_at),
    "week": lambda t: week_of(t.c.recorded_at),
}


@dataclass(frozen=True)
class Approaches:
    consented: int = 0
    declined: int = 0

    @property
    def approached(self) -> int:
        return self.consented + self.declined

    @property
    def rate(self) -> float | None:
        """Consented / approached; None when nobody was approached."""
        return self.consented / self.approached if self.approached else None


def _is_enrolment() -> ColumnElement[bool]:
    earlier = CONSENT.alias("earlier")
    return ~exists().where(
        earlier.c.participant_id == CONSENT.c.participant_id, earlier.c.id < CONSENT.c.id
    )


def _grouped(table: Table, dimension: str, filters: Filters) -> Select:
    key = DIMENSIONS[dimension](table).label("key")
    query = (
        select(key, func.count().label("n"))
        .where(table.c.recorded_at >= filters.start_at, table.c.recorded_at < filters.end_before)
        .group_by(key)
    )
    return query.where(table.c.site_id == filters.site_id) if filters.site else query


def approaches_by(session: Session, filters: Filters, dimension: str) -> dict[object, Approaches]:
    """Approaches in the period and site, keyed by the dimension's value (None: not recorded)."""
    enrolments = _grouped(CONSENT, dimension, filters).where(_is_enrolment())
    consented = dict(session.connection().execute(enrolments).all())
    declined = dict(session.connection().execute(_grouped(DECLINE, dimension, filters)).all())
    return {
        key: Approaches(consented.get(key, 0), declined.get(key, 0))
        for key in consented.keys() | declined.keys()
    }
