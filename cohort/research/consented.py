"""Who may appear in a project's data for each dataset, decided in bulk at extraction or
query time from the consent zone (one pass over consents and withdrawals, not one
``consent_scope`` per participant). The pass is kept per database until any participant,
consent, withdrawal or child is added or removed (``stamp``, a few indexed aggregates
read every time), so repeated queries skip it and a new withdrawal counts at once.
(``cohort.research.holders`` states the same rule as SQL, for a count over everyone that
need not wait for this pass.)

The rule, for a dataset covered by a consent item (``covering_item``): she is in it if her
latest consent gave that item and she has not withdrawn at a level that removes linked
data. "No further data" keeps what was linked before (``Level.keeps_linked_data``): her
rows stay usable, and a full withdrawal takes her out of everything. The cohort's own
consent data (no covering item) holds everyone not fully withdrawn. A child's rows follow
her mother's consent.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from cohort.models import ChildParticipant, Consent, Participant, Site, Withdrawal
from cohort.withdrawal_levels import Level, strongest
from linkage_jobs.coverage import covering_item
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


STAMPED = tuple(t.__table__ for t in (Participant, Consent, Withdrawal, ChildParticipant))


def stamp(session: Session) -> tuple:
    """Changes whenever a row is added to or removed from any table the pass reads: the
    database, then (highest row id, rows) of each ``STAMPED`` table, in order."""
    parts = [select(func.max(t.c.id), func.count()).select_from(t) for t in STAMPED]
    conn = session.connection()
    return (str(conn.engine.url), *(tuple(conn.execute(q).one()) for q in parts))


# Per database: (stamp, members, children).
_passes: dict[str, tuple[tuple, list["Member"], list[tuple[str, int, int]]]] = {}


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _read(session: Session) -> list[Member]:
    conn = session.connection()
    p, s = Participant.__table__, Site.__table__
    people = conn.execute(
        select(p.c.id, p.c.study_id, p.c.created_at, s.c.code)
        .join(s, s.c.id == p.c.site_id)
        .order_by(p.c.id)
    ).all()
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
                _aware(created_at),
                site,
                dict(items),
                age_band,
                ethnicity,
                language,
                strongest(levels.get(pid, [])),
            )
        )
    return found


def _pass(session: Session) -> tuple[list[Member], list[tuple[str, int, int]]]:
    current = stamp(session)
    held = _passes.get(current[0])
    if held is None or held[0] != current:
        c = ChildParticipant.__table__
        read = select(c.c.study_id, c.c.mother_id, c.c.id)
        kids = [tuple(r) for r in session.connection().execute(read)]
        held = _passes[current[0]] = (current, _read(session), kids)
    return held[1], held[2]


def members(session: Session, enrolled_by: datetime | None = None) -> list[Member]:
    """Every participant enrolled by ``enrolled_by``, with her latest consent and
    strongest withdrawal, in participant order."""
    everyone, _ = _pass(session)
    if enrolled_by is None:
        return list(everyone)
    return [m for m in everyone if m.enrolled_at <= enrolled_by]


def children(session: Session) -> list[tuple[str, int, int]]:
    """(child study ID, mother's participant id, child's row id) for every child met in a
    child source."""
    return list(_pass(session)[1])
