"""The register governance reads (the dashboard's Access section): every extract made for
any project, who made it and when, how many rows and participants it holds, how often it
was downloaded and by whom, and whether a full withdrawal since means it must be deleted
and re-pulled. Read from the extracts and the audit trail, so it cannot disagree with
either."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from cohort.models import AuditEvent, Extract, ExtractMember, Project
from cohort.research.extracts import withdrawn_counts

DOWNLOAD = "research.download"


@dataclass(frozen=True)
class Entry:
    extract_id: int
    project: str
    requested_by: str
    created_at: datetime
    snapshot_at: datetime
    rows: int
    participants: int
    downloads: int
    downloaded_by: tuple[str, ...]
    withdrawn_since: int  # > 0: the project must delete it and re-pull
    deleted_at: datetime | None


def extract_register(session: Session) -> list[Entry]:
    """Every extract, newest first, deleted ones included (marked)."""
    rows = session.exec(
        select(Extract, Project.code)
        .join(Project, Project.id == Extract.project_id)
        .order_by(Extract.id.desc())
    ).all()
    ids = [e.id for e, _ in rows]
    m = ExtractMember.__table__
    held = dict(
        session.connection()
        .execute(
            select(m.c.extract_id, func.count())
            .where(m.c.extract_id.in_(ids))
            .group_by(m.c.extract_id)
        )
        .all()
    )
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == DOWNLOAD)).all()
    counts = Counter(e.detail.get("extract") for e in events)
    people: dict[int, set[str]] = {}
    for e in events:
        people.setdefault(e.detail.get("extract"), set()).add(e.actor)
    withdrawn = withdrawn_counts(session, ids)
    return [
        Entry(
            e.id,
            code,
            e.requested_by,
            e.created_at,
            e.snapshot_at,
            sum(f["rows"] or 0 for f in e.files if f["name"].endswith(".parquet")),
            held.get(e.id, 0),
            counts.get(e.id, 0),
            tuple(sorted(people.get(e.id, ()))),
            withdrawn.get(e.id, 0),
            e.deleted_at,
        )
        for e, code in rows
    ]
