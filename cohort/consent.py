"""Recording a woman's answer: a consent enrols her (vault + study ID), a decline keeps no
identifiers, only what the consent-rate denominator needs.

Every record keeps the form name, version and the language the discussion was held in.
An NHS number already in the cohort never makes a second participant: ``AlreadyEnrolled``
names the existing one, so the midwife can be shown her consent instead.

A record is dated when it is recorded, except an answer given before the platform existed
(the backfill): it keeps the moment she gave it (``taken_at``), checked by
``check_taken_at``, and its audit event, dated at the import, names that moment too.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session

from cohort import audit, vault
from cohort.age_bands import AGE_BANDS as AGE_BANDS  # named here by the instrument tests
from cohort.age_bands import band_of
from cohort.consent_items import CONSENT_ITEMS as CONSENT_ITEMS  # the instrument names it here
from cohort.consent_items import check_items
from cohort.errors import CohortError, Conflict
from cohort.keys import KeyRing
from cohort.models import Consent, Decline, Participant, User

# Born in Bradford, the cohort the BaBi network grew from, began recruiting in 2007: no
# consent to a cohort of this kind is older, so an earlier date is a slip (a birth date, a
# two-digit year). Her age on the day (16 to 50) is checked as well, by the capture path.
EARLIEST_TAKEN = datetime(2007, 1, 1, tzinfo=UTC)
TAKEN_FIELD = "taken_at"
TAKEN_LATER = "the answer is dated later than now: give the day she answered"
TAKEN_EARLIER = (
    f"the answer is dated before {EARLIEST_TAKEN.year}, when the first cohort of this kind "
    "began: check the year"
)


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
    consent and a decline alike, so the rate splits by age band, ethnicity and area
    deprivation (a decile, never the postcode it came from)."""

    age_band: str | None  # None only on consents recorded before it was kept
    ethnicity: str | None = None
    imd_decile: int | None = None  # her postcode's, when a deprivation lookup is loaded


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
    band = band_of(age)
    if band is not None:
        return band
    raise CohortError(f"age {age} is outside the cohort's 16-50 range", field="date_of_birth")


def check_taken_at(at: datetime, now: datetime | None = None) -> datetime:
    """When she gave an earlier answer, in UTC (a time without a zone is UTC, as the
    platform keeps it): not later than now, not before any cohort of this kind existed."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    if at > (now or datetime.now(UTC)):
        raise CohortError(TAKEN_LATER, field=TAKEN_FIELD)
    if at < EARLIEST_TAKEN:
        raise CohortError(TAKEN_EARLIER, field=TAKEN_FIELD)
    return at


def _dated(detail: dict[str, object], taken_at: datetime | None) -> dict[str, object]:
    """The audit detail, with the moment she answered when it is not the event's own."""
    return detail if taken_at is None else {**detail, TAKEN_FIELD: taken_at.isoformat()}


def consent_row(
    participant: Participant,
    user: User,
    items: dict[str, bool],
    conversation: Conversation,
    profile: Profile,
    answers: dict[str, object],
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
        imd_decile=profile.imd_decile,
        items=items,
        answers=answers,
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
    answers: dict[str, object] | None = None,
    source: str | None = None,
    taken_at: datetime | None = None,
) -> tuple[Participant, Consent]:
    """``answers``: the instrument's other answers (``Consent.answers``); ``taken_at``:
    when she consented, if before now (a backfill); the record keeps it."""
    checked = check_items(items)
    taken_at = None if taken_at is None else check_taken_at(taken_at)
    existing = vault.find_participant(session, keys, identity.nhs_number)
    if existing is not None:
        raise AlreadyEnrolled(existing)
    participant = vault.enrol(session, keys, site_id, identity, actor=midwife.username)
    row = consent_row(participant, midwife, checked, conversation, profile, answers or {})
    if taken_at is not None:
        row.recorded_at = taken_at
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=midwife.username,
        action="consent.record",
        participant=participant.study_id,
        source=source,
        detail=_dated({**conversation_detail(conversation), **checked}, taken_at),
    )
    return participant, row


def record_decline(
    session: Session,
    *,
    site_id: int,
    midwife: User,
    conversation: Conversation,
    profile: Profile,
    answers: dict[str, object] | None = None,
    source: str | None = None,
    taken_at: datetime | None = None,
) -> Decline:
    """Only site, midwife, date, form, language, age band, (optionally) ethnicity and the
    instrument's other answers, never an identifier; ``taken_at`` as for a consent."""
    taken_at = None if taken_at is None else check_taken_at(taken_at)
    decline = Decline(
        site_id=site_id,
        recorded_by=midwife.id,
        form_name=conversation.form_name,
        form_version=conversation.form_version,
        language=conversation.language,
        age_band=profile.age_band,
        ethnicity=profile.ethnicity,
        answers=answers or {},
    )
    if taken_at is not None:
        decline.recorded_at = taken_at
    session.add(decline)
    session.flush()
    audit.record(
        session,
        actor=midwife.username,
        action="consent.decline",
        source=source,
        detail=_dated(
            {"decline_id": decline.id, "site_id": site_id, **conversation_detail(conversation)},
            taken_at,
        ),
    )
    return decline
