"""``cohort backup`` while midwives keep saving, then ``cohort restore`` into a new
instance: every submission acknowledged before the backup began is in the restored
database exactly once, nothing is half-written, and its audit chain verifies."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from cohort.config import Settings
from tests.live_server import serve
from tests.reliability.conftest import START_S, Deployment, opened
from tests.reliability.ledger import broken_invariants, chain, unaccounted
from tests.reliability.processes import load_in_background, wait_for

SAVED_BEFORE_BACKUP = 8
MANY = 10_000  # more than get sent while the backup runs: the load is stopped after it


def cohort(command: list[str], data_dir: Path, database_url: str) -> str:
    """A CLI command as an operator runs it; its output."""
    env = {**os.environ, "COHORT_DATA_DIR": str(data_dir), "COHORT_DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-c", "from cohort.cli import main; main()", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def empty_database_beside(database_url: str, tmp_path: Path) -> str:
    """A new SQLite file, or a new empty PostgreSQL database on the same cluster."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.db'}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{url.database}_restored"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def test_a_backup_taken_under_load_restores_every_acknowledged_submission(
    deployment: Deployment, tmp_path: Path
):
    backup = tmp_path / "backup"
    with (
        serve(deployment.data_dir, deployment.database_url, timeout_s=START_S) as url,
        load_in_background(url, deployment.team, requests=MANY, seconds=300) as load,
    ):
        wait_for(
            lambda: len(load.acknowledged()) >= SAVED_BEFORE_BACKUP,
            timeout_s=120,
            what="saves before the backup",
        )
        before = list(load.acknowledged())
        cohort(["backup", str(backup)], deployment.data_dir, deployment.database_url)
        wait_for(
            lambda: len(load.acknowledged()) > len(before) + 2,
            timeout_s=120,
            what="saves after the backup",
        )
    assert load.server_errors() == []

    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copytree(deployment.data_dir / "keys", restored / "keys")  # keys travel apart
    restored_url = empty_database_beside(deployment.database_url, tmp_path)
    said = cohort(["restore", str(backup)], restored, restored_url)
    assert "audit chain intact" in said

    settings = Settings(data_dir=restored, database_url=restored_url)
    with opened(settings) as inst:
        assert unaccounted(inst.engine, inst.keys, before) == []
        assert broken_invariants(inst.engine) == {}
        assert chain(inst.engine).ok, chain(inst.engine)
