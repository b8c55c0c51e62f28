"""Who may see and act on a participant: staff of a site-scoped role (a midwife) only on
the participants of her own site, network roles on anyone.

A participant out of reach is reported exactly as one that does not exist, so changing a
study ID in an address tells nobody whether another site holds it.
"""

from sqlmodel import Session, select

from cohort.errors import NotFound
from cohort.models import SITE_SCOPED_ROLES, Participant, User

NOT_HERE = "there is no participant with study ID {study_id} at your site"
NOBODY = "there is no participant with study ID {study_id}"


def can_reach(user: User, participant: Participant) -> bool:
    return user.role not in SITE_SCOPED_ROLES or participant.site_id == user.site_id


def participant_for(session: Session, user: User, study_id: str) -> Participant:
    """The participant with ``study_id`` if ``user`` may see her, else ``NotFound``."""
    normal = study_id.strip().upper()
    participant = (  # no study ID holds a NUL byte, which PostgreSQL refuses to compare
        None
        if "\x00" in normal
        else session.exec(select(Participant).where(Participant.study_id == normal)).first()
    )
    if participant is None or not can_reach(user, participant):
        message = NOT_HERE if user.role in SITE_SCOPED_ROLES else NOBODY
        raise NotFound(message.format(study_id=normal[:16]), field="study_id")
    return participant
