"""What data managers see of linkage: recent runs, each source's latest, and the files in
quarantine with the reason each was refused (the runs page and ``cohort link status``)."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, func, select

from cohort.config import Settings
from cohort.models import ClericalPair, LinkageRun
from linkage_jobs.runner import Places
from linkage_jobs.spec import SourceSpec

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class Quarantined:
    name: str
    reason: str
    moved_at: datetime


def recent_runs(session: Session, limit: int = 20, source: str | None = None) -> list[LinkageRun]:
    query = select(LinkageRun).order_by(LinkageRun.id.desc()).limit(limit)
    if source is not None:
        query = query.where(LinkageRun.source == source)
    return list(session.exec(query).all())


def latest_runs(session: Session) -> dict[str, LinkageRun]:
    """Each source's most recent run."""
    newest = select(LinkageRun.source, func.max(LinkageRun.id)).group_by(LinkageRun.source)
    ids = [run_id for _, run_id in session.exec(newest).all()]
    runs = session.exec(select(LinkageRun).where(LinkageRun.id.in_(ids))).all() if ids else []
    return {run.source: run for run in runs}


def pending_review(session: Session) -> dict[str, int]:
    """Clerical pairs awaiting a decision, by source."""
    rows = session.exec(
        select(ClericalPair.source, func.count())
        .where(ClericalPair.decision == "pending")
        .group_by(ClericalPair.source)
    ).all()
    return dict(rows)


def quarantined(settings: Settings, spec: SourceSpec) -> list[Quarantined]:
    """The source's refused files, newest first, each with its reason."""
    folder: Path = Places.of(settings, spec).quarantine
    if not folder.is_dir():
        return []
    found = []
    for reason in folder.glob(f"*{REASON_SUFFIX}"):
        name = reason.name.removesuffix(REASON_SUFFIX)
        moved = datetime.fromtimestamp(reason.stat().st_mtime, UTC)
        found.append(Quarantined(name, reason.read_text(encoding="utf-8").strip(), moved))
    return sorted(found, key=lambda q: q.moved_at, reverse=True)
