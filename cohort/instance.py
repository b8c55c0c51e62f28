"""An opened deployment: its settings, database engine and keys, checked before use."""

from dataclasses import dataclass

import duckdb
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from cohort.config import Settings
from cohort.db import make_engine, migrate, session_scope
from cohort.errors import CohortError
from cohort.keys import KeyRing, init_keys, load_keys
from forms import registry


@dataclass
class Instance:
    settings: Settings
    engine: Engine
    keys: KeyRing


def initialise(settings: Settings) -> bool:
    """Create the data directory, keys, schema, default instrument and research store;
    safe to re-run.

    Returns True when keys were generated (a new instance)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    made = init_keys(settings.keys_path)
    engine = make_engine(settings.db_url)
    try:
        migrate(engine)
        with session_scope(engine) as session:
            registry.ensure_default(session)
    finally:
        engine.dispose()
    duckdb.connect(str(settings.research_store_path)).close()
    return made


def open_instance(settings: Settings) -> Instance:
    """Open an initialised instance or refuse with what to do about it."""
    keys = load_keys(settings.keys_path)
    engine = make_engine(settings.db_url)
    try:
        tables = inspect(engine).get_table_names()
    except Exception as exc:  # the driver's message says which database and why
        engine.dispose()
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or [""])[0]
        raise CohortError(
            f"cannot open the database ({exc.__class__.__name__}: {reason}): check that "
            "it is reachable, its disk has space and its files are writable"
        ) from exc
    if "alembic_version" not in tables:
        engine.dispose()
        raise CohortError("the database is not initialised: run 'cohort init' first")
    return Instance(settings, engine, keys)
