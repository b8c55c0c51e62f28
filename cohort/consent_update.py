"""Changing the scope of a participant's consent: a new consent row, never an edit, so the
history of what she agreed to, when and in which language stays whole. Only a midwife of
her site records one, in conversation with her."""

from sqlmodel import Session

from cohort import audit
from cohort.consent import Conversation, Profile, consent_row, conversation_detail
from cohort.consent_items import CONSENT_ITEMS, check_items
from cohort.errors import Conflict, Forbidden
from cohort.models import Consent, Participant, User
from cohort.scope import latest_consent, withdrawal_level
from cohort.withdrawal_levels import Level
from forms.i18n import N_

UPDATED_BY = ("midwife",)
ACTION = "update"
WITHDRAWN = N_("She has withdrawn from the study: her consent can no longer be changed")
UNCHANGED = N_("These are already her choices: tick or untick a statement to change them")


def can_change(withdrawal: Level | None) -> bool:
    """Whether anything is left to change: not after a withdrawal that stops every item."""
    return withdrawal is None or not withdrawal.stops >= set(CONSENT_ITEMS)


def update_consent(
    session: Session,
    *,
    participant: Participant,
    user: User,
    items: dict[str, bool],
    conversation: Conversation,
    source: str | None = None,
) -> Consent:
    """Record her new choices; refused after a withdrawal that stops every item, and when
    nothing changes."""
    if user.role not in UPDATED_BY:
        raise Forbidden(f"a {user.role.replace('_', ' ')} cannot change a consent")
    checked = check_items(items)
    if not can_change(withdrawal_level(session, participant.id)):
        raise Conflict(WITHDRAWN, field="consent_items")
    latest = latest_consent(session, participant.id)
    if latest is not None and latest.items == checked:
        raise Conflict(UNCHANGED, field="consent_items")
    profile = (
        Profile(latest.age_band, latest.ethnicity, latest.imd_decile) if latest else Profile(None)
    )
    answers = latest.answers if latest else {}  # the update asks only the tick boxes again
    row = consent_row(participant, user, checked, conversation, profile, answers)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user.username,
        action="consent.update",
        participant=participant.study_id,
        source=source,
        detail={**conversation_detail(conversation), **checked},
    )
    return row
