"""Backups taken while the service keeps writing, and restore into a new, empty instance.

A backup is a new directory holding:

- ``cohort.db`` (SQLite's online backup API) or ``cohort.pgdump`` (``pg_dump -Fc``): each
  copies one consistent snapshot of the consent and identity database while writers go on;
- ``research.duckdb``, the research store, and ``query_history.duckdb``, whom each
  answered aggregate query counted (without it the check across queries would start
  afresh), when the instance has them;
- ``MANIFEST.json``: the SHA-256 of each file and the audit chain's head at the snapshot,
  which the ``backup.create`` audit event repeats, so a backup can be tied to the chain.

Keys are never in a backup: they are backed up separately, so that a stolen backup holds
only ciphertexts. The directory is assembled under a hidden temporary name beside its
destination, fsynced, and renamed into place only when complete: an interrupted backup
never leaves anything that looks like one.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from glob import glob
from pathlib import Path

import duckdb
from sqlalchemy import inspect, literal_column, select, table
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from cohort import audit
from cohort.config import Settings
from cohort.db import make_engine, migrate, session_scope
from cohort.errors import CohortError
from cohort.instance import Instance
from cohort.models import utcnow

MANIFEST = "MANIFEST.json"
FORMAT = 1
DATABASE_FILES = {"sqlite": "cohort.db", "postgresql": "cohort.pgdump"}
RESEARCH_FILE = "research.duckdb"
HISTORY_FILE = "query_history.duckdb"
KEYS_NOTE = (
    "Keys are not in this backup. Back up the key directory (or the COHORT_*_KEY "
    "secrets) separately: without the keys the identity zone cannot be read."
)
HEAD_SQL = "SELECT seq, last_hash FROM audithead WHERE id = 1"


@dataclass(frozen=True)
class Manifest:
    database: str
    created_at: str
    audit_seq: int
    audit_hash: str
    files: dict[str, str]
    format: int = FORMAT
    keys: str = KEYS_NOTE


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    chain: audit.Verdict


def backup(inst: Instance, path: Path, *, actor: str) -> Manifest:
    """Write a complete backup directory at ``path``, which must not exist yet."""
    path = path.absolute()
    _refuse_unusable_destination(path)
    database = _backend(inst.settings)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        db_file = work / DATABASE_FILES[database]
        if database == "sqlite":
            seq, head = _dump_sqlite(Path(inst.engine.url.database), db_file)
        else:
            seq, head = _dump_postgresql(inst.engine, inst.settings.db_url, db_file)
        for name, store in _research_files(inst.settings).items():
            if store.exists():
                _copy_research_store(store, work / name)
        files = {p.name: _sha256(p) for p in sorted(work.iterdir())}
        manifest = Manifest(database, utcnow().isoformat(), seq, head, files)
        (work / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
        for p in work.iterdir():
            _fsync(p)
        _fsync(work)
        _refuse_unusable_destination(path)
        work.rename(path)
        _fsync(path.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    with session_scope(inst.engine) as session:
        audit.record(
            session,
            actor=actor,
            action="backup.create",
            detail={
                "path": str(path),
                "audit_seq": seq,
                "audit_hash": head,
                "manifest_sha256": _sha256(path / MANIFEST),
            },
        )
    return manifest


def restore(backup_dir: Path, settings: Settings, *, actor: str) -> Restored:
    """Restore a backup into the instance ``settings`` describe, which must hold no data.

    Everything is checked before anything is written: the manifest, every file's SHA-256,
    the backend, and that the target database and research store are empty."""
    manifest = read_manifest(backup_dir)
    database = _backend(settings)
    if manifest.database != database:
        raise CohortError(
            f"this is a {manifest.database} backup but the instance uses {database}: "
            "set COHORT_DATABASE_URL to a database of the same kind"
        )
    _refuse_unless_intact(backup_dir, manifest)
    _refuse_if_holding_data(settings)
    research = {n: p for n, p in _research_files(settings).items() if n in manifest.files}
    for store in research.values():
        _refuse_if_research_store_has_tables(store)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db_file = backup_dir / DATABASE_FILES[database]
    if database == "sqlite":
        _restore_sqlite(db_file, _sqlite_path(settings))
    else:
        _pg_run("pg_restore", settings.db_url, *PG_RESTORE_OPTIONS, str(db_file))
    for name, store in research.items():
        _place_copy(backup_dir / name, store)

    engine = make_engine(settings.db_url)
    try:
        migrate(engine)
        with Session(engine) as session:
            verdict = audit.verify(session)
        with session_scope(engine) as session:
            audit.record(
                session,
                actor=actor,
                action="backup.restore",
                detail={
                    "backup_created_at": manifest.created_at,
                    "audit_seq": manifest.audit_seq,
                    "audit_hash": manifest.audit_hash,
                    "manifest_sha256": _sha256(backup_dir / MANIFEST),
                },
            )
    finally:
        engine.dispose()
    return Restored(manifest, verdict)


def read_manifest(backup_dir: Path) -> Manifest:
    try:
        raw = json.loads((backup_dir / MANIFEST).read_text())
    except FileNotFoundError:
        raise CohortError(f"{backup_dir} is not a complete backup: it has no {MANIFEST}") from None
    except (OSError, ValueError) as exc:
        raise CohortError(f"{backup_dir / MANIFEST} cannot be read ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CohortError(f"{backup_dir / MANIFEST} is not a format {FORMAT} backup manifest")
    try:
        return Manifest(**raw)
    except TypeError:
        raise CohortError(
            f"{backup_dir / MANIFEST} is missing fields or has unknown ones"
        ) from None


def _backend(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    return Path(make_url(settings.db_url).database or "")


def _refuse_unless_intact(backup_dir: Path, manifest: Manifest) -> None:
    database_file = DATABASE_FILES[manifest.database]
    listed = set(manifest.files)
    if database_file not in listed or listed - {database_file, RESEARCH_FILE, HISTORY_FILE}:
        raise CohortError(f"{backup_dir / MANIFEST} does not list the files a backup holds")
    for name, digest in manifest.files.items():
        if not (backup_dir / name).is_file():
            raise CohortError(f"backup file {name} is missing from {backup_dir}")
        if _sha256(backup_dir / name) != digest:
            raise CohortError(f"backup file {name} is damaged: its SHA-256 does not match")


def _refuse_unusable_destination(path: Path) -> None:
    if path.exists() or path.is_symlink():
        raise CohortError(f"{path} already exists: a backup never overwrites, choose a new path")
    if not path.parent.is_dir():
        raise CohortError(f"folder {path.parent} does not exist: create it first")


# SQLite ---------------------------------------------------------------------------------


def _dump_sqlite(database: Path, target: Path) -> tuple[int, str]:
    """Copy the live database in one backup step: one read snapshot, writers carry on (WAL).

    The copy reads through a connection of its own rather than the server's single pooled
    one, so a busy writer never makes a backup wait for its turn (nor the other way round).
    """
    source = sqlite3.connect(database, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            return _head(copy.execute(HEAD_SQL).fetchone())
        finally:
            copy.close()
    finally:
        source.close()


def _restore_sqlite(backup_file: Path, target: Path) -> None:
    """Copy through the backup API too, which is safe even if the target is in WAL mode."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"{backup_file.absolute().as_uri()}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()


# PostgreSQL -----------------------------------------------------------------------------

# Atomic, and independent of the roles and grants of the server the backup came from.
PG_RESTORE_OPTIONS = (
    "--single-transaction",
    "--exit-on-error",
    "--no-owner",
    "--no-acl",
    "--clean",
    "--if-exists",
)


def _dump_postgresql(engine: Engine, url: str, target: Path) -> tuple[int, str]:
    """pg_dump reads an exported snapshot, so the recorded audit head matches the dump."""
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            head = _head(conn.exec_driver_sql(HEAD_SQL).first())
            _pg_run("pg_dump", url, "--format=custom", f"--snapshot={snapshot}", f"--file={target}")
    return head


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The connection string for PostgreSQL's own tools, and the environment it needs.

    The password goes into PGPASSWORD: a command line is visible to every local user."""
    parsed = make_url(url)
    without_password = URL.create(
        "postgresql",
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    dsn = without_password.render_as_string(hide_password=False)
    env = {"PGPASSWORD": str(parsed.password)} if parsed.password is not None else {}
    return dsn, env


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: from PATH, else the newest /usr/lib/postgresql version."""
    found = shutil.which(name)
    if found:
        return found
    installed = glob(f"/usr/lib/postgresql/*/bin/{name}")
    if not installed:
        raise CohortError(f"{name} is not installed: install the PostgreSQL client tools")
    return max(installed, key=lambda p: _version_key(Path(p).parent.parent.name))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def _pg_run(tool: str, url: str, *args: str) -> None:
    dsn, env = libpq_target(url)
    result = subprocess.run(
        [pg_tool(tool), "--no-password", f"--dbname={dsn}", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise CohortError(f"{tool} failed: {detail}")


# Research store -------------------------------------------------------------------------


def _research_files(settings: Settings) -> dict[str, Path]:
    """The research zone's DuckDB files, by their name in a backup."""
    return {RESEARCH_FILE: settings.research_store_path, HISTORY_FILE: settings.query_history_path}


def _copy_research_store(source: Path, target: Path) -> None:
    """Copy through DuckDB from a read-only attach: a consistent copy, never a torn file."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {_duckdb_literal(source)} AS src (READ_ONLY)")
        con.execute(f"ATTACH {_duckdb_literal(target)} AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
        con.execute("DETACH dst")
    except duckdb.Error as exc:
        raise CohortError(
            "the research store cannot be read for backup (a linkage job may hold it): "
            f"{str(exc).splitlines()[0]}"
        ) from None
    finally:
        con.close()


def _duckdb_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _refuse_if_research_store_has_tables(path: Path) -> None:
    if not path.exists():
        return
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
    finally:
        con.close()
    if tables:
        raise CohortError(
            f"the research store {path.name} already holds tables: "
            "restore only into a new, empty instance"
        )


def _place_copy(source: Path, target: Path) -> None:
    partial = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, partial)
    _fsync(partial)
    os.replace(partial, target)
    _fsync(target.parent)


# Shared ---------------------------------------------------------------------------------


def _refuse_if_holding_data(settings: Settings) -> None:
    if settings.is_sqlite and not _sqlite_path(settings).exists():
        return
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            for name in inspect(conn).get_table_names():
                if name == "alembic_version":
                    continue
                query = select(literal_column("1")).select_from(table(name)).limit(1)
                if name == "audithead":  # the migration seeds it at seq 0
                    query = query.where(literal_column("seq") > 0)
                if conn.execute(query).first():
                    raise CohortError(
                        f"the database already holds data (table {name} has rows): restore "
                        "only into a new, empty instance, without running 'cohort init' first"
                    )
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise CohortError(f"cannot open the database to restore into: {reason}") from None
    finally:
        engine.dispose()


def _head(row: tuple | None) -> tuple[int, str]:
    return (int(row[0]), str(row[1])) if row else (0, audit.GENESIS)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
