"""Backup and restore, on SQLite and PostgreSQL: a backup is a consistent snapshot even
while events are being written, restores every row with the audit chain intact, is refused
rather than overwriting anything, and never holds keys."""

import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from cohort import audit
from cohort.backup import (
    DATABASE_FILES,
    HISTORY_FILE,
    MANIFEST,
    RESEARCH_FILE,
    backup,
    libpq_target,
    read_manifest,
    restore,
)
from cohort.config import Settings
from cohort.db import make_engine, migrate, session_scope
from cohort.errors import CohortError
from cohort.instance import Instance, initialise, open_instance
from cohort.models import AuditEvent, Site
from tests.in_process_cli import run_cohort

ACTOR = "tester"


@pytest.fixture
def inst(db_url: str, tmp_path: Path) -> Iterator[Instance]:
    """An initialised instance holding sites, audit events and a research table."""
    cfg = Settings(data_dir=tmp_path / "live", database_url=db_url)
    initialise(cfg)
    instance = open_instance(cfg)
    with session_scope(instance.engine) as s:
        s.add(Site(code="BRD", name="Bradford Royal Infirmary"))
        s.add(Site(code="LDS", name="Leeds General Infirmary"))
        for i in range(5):
            audit.record(s, actor=ACTOR, action="test.event", detail={"i": i, "note": "Zięcik"})
    with duckdb.connect(str(cfg.research_store_path)) as con:
        con.execute("CREATE TABLE linked (study_id VARCHAR, birth_weight_g INTEGER)")
        con.execute("INSERT INTO linked VALUES ('S1', 3410), ('S2', 2980)")
    yield instance
    instance.engine.dispose()


def _new_instance_settings(
    db_url: str, request: pytest.FixtureRequest, data_dir: Path, *, migrated: bool
) -> Settings:
    """A new instance on the same backend: a SQLite file or a database on the test cluster,
    either bare or with the schema but no rows."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{data_dir / 'cohort.db'}"
        if migrated:
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
        return Settings(data_dir=data_dir, database_url=url)
    cluster = request.getfixturevalue("pg_cluster")
    name = f"restored_{uuid.uuid4().hex[:12]}"
    template = " TEMPLATE template_cohort" if migrated else ""
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}{template}"))
    admin.dispose()
    return Settings(data_dir=data_dir, database_url=cluster.url(name))


@pytest.fixture
def empty_target(db_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return _new_instance_settings(db_url, request, tmp_path / "restored", migrated=False)


def _never_created(db_url: str, data_dir: Path) -> Settings:
    """A target on the same backend that a refused restore must never get to touch."""
    if db_url.startswith("sqlite"):
        return Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cohort.db'}")
    return Settings(data_dir=data_dir, database_url=str(make_url(db_url).set(database="never")))


def _rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in meta.sorted_tables
        }


def _events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def _research_rows(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.research_store_path), read_only=True) as con:
        return con.execute("SELECT * FROM linked ORDER BY study_id").fetchall()


def test_round_trip_restores_every_row_research_store_and_audit_chain(inst, empty_target, tmp_path):
    before = _rows(inst.engine)
    manifest = backup(inst, tmp_path / "backup", actor=ACTOR)
    restored = restore(tmp_path / "backup", empty_target, actor=ACTOR)

    assert restored.chain == audit.Verdict(True, 5)
    engine = make_engine(empty_target.db_url)
    try:
        after = _rows(engine)
        events = _events(engine)
    finally:
        engine.dispose()
    assert [e.action for e in events] == ["test.event"] * 5 + ["backup.restore"]
    assert events[-1].detail["audit_hash"] == manifest.audit_hash == events[4].hash
    unchanged = {name for name in before if name not in ("auditevent", "audithead")}
    assert {name: after[name] for name in unchanged} == {name: before[name] for name in unchanged}
    assert after["auditevent"][:5] == before["auditevent"]
    assert _research_rows(empty_target) == [("S1", 3410), ("S2", 2980)]


def test_the_query_history_is_backed_up_and_restored_with_the_store(inst, empty_target, tmp_path):
    """Without it, the check across aggregate queries would start afresh after a restore."""
    with duckdb.connect(str(inst.settings.query_history_path)) as con:
        con.execute("CREATE TABLE members (query BIGINT, cell INTEGER, person BIGINT)")
        con.execute("INSERT INTO members VALUES (1, 0, 41), (1, 0, 42)")
    manifest = backup(inst, tmp_path / "backup", actor=ACTOR)
    assert HISTORY_FILE in manifest.files
    restore(tmp_path / "backup", empty_target, actor=ACTOR)
    with duckdb.connect(str(empty_target.query_history_path), read_only=True) as con:
        assert con.execute("SELECT person FROM members ORDER BY 1").fetchall() == [(41,), (42,)]


def test_backup_is_a_directory_with_a_manifest_of_hashes_and_no_keys(inst, db_url, tmp_path):
    manifest = backup(inst, tmp_path / "backup", actor=ACTOR)

    database_file = DATABASE_FILES["sqlite" if db_url.startswith("sqlite") else "postgresql"]
    files = {p.name for p in (tmp_path / "backup").iterdir()}
    assert files == {database_file, RESEARCH_FILE, MANIFEST}
    assert set(manifest.files) == {database_file, RESEARCH_FILE}
    assert read_manifest(tmp_path / "backup") == manifest
    assert (manifest.audit_seq, len(manifest.audit_hash)) == (5, 64)
    assert (
        "Keys are not in this backup"
        in json.loads((tmp_path / "backup" / MANIFEST).read_text())["keys"]
    )
    for key_file in inst.settings.keys_path.rglob("*.key"):
        secret = key_file.read_bytes().strip()
        assert all(secret not in p.read_bytes() for p in (tmp_path / "backup").iterdir())


def test_backup_is_recorded_in_the_audit_chain(inst, tmp_path):
    manifest = backup(inst, tmp_path / "backup", actor=ACTOR)

    last = _events(inst.engine)[-1]
    assert (last.action, last.actor) == ("backup.create", ACTOR)
    assert last.detail["audit_seq"] == manifest.audit_seq
    assert last.detail["audit_hash"] == manifest.audit_hash
    with Session(inst.engine) as s:
        assert audit.verify(s).ok


def test_backup_taken_while_events_are_written_is_a_consistent_prefix(inst, empty_target, tmp_path):
    stop, errors, written = threading.Event(), [], []

    def keep_writing() -> None:
        try:
            while not stop.is_set():
                with session_scope(inst.engine) as s:
                    audit.record(s, actor="writer", action="test.concurrent")
                written.append(1)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while len(written) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        manifest = backup(inst, tmp_path / "backup", actor=ACTOR)
        at_backup_end = len(written)
        while len(written) < at_backup_end + 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not errors

    restored = restore(tmp_path / "backup", empty_target, actor=ACTOR)
    assert restored.chain.ok
    assert restored.chain.rows == manifest.audit_seq > 5
    live = _events(inst.engine)
    assert len(live) > manifest.audit_seq + 1  # writes went on after the snapshot
    engine = make_engine(empty_target.db_url)
    try:
        copy = _events(engine)[: manifest.audit_seq]
    finally:
        engine.dispose()
    assert [e.hash for e in copy] == [e.hash for e in live[: manifest.audit_seq]]


def test_restore_accepts_a_database_with_the_schema_but_no_rows(inst, db_url, request, tmp_path):
    target = _new_instance_settings(db_url, request, tmp_path / "restored", migrated=True)
    backup(inst, tmp_path / "backup", actor=ACTOR)
    assert restore(tmp_path / "backup", target, actor=ACTOR).chain == audit.Verdict(True, 5)


def _prepare(path: Path, how: str) -> None:
    if how == "folder exists":
        path.mkdir()
    elif how == "file exists":
        path.write_text("someone's file")


REFUSED_DESTINATIONS = [
    ("folder exists", "backup", "already exists"),
    ("file exists", "backup", "already exists"),
    ("folder missing", "no/such/backup", "does not exist"),
]


@pytest.mark.parametrize(
    ("how", "name", "message"), REFUSED_DESTINATIONS, ids=[c[0] for c in REFUSED_DESTINATIONS]
)
def test_backup_refuses_a_destination_that_exists_or_has_no_folder(
    inst, tmp_path, how, name, message
):
    backups = tmp_path / "backups"
    backups.mkdir()
    _prepare(backups / name, how)
    before = sorted(backups.rglob("*"))
    events_before = len(_events(inst.engine))

    with pytest.raises(CohortError, match=message):
        backup(inst, backups / name, actor=ACTOR)
    assert sorted(backups.rglob("*")) == before
    assert len(_events(inst.engine)) == events_before


def test_failed_backup_leaves_nothing_behind(inst, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    with (
        duckdb.connect(str(inst.settings.research_store_path)),  # holds the research store
        pytest.raises(CohortError, match="research store"),
    ):
        backup(inst, backups / "backup", actor=ACTOR)
    assert list(backups.iterdir()) == []


def test_restore_refuses_an_instance_that_holds_data(inst, tmp_path):
    backup(inst, tmp_path / "backup", actor=ACTOR)
    before = _rows(inst.engine)
    with pytest.raises(CohortError, match="already holds data"):
        restore(tmp_path / "backup", inst.settings, actor=ACTOR)
    assert _rows(inst.engine) == before


def test_restore_refuses_a_research_store_that_has_tables(inst, empty_target, tmp_path):
    backup(inst, tmp_path / "backup", actor=ACTOR)
    empty_target.data_dir.mkdir()
    with duckdb.connect(str(empty_target.research_store_path)) as con:
        con.execute("CREATE TABLE earlier_work (x INTEGER)")
    with pytest.raises(CohortError, match="research store"):
        restore(tmp_path / "backup", empty_target, actor=ACTOR)


BROKEN_BACKUPS = [
    ("damaged database file", "database", "flip a byte", "damaged"),
    ("damaged research store", RESEARCH_FILE, "flip a byte", "damaged"),
    ("research store missing", RESEARCH_FILE, "delete", "missing"),
    ("manifest missing", MANIFEST, "delete", "not a complete backup"),
]


@pytest.mark.parametrize(
    ("case", "victim", "harm", "message"), BROKEN_BACKUPS, ids=[c[0] for c in BROKEN_BACKUPS]
)
def test_restore_refuses_a_damaged_or_incomplete_backup(
    inst, db_url, tmp_path, case, victim, harm, message
):
    manifest = backup(inst, tmp_path / "backup", actor=ACTOR)
    if victim == "database":
        victim = DATABASE_FILES[manifest.database]
    victim_path = tmp_path / "backup" / victim
    if harm == "delete":
        victim_path.unlink()
    else:
        data = bytearray(victim_path.read_bytes())
        data[200] ^= 0xFF
        victim_path.write_bytes(bytes(data))
    target = _never_created(db_url, tmp_path / "new")
    with pytest.raises(CohortError, match=message):
        restore(tmp_path / "backup", target, actor=ACTOR)
    assert not target.data_dir.exists()


def test_restore_refuses_a_backup_from_the_other_kind_of_database(tmp_path):
    cfg = Settings(data_dir=tmp_path / "live", database_url=f"sqlite:///{tmp_path / 'c.db'}")
    initialise(cfg)
    instance = open_instance(cfg)
    backup(instance, tmp_path / "backup", actor=ACTOR)
    instance.engine.dispose()
    target = Settings(data_dir=tmp_path / "new", database_url="postgresql://u@127.0.0.1:9/none")
    with pytest.raises(CohortError, match="sqlite backup but the instance uses postgresql"):
        restore(tmp_path / "backup", target, actor=ACTOR)


LIBPQ_TARGETS = [
    (
        "postgresql+psycopg://cohort@127.0.0.1:5432/cohort",
        "postgresql://cohort@127.0.0.1:5432/cohort",
        {},
    ),
    (
        "postgresql://app:s3cr%40t@db.trust.nhs.uk:5433/cohort?sslmode=require",
        "postgresql://app@db.trust.nhs.uk:5433/cohort?sslmode=require",
        {"PGPASSWORD": "s3cr@t"},
    ),
]


@pytest.mark.parametrize(("url", "dsn", "env"), LIBPQ_TARGETS)
def test_pg_tools_get_the_password_through_the_environment_never_the_command_line(url, dsn, env):
    assert libpq_target(url) == (dsn, env)


def test_cli_backup_then_restore_into_a_new_instance(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("COHORT_DATABASE_URL", raising=False)
    monkeypatch.delenv("COHORT_KEY_DIR", raising=False)
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "live"))
    assert run_cohort(monkeypatch, capsys, "init")[0] == 0

    code, out, err = run_cohort(monkeypatch, capsys, "backup", str(tmp_path / "backup"))
    assert code == 0, err
    assert "keys are not included" in out
    code, out, err = run_cohort(monkeypatch, capsys, "backup", str(tmp_path / "backup"))
    assert (code, out, len(err.splitlines())) == (2, "", 1)
    assert "already exists" in err

    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "new"))
    code, out, err = run_cohort(monkeypatch, capsys, "restore", str(tmp_path / "backup"))
    assert code == 0, err
    assert "audit chain intact: 1 events" in out
    assert "restore them to" in out
    shutil.copytree(tmp_path / "live" / "keys", tmp_path / "new" / "keys")
    code, out, err = run_cohort(monkeypatch, capsys, "audit", "verify")
    assert (code, out.strip()) == (0, "audit chain intact: 2 events")


def test_cli_restore_refuses_a_folder_that_is_not_a_backup(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("COHORT_DATABASE_URL", raising=False)
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "new"))
    code, out, err = run_cohort(monkeypatch, capsys, "restore", str(tmp_path))
    assert (code, out, len(err.splitlines())) == (2, "", 1)
    assert "not a complete backup" in err
    assert not (tmp_path / "new").exists()
