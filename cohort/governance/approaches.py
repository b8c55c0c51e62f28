"""Women approached, split by one dimension: the consent rate's numerator (enrolments) and
the rest of its denominator (declines), each one grouped SQL count.

An enrolment is a participant's first consent row; her later rows are updates of its
scope and are not counted again. A decline has no participant, so each row is one woman.

Site, month, week and the overall figure all come from one grouping by site and day,
made once per request (kept in the session's ``info``) and summed here: a page showing
all four pays for one pass over the rows, not four.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, Table, exists, func, select
from sqlmodel import Session

from cohort.governance.filters import Filters
from cohort.governance.periods import day_of, month_of_day, week_of_day
from cohort.models import Consent, Decline

CONSENT: Table = Consent.__table__
DECLINE: Table = Decline.__table__
OVERALL = "all"

# What each split groups by in SQL, on either table (both carry these columns).
GROUPINGS: dict[str, Callable[[Table], tuple[ColumnElement, ...]]] = {
    "site_day": lambda t: (t.c.site_id, day_of(t.c.recorded_at)),
    "midwife": lambda t: (t.c.recorded_by,),
    "language": lambda t: (t.c.language,),
    "ethnicity": lambda t: (t.c.ethnicity,),
    "age_band": lambda t: (t.c.age_band,),
}
# Splits summed from the site-and-day grouping: which half of (site id, day) they read,
# and the split's key from it.
FROM_SITE_DAYS: dict[str, tuple[int, Callable[[object], object]]] = {
    "overall": (0, lambda site: OVERALL),
    "site": (0, lambda site: site),
    "month": (1, month_of_day),
    "week": (1, week_of_day),
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


def _grouped(table: Table, grouping: str, filters: Filters) -> Select:
    keys = GROUPINGS[grouping](table)
    query = (
        select(*keys, func.count())
        .where(table.c.recorded_at >= filters.start_at, table.c.recorded_at < filters.end_before)
        .group_by(*keys)
    )
    return query.where(table.c.site_id == filters.site_id) if filters.site else query


def _counts(session: Session, query: Select) -> dict[object, int]:
    """Grouped counts keyed by the group's value (a tuple when grouped by several)."""
    return {
        (tuple(keys) if len(keys) > 1 else keys[0]): n
        for *keys, n in session.connection().execute(query).all()
    }


def _approaches(session: Session, filters: Filters, grouping: str) -> dict[object, Approaches]:
    enrolments = _grouped(CONSENT, grouping, filters).where(_is_enrolment())
    consented = _counts(session, enrolments)
    declined = _counts(session, _grouped(DECLINE, grouping, filters))
    return {
        key: Approaches(consented.get(key, 0), declined.get(key, 0))
        for key in consented.keys() | declined.keys()
    }


def _site_days(session: Session, filters: Filters) -> dict[object, Approaches]:
    cache = session.info.setdefault("governance.site_days", {})
    key = (filters.start, filters.end, filters.site_id)
    if key not in cache:
        cache[key] = _approaches(session, filters, "site_day")
    return cache[key]


def approaches_by(session: Session, filters: Filters, dimension: str) -> dict[object, Approaches]:
    """Approaches in the period and site, keyed by the dimension's value (None: not recorded)."""
    if dimension not in FROM_SITE_DAYS:
        return _approaches(session, filters, dimension)
    half, key_of = FROM_SITE_DAYS[dimension]
    keys: dict[object, object] = {}  # each site or day is looked up once
    consented: dict[object, int] = defaultdict(int)
    declined: dict[object, int] = defaultdict(int)
    for site_day, found in _site_days(session, filters).items():
        part = site_day[half]
        key = keys[part] if part in keys else keys.setdefault(part, key_of(part))
        consented[key] += found.consented
        declined[key] += found.declined
    return {key: Approaches(consented[key], declined[key]) for key in consented}
