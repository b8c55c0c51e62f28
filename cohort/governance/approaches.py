"""Women approached, split by one dimension: the consent rate's numerator (enrolments) and
the rest of its denominator (declines), as grouped SQL counts.

An enrolment is a participant's first consent row; her later rows are updates of its
scope and are not counted again. A decline has no participant, so each row is one woman.

Each table is read once per request for each family of splits, and the result kept in
the session's ``info`` for the other tables of the page:
- site, month, week and overall are summed from one grouping by site and day;
- midwife, language, ethnicity and age band come from one statement that takes the
  period's rows once (a materialised common table expression) and groups them four ways.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Table,
    cast,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlmodel import Session

from cohort.governance.filters import Filters
from cohort.governance.periods import day_of, month_of_day, week_of_day
from cohort.models import Consent, Decline

CONSENT: Table = Consent.__table__
DECLINE: Table = Decline.__table__
OVERALL = "all"

# Splits summed from the site-and-day grouping: which half of (site id, day) they read,
# and the split's key from it.
FROM_SITE_DAYS: dict[str, tuple[int, Callable[[object], object]]] = {
    "overall": (0, lambda site: OVERALL),
    "site": (0, lambda site: site),
    "month": (1, month_of_day),
    "week": (1, week_of_day),
}
# Splits by a column both tables carry, and how a key read back as text is restored.
BY_COLUMN: dict[str, tuple[str, Callable[[str], object]]] = {
    "midwife": ("recorded_by", int),
    "language": ("language", str),
    "ethnicity": ("ethnicity", str),
    "age_band": ("age_band", str),
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


def _approached(table: Table, filters: Filters, *columns: ColumnElement) -> Select:
    """The table's rows in the period (and site): enrolments only, for consents."""
    query = select(*columns).where(
        table.c.recorded_at >= filters.start_at, table.c.recorded_at < filters.end_before
    )
    if filters.site:
        query = query.where(table.c.site_id == filters.site_id)
    return query.where(_is_enrolment()) if table is CONSENT else query


def _site_day_counts(session: Session, table: Table, filters: Filters) -> dict[tuple, int]:
    day = day_of(table.c.recorded_at)
    query = _approached(table, filters, table.c.site_id, day, func.count()).group_by(
        table.c.site_id, day
    )
    return {(site, d): n for site, d, n in session.connection().execute(query).all()}


def _column_counts(session: Session, table: Table, filters: Filters) -> dict[str, dict]:
    """{split: {key: count}} for every BY_COLUMN split, in one statement."""
    names = [column for column, _ in BY_COLUMN.values()]
    rows = _approached(table, filters, *(table.c[n] for n in names)).cte("approached")
    rows = rows.prefix_with("MATERIALIZED")
    grouped = union_all(
        *(
            select(literal(split), cast(rows.c[column], String), func.count()).group_by(
                rows.c[column]
            )
            for split, (column, _) in BY_COLUMN.items()
        )
    )
    found: dict[str, dict] = defaultdict(dict)
    for split, key, n in session.connection().execute(grouped).all():
        restore = BY_COLUMN[split][1]
        found[split][None if key is None else restore(key)] = n
    return found


def _cached(session: Session, family: str, filters: Filters, read: Callable) -> tuple:
    cache = session.info.setdefault(f"governance.{family}", {})
    key = (filters.start, filters.end, filters.site_id)
    if key not in cache:
        cache[key] = (read(session, CONSENT, filters), read(session, DECLINE, filters))
    return cache[key]


def _merge(consented: dict, declined: dict) -> dict[object, Approaches]:
    return {
        key: Approaches(consented.get(key, 0), declined.get(key, 0))
        for key in consented.keys() | declined.keys()
    }


def _summed(counts: dict[tuple, int], dimension: str) -> dict[object, int]:
    half, key_of = FROM_SITE_DAYS[dimension]
    keys: dict[object, object] = {}  # each site or day is looked up once
    summed: dict[object, int] = defaultdict(int)
    for site_day, n in counts.items():
        part = site_day[half]
        key = keys[part] if part in keys else keys.setdefault(part, key_of(part))
        summed[key] += n
    return summed


def approaches_by(session: Session, filters: Filters, dimension: str) -> dict[object, Approaches]:
    """Approaches in the period and site, keyed by the dimension's value (None: not recorded)."""
    if dimension in FROM_SITE_DAYS:
        consented, declined = _cached(session, "site_days", filters, _site_day_counts)
        return _merge(_summed(consented, dimension), _summed(declined, dimension))
    consented, declined = _cached(session, "columns", filters, _column_counts)
    return _merge(consented.get(dimension, {}), declined.get(dimension, {}))
