"""Storage: both backends migrate, SQLite runs with the durability pragmas, and a read
session neither blocks a save nor lets a write through."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel, func, select

import cohort.models  # noqa: F401  (the tables the migrations must build)
from cohort import capture
from cohort.db import MIGRATIONS, make_engine, migrate, read_engine, read_scope, session_scope
from cohort.models import Consent, Site
from tests.consent_world import CONSENT, count_rows, token


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_create_every_table(engine):
    tables = set(inspect(engine).get_table_names())
    assert {"site", "user", "participant", "identity", "auditevent", "consent"} <= tables


def test_migrate_is_idempotent(engine):
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head()


def test_the_migrations_build_exactly_the_tables_the_models_describe(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_save_completes_while_a_read_session_is_open_mid_request(world):
    with read_scope(world.engine) as reading:
        assert reading.exec(select(func.count()).select_from(Consent)).one() == 0
        with session_scope(world.engine) as s:  # a midwife saves meanwhile
            capture.record_answers(
                s, world.keys, world.spec, CONSENT, user=world.midwife, token=token()
            )
        assert reading.exec(select(Site.code).where(Site.id == world.site.id)).one() == "BRD"
    assert count_rows(world.engine, Consent) == 1
    with read_scope(world.engine) as later:
        assert later.exec(select(func.count()).select_from(Consent)).one() == 1


def test_an_object_added_in_a_read_session_is_refused_not_dropped(engine):
    with pytest.raises(DBAPIError), read_scope(engine) as reading:
        reading.add(Site(code="RO", name="Read only"))
    assert count_rows(engine, Site) == 0


def test_a_statement_writing_in_a_read_session_is_refused(engine):
    with pytest.raises(DBAPIError), read_scope(engine) as reading:
        reading.execute(text("DELETE FROM site"))


def test_writes_still_go_through_after_a_read_session_used_the_pool(engine):
    for _ in range(3):
        with read_scope(engine) as reading:
            reading.exec(select(Site)).all()
        with session_scope(engine) as s:
            s.add(Site(code=f"S{count_rows(engine, Site)}", name="after a read"))
    assert count_rows(engine, Site) == 3


def test_the_sqlite_reader_is_made_once_and_closed_with_its_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    reader = read_engine(engine)
    assert read_engine(engine) is reader and reader is not engine
    with reader.connect() as conn:
        assert conn.execute(text("PRAGMA query_only")).scalar() == 1
    pool = reader.pool
    assert pool.checkedin() == 1
    engine.dispose()
    assert pool.checkedin() == 0
