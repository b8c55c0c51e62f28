"""Withdrawals in the period by level and by month, and how long after enrolment they
came: a histogram of whole days from SQL, from which the median and the bands follow."""

from bisect import bisect_right
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlmodel import Session

from cohort.governance.filters import Filters
from cohort.governance.periods import days_between, month_of, months
from cohort.governance.reach import Reach
from cohort.governance.tables import Table
from cohort.models import Consent, Participant, Withdrawal
from cohort.withdrawal_levels import LEVELS
from forms.i18n import N_

W, P, C = Withdrawal.__table__, Participant.__table__, Consent.__table__
TOTAL = N_("Total")
# Lower bound in days of each band of time from enrolment to withdrawal.
BANDS = (
    (0, N_("Under 30 days")),
    (30, N_("30 to 89 days")),
    (90, N_("90 to 364 days")),
    (365, N_("A year or more")),
)


def _in_scope(query: Select, filters: Filters) -> Select:
    query = query.select_from(W.join(P, P.c.id == W.c.participant_id)).where(
        W.c.recorded_at >= filters.start_at, W.c.recorded_at < filters.end_before
    )
    return query.where(P.c.site_id == filters.site_id) if filters.site else query


def _counted(session: Session, query: Select) -> list[tuple]:
    return list(session.connection().execute(query).all())


def by_level(session: Session, filters: Filters, reach: Reach) -> Table:
    found = dict(
        _counted(session, _in_scope(select(W.c.level, func.count()), filters).group_by(W.c.level))
    )
    rows = [(level.title, (found.get(level.code, 0),)) for level in LEVELS]
    rows.append((TOTAL, (sum(found.values()),)))
    return Table(
        "withdrawals-by-level",
        N_("Withdrawals by level"),
        (N_("Level"), N_("Withdrawals")),
        tuple(rows),
        total_row=True,
    )


def by_month(session: Session, filters: Filters, reach: Reach) -> Table:
    month = month_of(W.c.recorded_at).label("month")
    query = _in_scope(select(month, W.c.level, func.count()), filters).group_by(month, W.c.level)
    found = {(m, level): n for m, level, n in _counted(session, query)}
    rows = []
    for m in months(filters.start, filters.end):
        counts = [found.get((m, level.code), 0) for level in LEVELS]
        rows.append((m, (*counts, sum(counts))))
    column_sums = tuple(sum(col) for col in zip(*(c for _, c in rows), strict=True))
    return Table(
        "withdrawals-by-month",
        N_("Withdrawals by month and level"),
        (N_("Month"), *(level.title for level in LEVELS), TOTAL),
        (*rows, (TOTAL, column_sums)),
        row_totals=True,
        total_row=True,
    )


@dataclass(frozen=True)
class TimeToWithdrawal:
    withdrawals: int
    median_days: float | None  # None: no withdrawals in the period
    histogram: tuple[tuple[int, int], ...]  # (whole days, withdrawals)


def median_of(histogram: tuple[tuple[int, int], ...]) -> float | None:
    """The median of values given as (value, how many), sorted by value."""
    n = sum(count for _, count in histogram)
    if not n:
        return None
    running, ranks, values = 0, [], []
    for value, count in histogram:
        running += count
        ranks.append(running)
        values.append(value)

    def nth(k: int) -> int:  # the k-th smallest value, counting from 0
        return values[bisect_right(ranks, k)]

    return (nth((n - 1) // 2) + nth(n // 2)) / 2


def time_to_withdrawal(session: Session, filters: Filters) -> TimeToWithdrawal:
    """Days from each withdrawn participant's enrolment (her first consent) to each
    withdrawal recorded in the period."""
    enrolled = (
        select(func.min(C.c.recorded_at))
        .where(C.c.participant_id == W.c.participant_id)
        .scalar_subquery()
    )
    days = days_between(W.c.recorded_at, enrolled).label("days")
    query = _in_scope(select(days, func.count()), filters).group_by(days).order_by(days)
    histogram = tuple((int(d), n) for d, n in _counted(session, query) if d is not None)
    return TimeToWithdrawal(sum(n for _, n in histogram), median_of(histogram), histogram)


def by_time_to_withdrawal(session: Session, filters: Filters, reach: Reach) -> Table:
    histogram = time_to_withdrawal(session, filters).histogram
    starts = [start for start, _ in BANDS]
    counts = [0] * len(BANDS)
    for days, n in histogram:
        counts[max(bisect_right(starts, days) - 1, 0)] += n
    rows = [(name, (n,)) for (_, name), n in zip(BANDS, counts, strict=True)]
    return Table(
        "withdrawals-by-time",
        N_("Time from enrolment to withdrawal"),
        (N_("Time"), N_("Withdrawals")),
        (*rows, (TOTAL, (sum(counts),))),
        total_row=True,
    )
