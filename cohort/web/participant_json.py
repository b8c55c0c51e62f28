"""What the consent API reads and writes: instrument answers in, a participant's consent
out (study ID, site, scope and history; never an identifier)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, RootModel
from sqlmodel import Session

from cohort import access
from cohort.models import User
from cohort.participant_status import status

ANSWERS_EXAMPLE = {
    "discussion_language": "ur",
    "interpreter_used": "1",
    "leaflet_given": "1",
    "leaflet_language": "ur",
    "nhs_number": "943 476 5919",
    "given_name": "Aisha",
    "family_name": "Khan",
    "date_of_birth": "1995-04-02",
    "postcode": "BD5 0NA",
    "consent_items": ["link_mother_health", "link_baby_health", "contact"],
}


ANSWER_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class InstrumentAnswers(RootModel[dict[str, Any]]):
    """The answers to the current babi_consent instrument, by field name (its REDCap data
    dictionary: ``cohort forms export babi_consent``): text, a choice code, or for a
    checkbox field the list of ticked codes. Fields that branching logic hides are
    ignored; fields the instrument does not have, and answers that are not text, are
    refused naming the field (the consent service checks them, as for the web form)."""

    model_config = {
        "json_schema_extra": {"additionalProperties": ANSWER_SCHEMA, "examples": [ANSWERS_EXAMPLE]}
    }


class HistoryEntry(BaseModel):
    kind: str = Field(description="consent, update or withdrawal")
    at: datetime
    recorded_by: str
    language: str | None = Field(None, description="the discussion's language code")
    form: str | None = Field(None, description="instrument name and version")
    items: dict[str, bool] | None = None
    level: str | None = Field(None, description="no_contact, no_data or full")


class ParticipantOut(BaseModel):
    study_id: str
    site: str
    status: str = Field(description="consented or withdrawn")
    joined_at: datetime | None
    scope: dict[str, bool] = Field(
        description="each consent item: may it be done from now on (withdrawals applied)"
    )
    withdrawal: str | None = Field(description="the furthest withdrawal level recorded")
    keeps_linked_data: bool = Field(description="may data linked before now still be used")
    history: list[HistoryEntry]


def participant_out(db: Session, user: User, study_id: str) -> ParticipantOut:
    found = status(db, access.participant_for(db, user, study_id))
    withdrawal = found.scope.withdrawal
    return ParticipantOut(
        study_id=found.study_id,
        site=found.site_code,
        status="withdrawn" if withdrawal else "consented",
        joined_at=found.joined_at,
        scope=found.scope.items,
        withdrawal=withdrawal.code if withdrawal else None,
        keeps_linked_data=found.scope.keeps_linked_data,
        history=[
            HistoryEntry(
                kind=event.kind,
                at=event.at,
                recorded_by=event.by,
                language=event.language,
                form=event.form,
                items=event.items,
                level=event.level,
            )
            for event in found.history
        ],
    )
