"""What a participant's consent allows right now: her latest consent with her withdrawals
applied. Linkage and extracts call ``consent_scope`` for every participant they touch,
so a withdrawal or an update takes effect on the next thing they do.
"""

from dataclasses import dataclass

from sqlmodel import Session, select

from cohort.consent_items import CONSENT_ITEMS
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


def withdrawal_level(session: Session, participant_id: int) -> Level | None:
    levels = session.exec(
        select(Withdrawal.level).where(Withdrawal.participant_id == participant_id)
    ).all()
    return strongest(list(levels))


def consent_scope(session: Session, participant_id: int) -> Scope:
    """Her current consent items with every withdrawal applied."""
    latest = latest_consent(session, participant_id)
    given = latest.items if latest is not None else {}
    withdrawal = withdrawal_level(session, participant_id)
    stopped = withdrawal.stops if withdrawal else frozenset()
    return Scope(
        items={name: bool(given.get(name)) and name not in stopped for name in CONSENT_ITEMS},
        withdrawal=withdrawal,
        keeps_linked_data=withdrawal.keeps_linked_data if withdrawal else True,
    )
