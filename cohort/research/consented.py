"""Who may appear in a project's data for each dataset, decided in bulk at extraction or
query time from the consent zone (one pass over consents and withdrawals, not one
``consent_scope`` per participant, so 100,000 participants take a second).

The rule, for a dataset covered by a consent item (``covering_item``): she is in it if her
latest consent gave that item and she has not withdrawn at a level that removes linked
data. "No further data" keeps what was linked before (``Level.keeps_linked_data``): her
rows stay usable, and a full withdrawal takes her out of everything. The cohort's own
consent data (no covering item) holds everyone not fully withdrawn. A child's rows follow
her mother's consent.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from cohort.models import ChildParticipant, Consent, Participant, Site, Withdrawal
from cohort.withdrawal_levels import Level, strongest
from linkage_jobs.cohort_identities import covering_item
from linkage_jobs.spec import load_specs


@dataclass(frozen=True)
class Member:
    participant_id: int
    study_id: str
    enrolled_at: datetime
    site: str
    items: dict[str, bool]  # her latest consent, as given
    age_band: str | None
    ethnicity: str | None
    language: str
    withdrawal: Level | None

    def current_items(self) -> dict[str, bool]:
        """Her items with her withdrawal applied, as ``consent_scope`` gives them."""
        stopped = self.withdrawal.stops if self.withdrawal else frozenset()
        return {k: bool(v) and k not in stopped for k, v in self.items.items()}


def may_use(member: Member, item: str | None) -> bool:
    """The rule: may data covered by ``item`` (None: her consent data) be used now."""
    if member.withdrawal is not None and not member.withdrawal.keeps_linked_data:
        return False
    return item is None or bool(member.items.get(item))


def dataset_item(dataset: str) -> str | None:
    specs = load_specs()
    return covering_item(specs[dataset]) if dataset in specs else None


def members(session: Session, enrolled_by: datetime | None = None) -> list[Member]:
    """Every participant enrolled by ``enrolled_by``, with her latest consent and
    strongest withdrawal, in participant order."""
    conn = session.connection()
    p, s = Participant.__table__, Site.__table__
    query = select(p.c.id, p.c.study_id, p.c.created_at, s.c.code).join(s, s.c.id == p.c.site_id)
    if enrolled_by is not None:
        query = query.where(p.c.created_at <= enrolled_by)
    people = conn.execute(query.order_by(p.c.id)).all()
    c = Consent.__table__
    latest: dict[int, tuple] = {}
    for row in conn.execute(
        select(
            c.c.participant_id, c.c["items"], c.c.age_band, c.c.ethnicity, c.c.language
        ).order_by(c.c.id)
    ):
        latest[row[0]] = row
    w = Withdrawal.__table__
    levels: dict[int, list[str]] = {}
    for pid, level in conn.execute(select(w.c.participant_id, w.c.level)):
        levels.setdefault(pid, []).append(level)
    found = []
    for pid, study_id, created_at, site in people:
        _, items, age_band, ethnicity, language = latest.get(pid, (pid, {}, None, None, ""))
        found.append(
            Member(
                pid,
                study_id,
                created_at,
                site,
                dict(items),
                age_band,
                ethnicity,
                language,
                strongest(levels.get(pid, [])),
            )
        )
    return found


def children(session: Session) -> list[tuple[str, int]]:
    """(child study ID, mother's participant id) for every child met in a child source."""
    c = ChildParticipant.__table__
    return [tuple(r) for r in session.connection().execute(select(c.c.study_id, c.c.mother_id))]
