"""Recording a woman's answer: a consent enrols her (vault + study ID), a decline keeps no
identifiers, only what the consent-rate denominator needs.

Every record keeps the form name, version and the language the discussion was held in.
An NHS number already in the cohort never makes a second participant: ``AlreadyEnrolled``
names the existing one, so the midwife can be shown her consent instead.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from cohort import audit, vault
from cohort.consent_items import CONSENT_ITEMS as CONSENT_ITEMS  # the instrument names it here
from cohort.consent_items import check_items
from cohort.errors import CohortError, Conflict
from cohort.keys import KeyRing
from cohort.models import Consent, Decline, Participant, User

AGE_BANDS = ((16, 19), (20, 24), (25, 29), (30, 34), (35, 39), (40, 50))


@dataclass(frozen=True)
class Conversation:
    """How the consent discussion was held, stored with its record: the instrument it
    followed and the woman's language, never who she is."""

    form_name: str
    form_version: str
    language: str
    interpreter_used: bool | None = None
    leaflet_given: bool | None = None
    leaflet_language: str | None = None


@dataclass(frozen=True)
class Profile:
    """Who she is in the consent-rate figures, coarse enough to identify no one: kept for a
    consent and a decline alike, so the rate splits by age band and ethnicity."""

    age_band: str | None  # None only on consents recorded before it was kept
    ethnicity: str | None = None


class AlreadyEnrolled(Conflict):
    """This NHS number is already in the cohort, as ``study_id`` of site ``site_id`` (plain
    values: they outlive the rolled-back transaction, for the page that shows her)."""

    def __init__(self, participant: Participant) -> None:
        super().__init__(
            "a participant with this NHS number is already in the cohort: update her consent "
            "or record a withdrawal instead",
            field="nhs_number",
        )
        self.study_id = participant.study_id
        self.site_id = participant.site_id


def age_band(date_of_birth: date, on: date) -> str:
    """Five-year band (from the booking date) so declines carry no date of birth."""
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}_{high}"  # the age_band codes of the babi_consent instrument
    raise CohortError(f"age {age} is outside the cohort's 16-50 range", field="date_of_birth")


def consent_row(
    participant: Participant,
    user: User,
    items: dict[str, bool],
    conversation: Conversation,
    profile: Profile,
) -> Consent:
    """A new consent row: an enrolment or an update of her scope, in the same shape."""
    return Consent(
        participant_id=participant.id,
        site_id=participant.site_id,
        recorded_by=user.id,
        form_name=conversation.form_name,
        form_version=conversation.form_version,
        language=conversation.language,
        interpreter_used=conversation.interpreter_used,
        leaflet_given=conversation.leaflet_given,
        leaflet_language=conversation.leaflet_language,
        age_band=profile.age_band,
        ethnicity=profile.ethnicity,
        items=items,
    )


def conversation_detail(conversation: Conversation) -> dict[str, object]:
    """The conversation as the audit trail records it."""
    return {
        "form": conversation.form_name,
        "version": conversation.form_version,
        "language": conversation.language,
    }


def record_consent(
    session: Session,
    keys: KeyRing,
    *,
    site_id: int,
    midwife: User,
    identity: vault.IdentityFields,
    items: dict[str, bool],
    conversation: Conversation,
    profile: Profile,
    source: str | None = None,
) -> tuple[Participant, Consent]:
    checked = check_items(items)
    existing = vault.find_participant(session, keys, identity.nhs_number)
    if existing is not None:
        raise AlreadyEnrolled(existing)
    participant = vault.enrol(session, keys, site_id, identity, actor=midwife.username)
    row = consent_row(participant, midwife, checked, conversation, profile)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=midwife.username,
        action="consent.record",
        participant=participant.study_id,
        source=source,
        detail={**conversation_detail(conversation), **checked},
    )
    return participant, row


def record_decline(
    session: Session,
    *,
    site_id: int,
    midwife: User,
    conversation: Conversation,
    profile: Profile,
    source: str | None = None,
) -> Decline:
    """Only site, midwife, date, form, language, age band and (optionally) ethnicity."""
    decline = Decline(
        site_id=site_id,
        recorded_by=midwife.id,
        form_name=conversation.form_name,
        form_version=conversation.form_version,
        language=conversation.language,
        age_band=profile.age_band,
        ethnicity=profile.ethnicity,
    )
    session.add(decline)
    session.flush()
    audit.record(
        session,
        actor=midwife.username,
        action="consent.decline",
        source=source,
        detail={"decline_id": decline.id, "site_id": site_id, **conversation_detail(conversation)},
    )
    return decline
