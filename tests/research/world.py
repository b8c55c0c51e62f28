"""A small research world: a site, staff, participants with chosen consents and
withdrawals, children and linked rows (seeded by ``cohort.research.sample_world``, as the
research benchmark seeds its hundred thousand), and projects registered through the
service."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cohort.config import Settings
from cohort.consent_items import CONSENT_ITEMS
from cohort.db import session_scope
from cohort.keys import KeyRing, init_keys, load_keys
from cohort.models import Participant, Site, User, Withdrawal
from cohort.research import projects, sample_world
from forms import registry

LINKED_AT = datetime(2026, 6, 1, 12, tzinfo=UTC)
SNAPSHOT = datetime(2026, 7, 1, tzinfo=UTC)
TODAY = datetime.now(UTC).date()
ALL_ITEMS = dict.fromkeys(CONSENT_ITEMS, True)


@dataclass
class ResearchWorld:
    engine: Engine
    settings: Settings
    keys: KeyRing
    researcher: User
    other_researcher: User
    manager: User
    _next: int = 0

    def session(self):
        return session_scope(self.engine)

    def participant(
        self,
        items: dict[str, bool] | None = None,
        *,
        withdrawal: str | None = None,
        enrolled_at: datetime | None = None,
        **consent,
    ) -> Participant:
        """A participant with one consent (all items unless told), optionally withdrawn."""
        self._next += 1
        mother = sample_world.Mother(
            study_id=f"BB-{self._next:04d}-0000",
            enrolled_at=enrolled_at
            or datetime(2025, 3, 14, 9, tzinfo=UTC) + timedelta(days=self._next),
            items={**ALL_ITEMS, **(items or {})},
            withdrawal=withdrawal,
            **consent,
        )
        with self.session() as s:
            site = s.exec(Site.__table__.select()).first()
            (pid,) = sample_world.enrol(s, site.id, self.manager.id, [mother])
            p = s.get(Participant, pid)
            s.expunge(p)
            return p

    def participants(self, count: int) -> list[str]:
        """The study IDs of ``count`` more participants holding every item, enrolled at
        once (for tables of counts, where who they are does not matter)."""
        mothers = []
        for _ in range(count):
            self._next += 1
            mothers.append(
                sample_world.Mother(
                    study_id=f"BB-{self._next:04d}-0000",
                    enrolled_at=datetime(2025, 3, 14, 9, tzinfo=UTC) + timedelta(days=self._next),
                    items=ALL_ITEMS,
                )
            )
        with self.session() as s:
            site = s.exec(Site.__table__.select()).first()
            sample_world.enrol(s, site.id, self.manager.id, mothers)
        return [m.study_id for m in mothers]

    def withdraw(self, participant: Participant, level: str) -> None:
        with self.session() as s:
            s.add(
                Withdrawal(participant_id=participant.id, level=level, recorded_by=self.manager.id)
            )

    def child(self, mother: Participant, suffix: str = "1") -> str:
        study_id = mother.study_id[:-4] + f"C00{suffix}"
        with self.session() as s:
            sample_world.add_children(s, [(study_id, mother.id)])
        return study_id

    def link(self, source: str, rows: list[dict], *, linked_at: datetime = LINKED_AT) -> None:
        """Write rows (study_id + payload columns) into the store as a linkage run would."""
        sample_world.link(
            self.settings.research_store_path, source, pd.DataFrame(rows), linked_at=linked_at
        )

    def project(self, code: str = "PRJ-A", *, members=("rita",), **approval) -> str:
        values = {
            "code": code,
            "title": f"Project {code}",
            "lead": "Dr Lead",
            "approval_reference": "REC 26/YH/0001",
            "approved_from": TODAY - timedelta(days=30),
            "approved_until": TODAY + timedelta(days=30),
            "variables": ("consent", "maternity", "birth_notifications"),
            "date_granularity": "month",
            "row_level": True,
            **approval,
        }
        with self.session() as s:
            projects.register(s, projects.Approval(**values), actor="test")
            for username in members:
                projects.add_researcher(s, code, username, actor="test")
        return code


def _user(s: Session, username: str, role: str) -> User:
    user = User(username=username, full_name=username.title(), role=role, password_hash="x")
    s.add(user)
    s.flush()
    s.expunge(user)
    return user


@pytest.fixture
def research(engine: Engine, tmp_path: Path) -> ResearchWorld:
    data = tmp_path / "var"
    data.mkdir()
    init_keys(data / "keys")
    settings = Settings(data_dir=data, database_url=str(engine.url))
    with session_scope(engine) as s:
        registry.ensure_default(s)
        s.add(Site(code="BRD", name="Bradford"))
        rita = _user(s, "rita", "researcher")
        rob = _user(s, "rob", "researcher")
        dana = _user(s, "dana", "data_manager")
    return ResearchWorld(engine, settings, load_keys(data / "keys"), rita, rob, dana)


def as_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
