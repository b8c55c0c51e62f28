"""What a participant's consent allows right now: her latest consent with her withdrawals
applied. Linkage and extracts call ``consent_scope`` for every participant they touch,
so a withdrawal or an update takes effect on the next thing they do. A reader of many
women at once (the FHIR export) reads their withdrawals with ``withdrawal_levels`` and
applies the same rule, ``scope_of``.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, select

from cohort.consent_items import CONSENT_ITEMS
from cohort.db import id_chunks
from cohort.models import Consent, Withdrawal
from cohort.withdrawal_levels import Level, strongest


@dataclass(frozen=True)
class Scope:
    items: dict[str, bool]  # each consent item: may it be done from now on
    withdrawal: Level | None  # the furthest-reaching withdrawal recorded
    keeps_linked_data: bool  # may data linked before now still be used

    def allows(self, item: str) -> bool:
        return self.items[item]


def latest_consent(session: Session, participant_id: int) -> Consent | None:
    return session.exec(
        select(Consent).where(Consent.participant_id == participant_id).order_by(Consent.id.desc())
    ).first()


def _levels(session: Session, participant_id: int) -> list[str]:
    query = select(Withdrawal.level).where(Withdrawal.participant_id == participant_id)
    return list(session.exec(query).all())


def withdrawal_level(session: Session, participant_id: int) -> Level | None:
    return strongest(_levels(session, participant_id))


def withdrawal_levels(session: Session, participant_ids: Iterable[int]) -> dict[int, list[str]]:
    """The levels of every withdrawal recorded for each of many participants (none: not
    in the dict), in a few queries rather than one a participant."""
    found: dict[int, list[str]] = {}
    for chunk in id_chunks(participant_ids):
        query = select(Withdrawal.participant_id, Withdrawal.level).where(
            Withdrawal.participant_id.in_(chunk)
        )
        for participant_id, level in session.exec(query):
            found.setdefault(participant_id, []).append(level)
    return found


def consent_scope(session: Session, participant_id: int) -> Scope:
    """Her current consent items with every withdrawal applied."""
    return scope_of(latest_consent(session, participant_id), _levels(session, participant_id))


def scope_of(latest: Consent | None, levels: Iterable[str]) -> Scope:
    """The rule: her latest consent's items, less what her strongest withdrawal stops."""
    given = latest.items if latest is not None else {}
    withdrawal = strongest(list(levels))
    stopped = withdrawal.stops if withdrawal else frozenset()
    return Scope(
        items={name: bool(given.get(name)) and name not in stopped for name in CONSENT_ITEMS},
        withdrawal=withdrawal,
        keeps_linked_data=withdrawal.keeps_linked_data if withdrawal else True,
    )
