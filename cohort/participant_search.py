"""Finding a woman by her NHS number, for data managers: the vault's lookup, with each
search audited, and the deliberate view of her identity (which the vault audits). The
web routes call this, so none of them touches the vault or the keys itself."""

from sqlmodel import Session

from cohort import audit, vault
from cohort.errors import NotFound
from cohort.keys import KeyRing
from cohort.models import Participant

NOBODY = "no participant has this NHS number"


def find(
    session: Session, keys: KeyRing, nhs_number: str, *, actor: str, source: str | None
) -> Participant | None:
    """Who has this NHS number (None: nobody); the search is audited either way."""
    participant = vault.find_participant(session, keys, nhs_number)
    audit.record(
        session,
        actor=actor,
        action="participant.find",
        participant=participant.study_id if participant else None,
        source=source,
        detail={"found": participant is not None},
    )
    return participant


def identity(
    session: Session, keys: KeyRing, nhs_number: str, *, actor: str, source: str | None
) -> tuple[Participant, vault.IdentityFields]:
    """Her record and her identifiers, decrypted for this view (audited by the vault)."""
    participant = vault.find_participant(session, keys, nhs_number)
    if participant is None:
        raise NotFound(NOBODY, field="nhs_number")
    return participant, vault.view_identity(session, keys, participant, actor, source)
