"""Database engines and sessions for SQLite (embedded) and PostgreSQL (production).

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on, so a consent
acknowledged to a midwife is on disk before the page says so.

Two kinds of unit of work: ``session_scope`` for anything that may write, and
``read_scope`` for pages that only read. On SQLite a read begins DEFERRED on connections
of its own with ``query_only`` on, so in WAL mode it never holds or waits for the write
lock and a midwife's save never queues behind a dashboard; on PostgreSQL it is a
READ ONLY transaction. Either way a write attempted in it fails loudly.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Ids per ``IN (...)`` list when many rows are read at once: well inside SQLite's bound
# parameters (999 before 3.32) and PostgreSQL's 65,535, however many participants.
IN_CHUNK = 1000


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # The driver's own transaction handling off: SQLAlchemy's "begin" event opens them.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _begin_immediate(conn) -> None:
    """Take SQLite's write lock when a transaction starts. A transaction that reads first
    and writes later (a duplicate check, then the insert) cannot wait for the lock once
    another writer has committed under it: SQLite fails it at once with "database is
    locked". Starting every transaction IMMEDIATE makes them queue (busy_timeout)
    instead. Reads queue too: the embedded default trades read concurrency for never
    failing an acknowledged write; PostgreSQL is the path to more concurrency."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_read_only(dbapi_conn, record) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.execute("PRAGMA query_only=ON")


def _begin_deferred(conn) -> None:
    """A reader's transaction: its snapshot starts at its first read and takes no lock."""
    conn.exec_driver_sql("BEGIN DEFERRED")


def _engine(url: str | URL, **pool: object) -> Engine:
    """Every engine hides its parameters: a failing statement's message would otherwise
    quote its values (answers, blind indexes) into the log."""
    return create_engine(url, hide_parameters=True, **pool)


def _sqlite_engine(url: str | URL, pool_size: int, max_overflow: int) -> Engine:
    return _engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=60,
    )


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection, so a busy server's requests queue for it in order. SQLite's own
        # busy handler polls rather than queues, and under sustained load one waiter can
        # lose every poll until its timeout; other processes (the CLI) still use it.
        engine = _sqlite_engine(url, pool_size=1, max_overflow=0)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return _engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_readers: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()
_readers_lock = Lock()


def _sqlite_reader(url: URL) -> Engine:
    """Read-only connections beside the writer's one: several pages read at once."""
    engine = _sqlite_engine(url, pool_size=4, max_overflow=4)
    event.listen(engine, "connect", _sqlite_read_only)
    event.listen(engine, "begin", _begin_deferred)
    return engine


def read_engine(engine: Engine) -> Engine:
    """The engine's read-only sibling. On SQLite a second pool of read-only connections
    to the same file, made once and disposed with the engine; on PostgreSQL the same
    pool, its transactions READ ONLY."""
    if engine.dialect.name != "sqlite":
        return engine.execution_options(postgresql_readonly=True)
    with _readers_lock:
        if engine not in _readers:
            reader = _sqlite_reader(engine.url)
            event.listen(engine, "engine_disposed", lambda _engine: reader.dispose())
            _readers[engine] = reader
        return _readers[engine]


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A read-only unit of work. It ends with a commit, not a rollback, so an object added
    to it by mistake is flushed and refused rather than silently dropped."""
    with session_scope(read_engine(engine)) as session:
        yield session


def id_chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``IN_CHUNK``, one ``IN`` query each."""
    chunk: list[int] = []
    for one in ids:
        chunk.append(one)
        if len(chunk) >= IN_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
