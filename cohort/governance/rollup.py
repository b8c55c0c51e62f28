"""The consent-rate roll-up: enrolments and declines of every closed day counted once into
``ApproachCount`` (by site and day; by site, month and value for the splits by a recorded
value), so a dashboard page reads those counts instead of every row of its period.

Consents and declines are stamped by the server when they are recorded and nothing writes
one with an earlier time (the backfill's ``consent_date`` only bands her age), so a day
that has passed stays as it was and is counted once. A day is closed a few minutes after
midnight UTC, so a transaction begun just before midnight has committed by then.

Run at the start of each dashboard request (normally nothing or one day to roll), by
``cohort governance rollup`` and nightly. It writes in the caller's transaction, each
bucket's row at most once: a second roll-up running at the same time skips the rows the
first wrote (the unique key with ON CONFLICT DO NOTHING)."""

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
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

GRACE = timedelta(minutes=10)
INSERT_SKIPPING_KNOWN = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


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


def _counts(session: Session, period: Filters, bucket_of, splits: dict) -> dict[tuple, list]:
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


def roll_up(session: Session, now: datetime | None = None) -> int:
    """Count every closed day and month not yet rolled up; the number of rows written."""
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
    counts: dict[tuple, list] = {}
    if days_from < open_day:
        days = Filters(days_from, open_day - timedelta(days=1), None)
        counts |= _counts(session, days, day_of, {OVERALL: None})
    if months_from < open_month:
        months = Filters(months_from, open_month - timedelta(days=1), None)
        splits = {split: column for split, (column, _) in BY_COLUMN.items()}
        counts |= _counts(session, months, month_of, splits)
    if not counts:
        return 0
    rows = [
        dict(bucket=b, site_id=s, split=sp, value=v, consented=c, declined=d)
        for (b, s, sp, v), (c, d) in counts.items()
    ]
    insert = INSERT_SKIPPING_KNOWN[session.get_bind().dialect.name](ROLLED)
    session.connection().execute(insert.on_conflict_do_nothing(), rows)
    return len(rows)
