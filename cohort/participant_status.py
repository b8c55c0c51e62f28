"""A participant's consent as staff and API clients see it: study ID, site, when she
joined, what her consent allows now and every change since. No identifier: reading it
never touches the vault."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from cohort.models import Consent, Participant, Site, User, Withdrawal
from cohort.scope import Scope, consent_scope


@dataclass(frozen=True)
class Event:
    """One entry of her history: her consent, an update of it, or a withdrawal."""

    kind: str  # "consent", "update" or "withdrawal"
    at: datetime
    by: str  # the username of whoever recorded it
    language: str | None = None  # consents and updates: the discussion's language
    form: str | None = None  # consents and updates: "name version"
    items: dict[str, bool] | None = None  # consents and updates: what she agreed to
    level: str | None = None  # withdrawals


@dataclass(frozen=True)
class ParticipantStatus:
    study_id: str
    site_code: str
    site_name: str
    joined_at: datetime | None  # when her first consent was recorded
    scope: Scope
    history: tuple[Event, ...]  # oldest first

    @property
    def consented(self) -> bool:
        return any(self.scope.items.values())


def _consent_events(session: Session, participant_id: int) -> list[Event]:
    rows = session.exec(
        select(Consent, User.username)
        .join(User, User.id == Consent.recorded_by)
        .where(Consent.participant_id == participant_id)
        .order_by(Consent.id)
    ).all()
    return [
        Event(
            kind="consent" if position == 0 else "update",
            at=row.recorded_at,
            by=username,
            language=row.language,
            form=f"{row.form_name} {row.form_version}",
            items=dict(row.items),
        )
        for position, (row, username) in enumerate(rows)
    ]


def _withdrawal_events(session: Session, participant_id: int) -> list[Event]:
    rows = session.exec(
        select(Withdrawal, User.username)
        .join(User, User.id == Withdrawal.recorded_by)
        .where(Withdrawal.participant_id == participant_id)
        .order_by(Withdrawal.id)
    ).all()
    return [
        Event(kind="withdrawal", at=row.recorded_at, by=username, level=row.level)
        for row, username in rows
    ]


def status(session: Session, participant: Participant) -> ParticipantStatus:
    site = session.get(Site, participant.site_id)
    consents = _consent_events(session, participant.id)
    history = sorted(consents + _withdrawal_events(session, participant.id), key=lambda e: e.at)
    return ParticipantStatus(
        study_id=participant.study_id,
        site_code=site.code,
        site_name=site.name,
        joined_at=consents[0].at if consents else None,
        scope=consent_scope(session, participant.id),
        history=tuple(history),
    )
