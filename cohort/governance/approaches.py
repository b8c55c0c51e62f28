"""Women approached, split by one dimension: the consent rate's numerator (enrolments) and
the rest of its denominator (declines), as grouped SQL counts.

An enrolment is a participant's first consent row; her later rows are updates of its
scope and are not counted again. A decline has no participant, so each row is one woman.

Closed days are counted once into ``ApproachCount`` (``cohort.governance.rollup``); a page
reads those counts for what has been rolled up and the raw rows only for the rest (today,
and for the splits by a recorded value, the part-months at the period's ends). Each family
of splits is read once per request and kept in the session's ``info`` for the page's
other tables:
- site, month, week and overall from counts by site and day (rolled by day; today's raw
  rows added), grouped once by site, month and week in a materialised common table
  expression and summed four ways in SQL, so a page reads one row per site, month or
  week, never one per day;
- midwife, language, ethnicity, age band and deprivation decile from counts by value
  (rolled by month; raw rows taken once in a materialised common table expression and
  grouped five ways).
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import (
    ColumnElement,
    Integer,
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
from cohort.governance.periods import day_of, week_of
from cohort.models import ApproachCount, Consent, Decline

CONSENT: Table = Consent.__table__
DECLINE: Table = Decline.__table__
ROLLED: Table = ApproachCount.__table__
OVERALL = "all"
NOT_RECORDED = ""  # a value not recorded, as ApproachCount keeps it

# Splits summed from counts by site and day: the column of the (site, month, week)
# grouping each is summed by (None: everything), and how a key read back as text is restored.
FROM_SITE_DAYS: dict[str, tuple[str | None, Callable[[str], object]]] = {
    "overall": (None, str),
    "site": ("site_id", int),
    "month": ("month", str),
    "week": ("week", str),
}
# Splits by a column both tables carry, and how a key read back as text is restored.
BY_COLUMN: dict[str, tuple[str, Callable[[str], object]]] = {
    "midwife": ("recorded_by", int),
    "language": ("language", str),
    "ethnicity": ("ethnicity", str),
    "age_band": ("age_band", str),
    "imd_decile": ("imd_decile", int),
}


@dataclass(frozen=True)
class Approaches:
    consented: int = 0
    declined: int = 0

    def __add__(self, other: "Approaches") -> "Approaches":
        return Approaches(self.consented + other.consented, self.declined + other.declined)

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


def approached(table: Table, filters: Filters, *columns: ColumnElement) -> Select:
    """The table's rows in the period (and site): enrolments only, for consents."""
    query = select(*columns).where(
        table.c.recorded_at >= filters.start_at, table.c.recorded_at < filters.end_before
    )
    if filters.site:
        query = query.where(table.c.site_id == filters.site_id)
    return query.where(_is_enrolment()) if table is CONSENT else query


def rolled_through(session: Session, split: str) -> str | None:
    """The latest bucket rolled up: a day for split ``all``, a month for the others."""
    chosen = ROLLED.c.split == OVERALL if split == OVERALL else ROLLED.c.split != OVERALL
    query = select(func.max(ROLLED.c.bucket)).where(chosen)
    return session.connection().execute(query).scalar()


def _part(filters: Filters, first: date, last: date) -> Filters | None:
    """The days of the period from ``first`` to ``last``, if there are any."""
    first, last = max(first, filters.start), min(last, filters.end)
    return replace(filters, start=first, end=last) if first <= last else None


def _rolled(filters: Filters, split_is: ColumnElement[bool], first: str, last: str) -> Select:
    query = select(ROLLED.c.site_id).where(
        split_is, ROLLED.c.bucket >= first, ROLLED.c.bucket <= last
    )
    return query.where(ROLLED.c.site_id == filters.site_id) if filters.site else query


def _keyed_site_days(site: ColumnElement, day: ColumnElement) -> tuple[ColumnElement, ...]:
    return site.label("site_id"), func.substr(day, 1, 7).label("month"), week_of(day).label("week")


def _site_days(session: Session, filters: Filters) -> dict[str, dict[object, tuple]]:
    """{split: {key: (enrolments, declines)}} for every FROM_SITE_DAYS split, in one
    statement over the rolled days and the raw rows of the days after them."""
    parts = []
    through = rolled_through(session, OVERALL)
    raw_from = filters.start
    if through:
        last = min(filters.end.isoformat(), through)
        rolled = _rolled(filters, ROLLED.c.split == OVERALL, filters.start.isoformat(), last)
        keys = _keyed_site_days(ROLLED.c.site_id, ROLLED.c.bucket)
        parts.append(rolled.with_only_columns(*keys, ROLLED.c.consented, ROLLED.c.declined))
        raw_from = date.fromisoformat(through) + timedelta(days=1)
    if rest := _part(filters, raw_from, filters.end):
        for table, consented, declined in ((CONSENT, 1, 0), (DECLINE, 0, 1)):
            keys = _keyed_site_days(table.c.site_id, day_of(table.c.recorded_at))
            one = (
                literal(consented, Integer).label("consented"),
                literal(declined, Integer).label("declined"),
            )
            parts.append(approached(table, rest, *keys, *one))
    rows = union_all(*parts).subquery("site_days")
    grouped = (
        select(rows.c.site_id, rows.c.month, rows.c.week)
        .add_columns(func.sum(rows.c.consented).label("c"), func.sum(rows.c.declined).label("d"))
        .group_by(rows.c.site_id, rows.c.month, rows.c.week)
        .cte("grouped")
        .prefix_with("MATERIALIZED")
    )
    summed = union_all(
        *(
            select(
                literal(split),
                cast(grouped.c[column], String) if column else literal(OVERALL),
                func.sum(grouped.c.c),
                func.sum(grouped.c.d),
            ).group_by(*([grouped.c[column]] if column else []))
            for split, (column, _) in FROM_SITE_DAYS.items()
        )
    )
    found: dict[str, dict[object, tuple]] = defaultdict(dict)
    for split, key, c, d in session.connection().execute(summed).all():
        if c is not None:  # the overall sum of nothing
            found[split][FROM_SITE_DAYS[split][1](key)] = (int(c), int(d))
    return found


def _raw_column_counts(session: Session, table: Table, filters: Filters) -> dict[str, dict]:
    """{split: {value: count}} for every BY_COLUMN split from the raw rows, in one statement."""
    names = [column for column, _ in BY_COLUMN.values()]
    rows = approached(table, filters, *(table.c[n] for n in names)).cte("approached")
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
        found[split][key] = n
    return found


def _whole_months(filters: Filters, through: str | None) -> tuple[date, date]:
    """[first, after): the period's whole months that are rolled up (empty when first >= after)."""
    first = filters.start if filters.start.day == 1 else next_month(filters.start)
    after = filters.end + timedelta(days=1)
    after = after if after.day == 1 else filters.end.replace(day=1)
    rolled_after = next_month(date.fromisoformat(f"{through}-01")) if through else first
    return first, min(after, rolled_after)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=31)).replace(day=1)


def _columns(session: Session, filters: Filters) -> tuple[dict, dict]:
    """({split: {value: enrolments}}, {split: {value: declines}}), values as text ('' for
    not recorded): rolled whole months, then the raw rows of the days around them."""
    consented: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    declined: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    first, after = _whole_months(filters, rolled_through(session, "month"))
    raw_parts = [filters]
    if first < after:
        last = after - timedelta(days=1)
        query = _rolled(
            filters, ROLLED.c.split != OVERALL, first.isoformat()[:7], last.isoformat()[:7]
        )
        query = query.with_only_columns(
            ROLLED.c.split,
            ROLLED.c.value,
            func.sum(ROLLED.c.consented),
            func.sum(ROLLED.c.declined),
        ).group_by(ROLLED.c.split, ROLLED.c.value)
        for split, value, c, d in session.connection().execute(query).all():
            consented[split][value] += c
            declined[split][value] += d
        before, beyond = first - timedelta(days=1), after
        raw_parts = [_part(filters, filters.start, before), _part(filters, beyond, filters.end)]
    for part in filter(None, raw_parts):
        for table, found in ((CONSENT, consented), (DECLINE, declined)):
            for split, counts in _raw_column_counts(session, table, part).items():
                for value, n in counts.items():
                    found[split][NOT_RECORDED if value is None else value] += n
    return consented, declined


def _restored(split: str, counts: dict[str, int]) -> dict[object, int]:
    restore = BY_COLUMN[split][1]
    return {None if v == NOT_RECORDED else restore(v): n for v, n in counts.items()}


def _cached(session: Session, family: str, filters: Filters, read: Callable) -> tuple:
    cache = session.info.setdefault(f"governance.{family}", {})
    key = (filters.start, filters.end, filters.site_id)
    if key not in cache:
        cache[key] = read(session, filters)
    return cache[key]


def _merge(consented: dict, declined: dict) -> dict[object, Approaches]:
    return {
        key: Approaches(consented.get(key, 0), declined.get(key, 0))
        for key in consented.keys() | declined.keys()
    }


def approaches_by(session: Session, filters: Filters, dimension: str) -> dict[object, Approaches]:
    """Approaches in the period and site, keyed by the dimension's value (None: not recorded)."""
    if dimension in FROM_SITE_DAYS:
        found = _cached(session, "site_days", filters, _site_days).get(dimension, {})
        return {key: Approaches(c, d) for key, (c, d) in found.items()}
    consented, declined = _cached(session, "columns", filters, _columns)
    return _merge(
        _restored(dimension, consented.get(dimension, {})),
        _restored(dimension, declined.get(dimension, {})),
    )
