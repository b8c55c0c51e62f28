"""Who used the service: sign-ins and identity views per person and month, extracts and
downloads per project and researcher, read from the audit trail, and the audit chain's
own check, run on demand or by a scheduled job and
kept in the chain as an ``audit.verify`` event so the dashboard shows the latest."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlmodel import Session

from cohort import audit
from cohort.governance.filters import Filters
from cohort.governance.periods import month_of
from cohort.governance.reach import Reach
from cohort.governance.tables import Table
from cohort.models import AuditEvent, Participant, User
from forms.i18n import N_

A, U, P = AuditEvent.__table__, User.__table__, Participant.__table__
CHECK_ACTION = "audit.verify"
# What researchers took out, as the research services record it: column heading by action.
RESEARCH_ACTIONS = {"research.extract": N_("Extracts"), "research.download": N_("Downloads")}


def _per_person_month(session: Session, query: Select, filters: Filters) -> list[tuple]:
    month = month_of(A.c.at).label("month")
    grouped = (
        query.add_columns(A.c.actor, month, func.count())
        .where(A.c.at >= filters.start_at, A.c.at < filters.end_before)
        .group_by(A.c.actor, month)
        .order_by(month, A.c.actor)
    )
    return [
        (f"{month} · {actor}", (n,)) for actor, month, n in session.connection().execute(grouped)
    ]


def _table(key: str, title: str, rows: list[tuple]) -> Table:
    return Table(key, title, (N_("Month and user"), N_("Count")), tuple(rows))


def logins(session: Session, filters: Filters, reach: Reach) -> Table:
    """Sign-ins; a site lead sees those of her site's staff."""
    query = select().select_from(A).where(A.c.action == "login")
    if filters.site:
        staff = select(U.c.username).where(U.c.site_id == filters.site_id)
        query = query.where(A.c.actor.in_(staff))
    return _table(
        "logins", N_("Sign-ins by user and month"), _per_person_month(session, query, filters)
    )


def identity_views(session: Session, filters: Filters, reach: Reach) -> Table:
    """Views of a participant's identifiers; for a site, those of its participants."""
    query = select().select_from(A).where(A.c.action == "identity.view")
    if filters.site:
        own = select(P.c.study_id).where(P.c.site_id == filters.site_id)
        query = query.where(A.c.participant.in_(own))
    return _table(
        "identity-views",
        N_("Identity views by user and month"),
        _per_person_month(session, query, filters),
    )


def research(session: Session, filters: Filters, reach: Reach) -> Table:
    """Extracts made and files downloaded, by project and researcher. Network-wide: a
    project's extract holds participants of every site, so the site filter does not apply."""
    counts = [func.sum(case((A.c.action == action, 1), else_=0)) for action in RESEARCH_ACTIONS]
    found = session.connection().execute(
        select(A.c.project, A.c.actor, *counts)
        .where(A.c.action.in_(RESEARCH_ACTIONS), A.c.at >= filters.start_at)
        .where(A.c.at < filters.end_before)
        .group_by(A.c.project, A.c.actor)
        .order_by(A.c.project, A.c.actor)
    )
    return Table(
        "research-access",
        N_("Extracts and downloads by project and researcher"),
        (N_("Project and researcher"), *RESEARCH_ACTIONS.values()),
        tuple((f"{project} · {actor}", tuple(map(int, n))) for project, actor, *n in found),
    )


@dataclass(frozen=True)
class ChainCheck:
    at: datetime
    by: str
    intact: bool
    events: int
    broken_at: int | None
    reason: str


def check_chain(session: Session, actor: str) -> audit.Verdict:
    """Walk the chain and record the verdict as the newest event of the same chain."""
    verdict = audit.verify(session)
    audit.record(
        session,
        actor=actor,
        action=CHECK_ACTION,
        detail={
            "intact": verdict.ok,
            "events": verdict.rows,
            "broken_at": verdict.broken_seq,
            "reason": verdict.reason,
        },
    )
    return verdict


def latest_check(session: Session) -> ChainCheck | None:
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == CHECK_ACTION).order_by(AuditEvent.seq.desc())
    ).first()
    if event is None:
        return None
    d = event.detail
    return ChainCheck(
        event.at, event.actor, d["intact"], d["events"], d.get("broken_at"), d.get("reason", "")
    )
