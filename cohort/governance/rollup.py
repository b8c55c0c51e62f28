"""The consent-rate roll-up: enrolments and declines of every closed day counted once into
``ApproachCount`` (by site and day; by site, month and value for the splits by a recorded
value), so a dashboard page reads those counts instead of every row of its period.

Consents and declines are stamped by the server when they are recorded, so a day that has
passed stays as it was and is counted once. A day is closed a few minutes after midnight
UTC, so a transaction begun just before midnight has committed by then. The one exception
is the backfill, which dates a record when she answered, often in a closed day: it holds
the roll-up off (``hold``) before it writes and, in the same transaction, counts again
the rolled-up days and months its records joined (``recount``).

Run at the start of each dashboard request (normally nothing or one day to roll), by
``cohort governance rollup`` and nightly. It writes in the caller's transaction, each
bucket's row at most once: a second roll-up running at the same time skips the rows the
first wrote (the unique key with ON CONFLICT DO NOTHING). On SQLite every writer
takes the write lock first (``cohort.db``), so a roll-up and a backfill never overlap; on
PostgreSQL a transaction-scoped advisory lock keeps them apart. A roll-up never waits for
it: while a backfill holds it the roll-up leaves the days to the next one, and the pages
read those days from the raw rows meanwhile. A backfill waits for a roll-up under way (a
short transaction: the dashboard rolls up in one of its own)."""

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from cohort.governance.approaches import (
    BY_COLUMN,
    CONSENT,
    DECLINE,
    NOT_RECORDED,
    OVERALL,
    ROLLED,
    approached,
    next_month,
    rolled_through,
)
from cohort.governance.filters import Filters
from cohort.governance.periods import day_of, month_of
from cohort.models import Site

GRACE = timedelta(minutes=10)
INSERT_SKIPPING_KNOWN = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
DAY_SPLITS = {OVERALL: None}  # split -> the column it splits by: days are not split
MONTH_SPLITS = {split: column for split, (column, _) in BY_COLUMN.items()}
LOCK_KEY = 0x524F4C4C5550  # "ROLLUP": the advisory lock a roll-up and a backfill share
# Taking the lock, per database: waiting for it, or trying it once (True if taken).
WAIT = {"postgresql": "SELECT pg_advisory_xact_lock(:key)"}
TRY = {"postgresql": "SELECT pg_try_advisory_xact_lock(:key)"}


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def hold(session: Session) -> None:
    """Keep roll-ups off until the caller's transaction ends, waiting for one under way:
    for writing records into closed days. Take it before the first write (an audit
    event included), so two transactions never wait for each other."""
    statement = WAIT.get(_dialect(session))
    if statement:
        session.connection().execute(text(statement), {"key": LOCK_KEY})


def _try_hold(session: Session) -> bool:
    statement = TRY.get(_dialect(session))
    if statement is None:
        return True
    return bool(session.connection().execute(text(statement), {"key": LOCK_KEY}).scalar())


def first_open_day(now: datetime) -> date:
    """Days before this one are closed: nothing more will be recorded on them."""
    return (now - GRACE).date()


def _earliest(session: Session) -> date | None:
    found = [
        session.connection().execute(select(func.min(table.c.recorded_at))).scalar()
        for table in (CONSENT, DECLINE)
    ]
    times = [t for t in found if t is not None]
    return min(times).date() if times else None


def _counts(
    session: Session, period: Filters, bucket_of: Callable, splits: dict
) -> dict[tuple, list]:
    """{(bucket, site id, split, value): [enrolments, declines]} from the raw rows."""
    counts: dict[tuple, list] = defaultdict(lambda: [0, 0])
    for side, table in enumerate((CONSENT, DECLINE)):
        bucket = bucket_of(table.c.recorded_at)
        for split, column in splits.items():
            value = table.c[column] if column else None
            keys = [bucket, table.c.site_id] + ([value] if value is not None else [])
            query = approached(table, period, *keys, func.count()).group_by(*keys)
            for row in session.connection().execute(query).all():
                *key, n = row
                shown = NOT_RECORDED if len(key) == 2 or key[2] is None else str(key[2])
                counts[(key[0], key[1], split, shown)][side] += n
    return counts


def _write(session: Session, counts: dict[tuple, list]) -> int:
    if not counts:
        return 0
    rows = [
        dict(bucket=b, site_id=s, split=sp, value=v, consented=c, declined=d)
        for (b, s, sp, v), (c, d) in counts.items()
    ]
    insert = INSERT_SKIPPING_KNOWN[_dialect(session)](ROLLED)
    session.connection().execute(insert.on_conflict_do_nothing(), rows)
    return len(rows)


def roll_up(session: Session, now: datetime | None = None) -> int:
    """Count every closed day and month not yet rolled up; the number of rows written
    (none while a backfill is at work: the next roll-up counts them)."""
    earliest = _earliest(session)
    if earliest is None:
        return 0
    open_day = first_open_day(now or datetime.now(UTC))
    open_month = open_day.replace(day=1)
    last_day, last_month = rolled_through(session, OVERALL), rolled_through(session, "month")
    days_from = date.fromisoformat(last_day) + timedelta(days=1) if last_day else earliest
    months_from = earliest.replace(day=1)
    if last_month:
        months_from = next_month(date.fromisoformat(f"{last_month}-01"))
    if days_from >= open_day and months_from >= open_month:
        return 0
    if not _try_hold(session):
        return 0
    counts: dict[tuple, list] = {}
    if days_from < open_day:
        days = Filters(days_from, open_day - timedelta(days=1), None)
        counts |= _counts(session, days, day_of, DAY_SPLITS)
    if months_from < open_month:
        months = Filters(months_from, open_month - timedelta(days=1), None)
        counts |= _counts(session, months, month_of, MONTH_SPLITS)
    return _write(session, counts)


def _recount(
    session: Session,
    site: Site,
    buckets: set[str],
    period: Filters,
    bucket_of: Callable,
    splits: dict,
) -> int:
    """Replace the site's rolled-up rows of ``buckets`` (of ``splits``) with the counts of
    the raw rows; ``period`` spans the buckets."""
    session.connection().execute(
        ROLLED.delete().where(
            ROLLED.c.site_id == site.id,
            ROLLED.c.bucket.in_(sorted(buckets)),
            ROLLED.c.split.in_(list(splits)),
        )
    )
    counts = _counts(session, period, bucket_of, splits)
    return _write(session, {key: n for key, n in counts.items() if key[0] in buckets})


def recount(session: Session, site_id: int, days: Iterable[date]) -> int:
    """Count again the site's rolled-up days, and the months holding them, that records
    dated ``days`` have just joined (days not rolled up yet wait for the next roll-up);
    the number of rows written. Call ``hold`` before writing those records."""
    days = set(days)
    if not days:
        return 0
    hold(session)
    last_day, last_month = rolled_through(session, OVERALL), rolled_through(session, "month")
    stale_days = {d for d in days if last_day and d.isoformat() <= last_day}
    stale_months = {
        d.replace(day=1) for d in days if last_month and d.isoformat()[:7] <= last_month
    }
    site = session.get(Site, site_id)
    written = 0  # nothing when no day of them is rolled up yet
    if stale_days:
        period = Filters(min(stale_days), max(stale_days), site)
        buckets = {d.isoformat() for d in stale_days}
        written += _recount(session, site, buckets, period, day_of, DAY_SPLITS)
    if stale_months:
        period = Filters(min(stale_months), next_month(max(stale_months)) - timedelta(days=1), site)
        buckets = {m.isoformat()[:7] for m in stale_months}
        written += _recount(session, site, buckets, period, month_of, MONTH_SPLITS)
    return written


def recount_split(session: Session, split: str) -> int:
    """Count again every rolled-up month of one split whose values were rewritten in place
    (the deprivation deciles, when a lookup is loaded); the number of rows written."""
    hold(session)
    last, first = rolled_through(session, "month"), _earliest(session)
    session.connection().execute(ROLLED.delete().where(ROLLED.c.split == split))
    if last is None or first is None:
        return 0
    end = next_month(date.fromisoformat(f"{last}-01")) - timedelta(days=1)
    counts = _counts(session, Filters(first, end, None), month_of, {split: MONTH_SPLITS[split]})
    return _write(session, counts)
