"""A network whose dashboard figures are known by construction, written with direct
inserts (fast, and independent of the capture path): three sites, two midwives at A,
one at B and C, a lead for site A and a network governance user."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import count

from sqlalchemy.engine import Engine
from sqlmodel import Session

from cohort.governance import approach_records
from cohort.governance.filters import Filters
from cohort.governance.reach import Reach
from cohort.governance.tables import cells
from cohort.models import Participant, Site, User, Withdrawal

_study = count(1)


@dataclass(frozen=True)
class Network:
    engine: Engine
    a: Site
    b: Site
    c: Site
    anna: User  # midwife at A
    beth: User  # midwife at A
    cara: User  # midwife at B
    dora: User  # midwife at C
    lead_a: User  # governance, site A
    network: User  # governance, no site


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def make_network(engine: Engine) -> Network:
    with Session(engine, expire_on_commit=False) as s:
        a, b, c = (Site(code=x, name=f"Site {x}") for x in ("SA", "SB", "SC"))
        s.add_all([a, b, c])
        s.flush()

        def user(name: str, role: str, site: Site | None) -> User:
            u = User(
                username=name.lower(),
                full_name=name,
                role=role,
                site_id=site.id if site else None,
                password_hash="not used",
            )
            s.add(u)
            return u

        people = Network(
            engine,
            a,
            b,
            c,
            user("Anna Able", "midwife", a),
            user("Beth Baker", "midwife", a),
            user("Cara Cole", "midwife", b),
            user("Dora Dale", "midwife", c),
            user("Lena Lead", "governance", a),
            user("Nia Network", "governance", None),
        )
        s.commit()
        return people


def consents(
    engine: Engine,
    n: int,
    *,
    site: Site,
    by: User,
    when: datetime,
    items: dict[str, bool] | None = None,
    **recorded,
) -> list[int]:
    """``n`` enrolments (a participant and her first consent row); their participant ids.
    ``items``: what each consented to (contact only, unless told); ``recorded``: language,
    ethnicity and age band, as ``approach_records.decline`` takes."""
    with Session(engine) as s:
        ids = []
        for _ in range(n):
            p = Participant(study_id=f"T{next(_study):07d}", site_id=site.id, created_at=when)
            s.add(p)
            s.flush()
            ids.append(p.id)
        rows = [
            approach_records.consent(
                pid,
                items or {"contact": True},
                site_id=site.id,
                recorded_by=by.id,
                when=when,
                **recorded,
            )
            for pid in ids
        ]
        approach_records.write(s.connection(), "consent", rows)
        s.commit()
    return ids


def updates(engine: Engine, participant_ids: list[int], *, site: Site, by: User, when) -> None:
    """A later consent row (a change of scope) for each participant: not an enrolment."""
    changed = dict(language="ur", age_band="40_50", ethnicity="pakistani")
    rows = [
        approach_records.consent(
            pid, {"contact": False}, site_id=site.id, recorded_by=by.id, when=when, **changed
        )
        for pid in participant_ids
    ]
    with Session(engine) as s:
        approach_records.write(s.connection(), "consent", rows)
        s.commit()


def declines(engine: Engine, n: int, *, site: Site, by: User, when: datetime, **recorded) -> None:
    row = approach_records.decline(site.id, by.id, when, **recorded)
    with Session(engine) as s:
        approach_records.write(s.connection(), "decline", [row] * n)
        s.commit()


def withdraw(engine: Engine, participant_id: int, level: str, by: User, when: datetime) -> None:
    with Session(engine) as s:
        s.add(
            Withdrawal(
                participant_id=participant_id, level=level, recorded_by=by.id, recorded_at=when
            )
        )
        s.commit()


NETWORK = Reach(site_id=None, midwife_names=False)


def period(start: date, end: date, site: Site | None = None) -> Filters:
    return Filters(start, end, site)


def march(site: Site | None = None) -> Filters:
    return Filters(date(2026, 3, 1), date(2026, 3, 31), site)


def rows_of(table) -> dict[str, tuple[int, ...]]:
    return dict(table.rows)


def shown(table) -> dict[str, list[str]]:
    """Each row as the page shows it, keyed by its label."""
    return {row[0]: row[1:] for row in cells(table)}
