"""A small research world: a site, staff, participants with chosen consents and
withdrawals, children, linked rows in the research store written by the store's own
writer, and projects registered through the service."""

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
from cohort.models import ChildParticipant, Consent, Participant, Site, User, Withdrawal
from cohort.research import projects
from forms import registry
from linkage_jobs import store
from linkage_jobs.spec import load_specs

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
        with self.session() as s:
            site = s.exec(Site.__table__.select()).first()
            p = Participant(
                study_id=f"BB-{self._next:04d}-0000",
                site_id=site.id,
                created_at=enrolled_at
                or datetime(2025, 3, 14, 9, tzinfo=UTC) + timedelta(days=self._next),
            )
            s.add(p)
            s.flush()
            s.add(
                Consent(
                    participant_id=p.id,
                    site_id=site.id,
                    recorded_by=self.manager.id,
                    form_name="babi_consent",
                    form_version="1.0",
                    language=consent.get("language", "en"),
                    age_band=consent.get("age_band", "25_29"),
                    ethnicity=consent.get("ethnicity", "pakistani"),
                    items={**ALL_ITEMS, **(items or {})},
                )
            )
            if withdrawal:
                s.add(
                    Withdrawal(participant_id=p.id, level=withdrawal, recorded_by=self.manager.id)
                )
            s.flush()
            s.expunge(p)
            return p

    def withdraw(self, participant: Participant, level: str) -> None:
        with self.session() as s:
            s.add(
                Withdrawal(participant_id=participant.id, level=level, recorded_by=self.manager.id)
            )

    def child(self, mother: Participant, suffix: str = "1") -> str:
        study_id = mother.study_id[:-4] + f"C00{suffix}"
        with self.session() as s:
            s.add(ChildParticipant(study_id=study_id, mother_id=mother.id, birth_key=study_id))
        return study_id

    def link(self, source: str, rows: list[dict], *, linked_at: datetime = LINKED_AT) -> None:
        """Write rows (study_id + payload columns) into the store as a linkage run would."""
        spec = load_specs()[source]
        frame = pd.DataFrame(rows)
        frame["record_key"] = [f"{source}-{i}-{linked_at.timestamp()}" for i in range(len(frame))]
        frame["method"] = "exact"
        frame["match_probability"] = 1.0
        pending = pd.DataFrame(columns=["pair_id", "study_id", "record_key"])
        store.write_run(
            self.settings.research_store_path,
            spec,
            run_id=1,
            sha256=f"{source}{linked_at.timestamp()}{len(rows)}".ljust(64, "0"),
            linked=frame,
            pending=pending,
            linked_at=linked_at,
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
