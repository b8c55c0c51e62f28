"""Service-level fixtures: a transaction on each backend, sites and users made through the
real services."""

from collections.abc import Callable, Iterator

import pytest
from sqlmodel import Session

from cohort import sites
from cohort.auth import users
from cohort.config import Settings
from cohort.db import session_scope
from cohort.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture
def db(engine) -> Iterator[Session]:
    with session_scope(engine) as session:
        yield session


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, login_max_failures=3, login_lockout_s=600)


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    def make(username: str = "ada", role: str = "admin", **kw) -> User:
        if role == "midwife" and "site_code" not in kw:
            kw["site_code"] = sites.add_site(db, f"S{username.upper()}", "Site", "test").code
        return users.create_user(
            db,
            username=username,
            full_name=kw.pop("full_name", "Ada Lovelace"),
            role=role,
            password=kw.pop("password", PASSWORD),
            actor="test",
            **kw,
        )

    return make
