"""Storage: both backends migrate and SQLite runs with the durability pragmas."""

from sqlalchemy import inspect, text

from cohort.db import make_engine, migrate


def test_migrations_create_every_table(engine):
    tables = set(inspect(engine).get_table_names())
    assert {"site", "user", "participant", "identity", "auditevent", "consent"} <= tables


def test_migrate_is_idempotent(engine):
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"


def test_sqlite_is_durable_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
