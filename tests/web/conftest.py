"""A real initialised instance (SQLite and PostgreSQL), the app built on it, and helpers
that sign in through the login form exactly as a browser does."""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cohort import sites
from cohort.auth import users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import Instance, initialise, open_instance
from cohort.models import Consent, Participant, User
from cohort.web.app import create_app

PASSWORD = "correct horse battery staple"
SITE = "RAE"

TODAY = datetime.now(UTC).date()
PROJECT = {
    "code": "bib-2026-01",
    "title": "Early years outcomes",
    "lead": "Dr Lead",
    "approval_reference": "REC 26/YH/0001",
    "approved_from": (TODAY - timedelta(days=1)).isoformat(),
    "approved_until": (TODAY + timedelta(days=30)).isoformat(),
    "variables": ["consent.age_band", "consent.ethnicity", "consent.enrolment_month"],
    "date_granularity": "month",
    "row_level": "yes",
}


def make_instance(data_dir: Path, db_url: str, **settings) -> Instance:
    configured = Settings(data_dir=data_dir, database_url=db_url, **settings)
    initialise(configured)
    return open_instance(configured)


@pytest.fixture
def instance(db_url: str, tmp_path: Path) -> Iterator[Instance]:
    inst = make_instance(tmp_path / "var", db_url)
    yield inst
    inst.engine.dispose()


@pytest.fixture
def app(instance: Instance):
    return create_app(instance)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def add_user(instance: Instance, username: str, role: str, **kw) -> User:
    """A user made through the service; a midwife gets the RAE site unless told otherwise."""
    with session_scope(instance.engine) as db:
        if role == "midwife" and "site_code" not in kw:
            kw["site_code"] = ensure_site(db).code
        return users.create_user(
            db,
            username=username,
            full_name=kw.pop("full_name", f"{username.title()} Example"),
            role=role,
            password=kw.pop("password", PASSWORD),
            actor="test",
            **kw,
        )


def ensure_site(db: Session, code: str = SITE, name: str = "Bradford Royal Infirmary"):
    existing = [s for s in sites.list_sites(db) if s.code == code]
    return existing[0] if existing else sites.add_site(db, code, name, actor="test")


@pytest.fixture
def make_user(instance: Instance) -> Callable[..., User]:
    return lambda username, role="admin", **kw: add_user(instance, username, role, **kw)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the CSRF token of the new session."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/account").text)


@pytest.fixture
def people(instance):
    """Ten participants aged 25 to 29 and three aged 30 to 34."""
    with session_scope(instance.engine) as db:
        site = ensure_site(db)
        staff = User(username="mw", full_name="Mw", role="midwife", password_hash="x")
        db.add(staff)
        db.flush()
        for i, band in enumerate(["25_29"] * 10 + ["30_34"] * 3):
            p = Participant(study_id=f"BB-{i:04d}-9999", site_id=site.id)
            db.add(p)
            db.flush()
            db.add(
                Consent(
                    participant_id=p.id,
                    site_id=site.id,
                    recorded_by=staff.id,
                    form_name="babi_consent",
                    form_version="1.0",
                    language="en",
                    age_band=band,
                    ethnicity="indian",
                    items={
                        "link_mother_health": True,
                        "link_baby_health": True,
                        "link_council": True,
                        "contact": True,
                    },
                )
            )


@pytest.fixture
def registered(client, make_user, people):
    """The project registered and staffed through the pages; returns the code."""
    make_user("dana", "data_manager")
    make_user("rita", "researcher")
    make_user("rob", "researcher")
    csrf = sign_in(client, "dana")
    response = client.post(
        "/projects", data={**PROJECT, "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    response = client.post(
        "/projects/BIB-2026-01/researchers",
        data={"username": "rita", "action": "add", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    client.cookies.clear()
    return "BIB-2026-01"
