"""Full withdrawal in the research store: a participant who withdraws fully (and her
children) leaves it at once.

"No further data" needs nothing here: it ends her consent items, so she drops out of the
next run's cohort and its consent check, and what was linked before stays. A level that
does not keep linked data (``Level.keeps_linked_data``) purges every row of hers and her
children's from every research-store table, rejects her pending clerical pairs and drops
their payloads, and is audited with the counts. Called by the routes that record a
withdrawal, inside their transaction, so a purge that fails leaves the withdrawal
unrecorded and the member of staff told; and by the runner after each write, for a
withdrawal recorded while it ran.
"""

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, select

from cohort import audit
from cohort.models import ClericalPair, Participant
from cohort.scope import consent_scope
from linkage_jobs import children, store

PURGE_DECISION = "rejected"


def purge_participant(
    session: Session, store_path: Path, participant_id: int, *, actor: str
) -> int:
    """Delete her and her children's research rows and pending pairs; return rows deleted."""
    family = children.family_study_ids(session, participant_id)
    pending = session.exec(
        select(ClericalPair).where(
            ClericalPair.decision == "pending", ClericalPair.study_id == family[0]
        )
    ).all()
    for pair in pending:  # their payloads go with her rows in ``store.purge``
        pair.decision = PURGE_DECISION
        pair.decided_by = actor
        pair.decided_at = datetime.now(UTC)
        session.add(pair)
    deleted = store.purge(store_path, family)
    audit.record(
        session,
        actor=actor,
        action="linkage.purge",
        participant=family[0],
        detail={"rows_deleted": deleted, "children": len(family) - 1, "pairs": len(pending)},
    )
    return deleted


def purge_if_withdrawn(session: Session, store_path: Path, study_id: str, *, actor: str) -> int:
    """Purge her linked data if her withdrawal no longer keeps it; idempotent."""
    participant = session.exec(select(Participant).where(Participant.study_id == study_id)).first()
    if participant is None or consent_scope(session, participant.id).keeps_linked_data:
        return 0
    return purge_participant(session, store_path, participant.id, actor=actor)
