"""A real initialised instance (SQLite and PostgreSQL), the app built on it, and helpers
that sign in through the login form exactly as a browser does."""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from cohort import sites
from cohort.auth import users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import Instance, initialise, open_instance
from cohort.models import User
from cohort.web.app import create_app

PASSWORD = "correct horse battery staple"
SITE = "RAE"


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
