"""Linkage coverage per partner source: runs started in the period and how they ended,
rows read and linked, and the clerical queue each source has waiting now."""

from sqlalchemy import case, func, select
from sqlmodel import Session

from cohort.governance.filters import Filters
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.models import ClericalPair, LinkageRun
from cohort.research.disclosure import rate
from forms.i18n import N_

R, Q = LinkageRun.__table__, ClericalPair.__table__
TOTAL = N_("Total")
ENDINGS = ("succeeded", "quarantined", "failed")
LINKED = Derived(N_("Share linked"), lambda row, total: rate(row[5], row[4]), N_("No rows read"))


def any_runs(session: Session) -> bool:
    return session.connection().execute(select(R.c.id).limit(1)).first() is not None


def coverage(session: Session, filters: Filters, reach: Reach) -> Table:
    """Network-wide: a partner file covers every site, so the site filter does not apply."""
    ended = [func.sum(case((R.c.outcome == outcome, 1), else_=0)) for outcome in ENDINGS]
    runs = session.connection().execute(
        select(
            R.c.source, func.count(), *ended, func.sum(R.c.rows_read), func.sum(R.c.rows_written)
        )
        .where(R.c.started_at >= filters.start_at, R.c.started_at < filters.end_before)
        .group_by(R.c.source)
    )
    found = {source: [int(n or 0) for n in counts] for source, *counts in runs}
    waiting = dict(
        session.connection()
        .execute(
            select(Q.c.source, func.count()).where(Q.c.decision == "pending").group_by(Q.c.source)
        )
        .all()
    )
    rows = [
        (source, (*found.get(source, [0] * 6), waiting.get(source, 0)))
        for source in sorted(found.keys() | waiting.keys())
    ]
    total = tuple(sum(column) for column in zip(*(c for _, c in rows), strict=True)) or (0,) * 7
    return Table(
        "linkage-coverage",
        N_("Linkage by partner source"),
        (
            N_("Source"),
            N_("Runs"),
            N_("Succeeded"),
            N_("Quarantined"),
            N_("Failed"),
            N_("Rows read"),
            N_("Rows linked"),
            N_("Awaiting clerical review"),
        ),
        (*rows, (TOTAL, total)),
        derived=(LINKED,),
        total_row=True,
    )
