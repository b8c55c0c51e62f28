"""Shared fixtures: every storage-touching test runs on SQLite and on a real PostgreSQL."""

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from cohort.db import make_engine, migrate
from tests.consent_world import enrolled, world  # noqa: F401  (shared fixtures)
from tests.pg_cluster import Cluster, start_cluster

_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE template_cohort"))
    admin.dispose()
    tmpl = make_engine(cluster.url("template_cohort"))
    migrate(tmpl)
    tmpl.dispose()
    yield cluster
    cluster.stop()


def _fresh_pg_url(cluster: Cluster) -> str:
    name = f"t{next(_db_counter)}"
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template_cohort"))
    admin.dispose()
    return cluster.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL: one SQLite file, or one PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cohort.db'}"
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        return url
    return _fresh_pg_url(request.getfixturevalue("pg_cluster"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
