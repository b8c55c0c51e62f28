"""Recording a woman's answer: a consent enrols her (vault + study ID), a decline keeps no
identifiers, only what the consent-rate denominator needs."""

from datetime import date

from sqlmodel import Session

from cohort import audit, vault
from cohort.errors import CohortError
from cohort.keys import KeyRing
from cohort.models import Consent, Decline, Participant, User

CONSENT_ITEMS = ("link_mother_health", "link_baby_health", "link_council", "contact")
AGE_BANDS = ((16, 19), (20, 24), (25, 29), (30, 34), (35, 39), (40, 50))


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


def _check_items(items: dict[str, bool]) -> dict[str, bool]:
    unknown = set(items) - set(CONSENT_ITEMS)
    if unknown:
        raise CohortError(f"unknown consent item(s): {', '.join(sorted(unknown))}")
    if not any(items.values()):
        raise CohortError("a consent must tick at least one item; otherwise record a decline")
    return {name: bool(items.get(name, False)) for name in CONSENT_ITEMS}


def record_consent(
    session: Session,
    keys: KeyRing,
    *,
    site_id: int,
    midwife: User,
    identity: vault.IdentityFields,
    items: dict[str, bool],
    form_name: str,
    form_version: str,
    language: str,
) -> Participant:
    checked = _check_items(items)
    participant = vault.enrol(session, keys, site_id, identity, actor=midwife.username)
    session.add(
        Consent(
            participant_id=participant.id,
            site_id=site_id,
            recorded_by=midwife.id,
            form_name=form_name,
            form_version=form_version,
            language=language,
            items=checked,
        )
    )
    audit.record(
        session,
        actor=midwife.username,
        action="consent.record",
        participant=participant.study_id,
        detail={"form": form_name, "version": form_version, "language": language, **checked},
    )
    return participant


def record_decline(
    session: Session,
    *,
    site_id: int,
    midwife: User,
    language: str,
    age_band: str,
    ethnicity: str | None,
    form_name: str,
    form_version: str,
) -> Decline:
    decline = Decline(
        site_id=site_id,
        recorded_by=midwife.id,
        form_name=form_name,
        form_version=form_version,
        language=language,
        age_band=age_band,
        ethnicity=ethnicity,
    )
    session.add(decline)
    session.flush()
    audit.record(
        session,
        actor=midwife.username,
        action="consent.decline",
        detail={"decline_id": decline.id, "site_id": site_id, "language": language},
    )
    return decline
