"""Participants as REDCap flat records: one per participant in the caller's reach, keyed
by study ID, holding her latest consent's answers and date and, for roles allowed to see
them, her identifiers from the vault.

Every value is a string, as REDCap exports it: a checkbox is one ``field___code`` column
per option ("1" ticked, "0" not), a yes/no "1" or "0", the form status "2" (complete).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session, select

from cohort import capture, vault
from cohort.interop.redcap_metadata import (
    COMPLETE,
    CONSENT_DATE,
    RECORD_ID,
    Project,
    complete_field,
)
from cohort.keys import KeyRing
from cohort.models import SITE_SCOPED_ROLES, Consent, Participant, User
from forms.branching import Answer


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "1" if value else "0"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# The consent form's fields, read back from a consent row.
FROM_CONSENT: dict[str, Callable[[Consent], Answer]] = {
    "discussion_language": lambda c: c.language,
    "interpreter_used": lambda c: _yes_no(c.interpreter_used),
    "leaflet_given": lambda c: _yes_no(c.leaflet_given),
    "leaflet_language": lambda c: c.leaflet_language or "",
    "outcome": lambda c: capture.CONSENTED,
    capture.ITEMS_FIELD: lambda c: frozenset(item for item, on in c.items.items() if on),
    "ethnicity": lambda c: c.ethnicity or "",
    "age_band": lambda c: c.age_band or "",
    CONSENT_DATE: lambda c: _aware(c.recorded_at).astimezone(UTC).date().isoformat(),
}


def _other_answers(row: Consent) -> dict[str, Answer]:
    """The answers without a column (``Consent.answers``), as the form reads them back."""
    return {
        name: frozenset(value) if isinstance(value, list) else str(value)
        for name, value in row.answers.items()
    }


@dataclass
class Record:
    participant: Participant
    consent: Consent  # her latest
    answers: dict[str, Answer] = field(default_factory=dict)

    @property
    def study_id(self) -> str:
        return self.participant.study_id

    @property
    def changed_at(self) -> datetime:
        """When the record was created or last changed, as ``dateRangeBegin`` means it: a
        backfilled consent is dated when she gave it, but its record is new at the import."""
        return max(_aware(self.consent.recorded_at), _aware(self.participant.created_at))


def _in_reach(query, user: User):
    if user.role in SITE_SCOPED_ROLES:
        return query.where(Participant.site_id == user.site_id)
    return query


def records(session: Session, user: User) -> list[Record]:
    """Every participant the user may reach, with her latest consent, oldest first."""
    query = _in_reach(
        select(Participant, Consent).join(Consent, Consent.participant_id == Participant.id),
        user,
    )
    latest: dict[int, Record] = {}
    for participant, row in session.exec(query.order_by(Consent.id)):
        latest[participant.id] = Record(participant, row)
    found = sorted(latest.values(), key=lambda record: record.participant.id)
    for record in found:
        record.answers = read_answers(record)
    return found


def read_answers(record: Record) -> dict[str, Answer]:
    """Her latest consent's answers as the form reads them back, keyed by field name."""
    answers = {name: read(record.consent) for name, read in FROM_CONSENT.items()}
    answers.update(_other_answers(record.consent))
    answers[RECORD_ID] = record.study_id
    return answers


def add_identifiers(
    session: Session, keys: KeyRing, chosen: Iterable[Record], names: frozenset[str]
) -> None:
    """Decrypt the identifier fields ``names`` into each record's answers."""
    by_id = {record.participant.id: record for record in chosen}
    if not by_id or not names:
        return
    for participant_id, plain in vault.read_fields(session, keys, by_id, names).items():
        by_id[participant_id].answers.update(
            {name: "" if value is None else value for name, value in plain.items()}
        )


def flat(project: Project, answers: Mapping[str, Answer], columns: Iterable[str]) -> dict:
    """The record as REDCap's flat export row, limited to ``columns``."""
    row: dict[str, str] = {}
    for name, names in project.columns.items():
        if name == complete_field(project.form):
            row[names[0]] = COMPLETE
        elif name in project.checkboxes:
            ticked = answers.get(name, frozenset())
            codes = project.spec.field(name).codes
            row.update(
                {
                    col: "1" if code in ticked else "0"
                    for code, col in zip(codes, names, strict=True)
                }
            )
        else:
            value = answers.get(name, "")
            row[name] = value if isinstance(value, str) else ""
    wanted = set(columns)
    return {column: value for column, value in row.items() if column in wanted}
