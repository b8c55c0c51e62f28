"""Faults of the deployment rather than of the people using it: a full disk, a read-only
database, a missing key file, a key replaced by another valid one. The server refuses to
start (one line, exit 2, with one server process or two), or refuses the save with a
clear 503 (nothing saved, no traceback), nothing is corrupted, and it works again once
the cause is fixed.

The faults are real. For SQLite the data directory is a small tmpfs, filled up or
remounted read-only; for PostgreSQL the test database is moved into a tablespace on a
small tmpfs, which is then filled up, or the database is switched read-only (the suite
runs as root; where mounting is refused they are skipped)."""

import asyncio
import base64
import os
import pwd
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bench.load import ROUND, Load, Midwife, prepare, run_load, signed_in, work
from cohort.config import Settings
from cohort.instance import initialise
from tests.live_server import free_port, serve
from tests.reliability.conftest import START_S, opened
from tests.reliability.ledger import (
    acknowledged_counts,
    broken_invariants,
    chain,
    stored_counts,
    unaccounted,
)

DISK = "16m"
PG_DISK = "48m"  # the moved database (about 8 MiB) and room for the rounds before the fault
REFUSED = 503
API_REFUSAL = "the database is not accepting changes"
PAGE_REFUSAL = "the service cannot save anything at the moment"


@contextmanager
def tmpfs(where: Path, size: str, options: str = "") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` for the test, skipped where mounting is
    refused."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs as the data directory (the server's log stays outside it)."""
    with tmpfs(tmp_path / "data", DISK) as disk:
        yield disk


@pytest.fixture
def small_pg_disk(db_url: str) -> Iterator[Path]:
    """The test database moved into a tablespace on a small tmpfs that the PostgreSQL
    server's user owns, dropped afterwards. Not under pytest's folder, which only root
    may enter."""
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    base = Path(tempfile.mkdtemp(prefix="cohort-pg-disk-"))
    base.chmod(0o755)
    name = make_url(db_url).database
    admin = create_engine(make_url(db_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    options = f",uid={owner.pw_uid},gid={owner.pw_gid},mode=0700"
    with tmpfs(base / "disk", PG_DISK, options) as disk, admin.connect() as conn:
        conn.execute(text(f"CREATE TABLESPACE small_disk LOCATION '{disk}'"))
        conn.execute(text(f'ALTER DATABASE "{name}" SET TABLESPACE small_disk'))
        try:
            yield disk
        finally:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE "{name}"'))
            conn.execute(text("DROP TABLESPACE small_disk"))
    admin.dispose()
    shutil.rmtree(base)


def fill(filler: Path) -> None:
    """Write until the file system says it is full."""
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass


def remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


def one_round(url: str, team: list[Midwife], seed: int) -> Load:
    return run_load(url, team, requests=len(ROUND) * len(team), seconds=120, seed=seed)


async def _rounds_around(url: str, team: list[Midwife], cause, cure, during: int) -> list[Load]:
    """Signed in while all is well (a sign-in is a write too), then a round before the
    fault, ``during`` rounds in it and one after it is cured."""
    async with signed_in(url, team) as shifts:
        rounds = []
        for seed, times, then in ((301, 1, cause), (302, during, cure), (303, 1, None)):
            rounds.append(
                await work(shifts, requests=len(ROUND) * len(team) * times, seconds=120, seed=seed)
            )
            if then is not None:
                then()
    return rounds


def assert_refused_clearly(load: Load) -> None:
    """Every save is acknowledged or refused with the 503 that says why; some refused."""
    refused = [s for s in load.sent if not s.acknowledged]
    assert refused, "every save went through on storage that cannot take writes"
    for s in refused:
        assert s.status == REFUSED, (s.kind, s.status, s.refusal)
        assert "Traceback" not in s.refusal
        assert API_REFUSAL in s.refusal or PAGE_REFUSAL in s.refusal.lower(), s.refusal


def assert_intact(settings: Settings, loads: list[Load]) -> None:
    """Every acknowledged save is there once, refused ones left nothing, no damage."""
    sent = [s for load in loads for s in load.sent]
    told = sum((acknowledged_counts(load) for load in loads[1:]), acknowledged_counts(loads[0]))
    with opened(settings) as inst:
        assert unaccounted(inst.engine, inst.keys, sent) == []
        assert stored_counts(inst.engine) == told
        assert broken_invariants(inst.engine) == {}
        assert chain(inst.engine).ok, chain(inst.engine)
    if settings.is_sqlite:
        with sqlite3.connect(make_url(settings.db_url).database) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def through_a_fault(
    data: Path,
    cause: Callable[[], None],
    cure: Callable[[], None],
    database_url: str | None = None,
    during: int = 1,
) -> None:
    team = prepare(data, database_url, midwives=1)
    with serve(data, database_url, timeout_s=START_S) as url:
        before, during, after = asyncio.run(_rounds_around(url, team, cause, cure, during))
    assert [s for s in before.sent + after.sent if not s.acknowledged] == []
    assert_refused_clearly(during)
    assert_intact(Settings(data_dir=data, database_url=database_url), [before, during, after])


def test_a_full_disk_refuses_saves_with_a_clear_503_and_recovers_when_freed(small_disk):
    filler = small_disk / "filler"
    through_a_fault(small_disk, lambda: fill(filler), filler.unlink)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_full_postgresql_disk_refuses_saves_with_a_clear_503_and_recovers_when_freed(
    db_url, small_pg_disk, tmp_path
):
    """PostgreSQL cannot extend a table or an index on a full disk (disk_full, SQLSTATE
    53100): the save is refused, its transaction rolled back, and saves go through once
    space is freed, with no restart. Saves still go into free room in the pages a table
    has, so the fault lasts 40 rounds: enough to need new pages."""
    filler = small_pg_disk / "filler"
    through_a_fault(
        tmp_path / "data", lambda: fill(filler), filler.unlink, database_url=db_url, during=40
    )


def test_a_read_only_sqlite_disk_stops_the_server_starting_and_it_starts_once_writable(
    small_disk,
):
    """A read-only file system cannot be remounted under an open database, so this is the
    start: SQLite cannot even open a WAL database there, and the server says so."""
    team = prepare(small_disk, None, midwives=1)
    remount(small_disk, "ro")
    refused = [start_refused(small_disk, workers) for workers in (1, 2)]
    remount(small_disk, "rw")
    for each in refused:
        assert_refused_to_start(each, "cannot open the database")

    with serve(small_disk, timeout_s=START_S) as url:
        after = one_round(url, team, seed=321)
    assert [s for s in after.sent if not s.acknowledged] == []
    assert_intact(Settings(data_dir=small_disk), [after])


def set_read_only(database_url: str, on: bool) -> None:
    """PostgreSQL's own switch: every transaction on that database is read-only. Its open
    connections are ended so that it applies at once (the server's pool reconnects)."""
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"))
    value = (
        "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
    )
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" {value}'))
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
            {"name": name},
        )
    admin.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_read_only_postgresql_database_refuses_saves_with_a_clear_503_and_recovers(
    db_url, tmp_path
):
    through_a_fault(
        tmp_path / "data",
        lambda: set_read_only(db_url, True),
        lambda: set_read_only(db_url, False),
        database_url=db_url,
    )


def start_refused(data_dir: Path, workers: int = 1) -> subprocess.CompletedProcess:
    """``cohort serve`` as an operator starts it, expected to refuse and exit (a server
    that keeps starting workers instead runs into the timeout)."""
    env = {**os.environ, "COHORT_DATA_DIR": str(data_dir)}
    env.pop("COHORT_DATABASE_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from cohort.cli import main; main()",
            "serve",
            "--port",
            str(free_port()),
            "--workers",
            str(workers),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused_to_start(refused: subprocess.CompletedProcess, reason: str) -> None:
    """Exit 2 and one line that says why, nothing else: no traceback, no server started."""
    assert refused.returncode == 2, refused.stderr[-2000:]
    assert "Traceback" not in refused.stderr
    (line,) = refused.stderr.splitlines()
    assert line.startswith("cohort: ") and reason in line


def test_a_missing_key_file_stops_the_server_starting_with_one_clear_line(tmp_path):
    data = tmp_path / "data"
    initialise(Settings(data_dir=data))
    lookup = data / "keys" / "lookup.key"
    kept = lookup.read_bytes()
    lookup.unlink()

    for workers in (1, 2):
        refused = start_refused(data, workers)
        assert_refused_to_start(refused, "key file lookup.key is missing from the key directory")

    lookup.write_bytes(kept)
    lookup.chmod(0o600)
    with serve(data, timeout_s=START_S) as url:
        assert url


def key_file(data_dir: Path, key: str) -> Path:
    """The current vault key's file, or the lookup key's."""
    keys = data_dir / "keys"
    if key == "vault":
        return keys / "vault" / f"{(keys / 'vault' / 'current').read_text().strip()}.key"
    return keys / "lookup.key"


@pytest.mark.parametrize("key", ["vault", "lookup"])
def test_a_key_replaced_by_another_valid_key_stops_the_server_starting_until_it_is_restored(
    tmp_path, key
):
    """A wrong vault key would write identities the right one cannot open; a wrong lookup
    key would miss every duplicate. Both load as valid keys: the stored identities show
    them up."""
    data = tmp_path / "data"
    team = prepare(data, None, midwives=1)
    with serve(data, timeout_s=START_S) as url:
        before = one_round(url, team, seed=331)
    path = key_file(data, key)
    kept = path.read_bytes()
    other = base64.b64encode(secrets.token_bytes(32))
    path.write_bytes(other + b"\n")

    for workers in (1, 2):
        refused = start_refused(data, workers)
        assert_refused_to_start(refused, "do not open the stored identities")
        assert "restore the keys this database was written with" in refused.stderr
        shown = refused.stdout + refused.stderr
        assert other.decode() not in shown and kept.decode().strip() not in shown

    path.write_bytes(kept)
    with serve(data, timeout_s=START_S) as url:
        after = one_round(url, team, seed=332)
    assert [s for s in before.sent + after.sent if not s.acknowledged] == []
    assert_intact(Settings(data_dir=data), [before, after])
