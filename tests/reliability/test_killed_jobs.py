"""Long jobs killed mid-way (SIGKILL, as a power cut or the out-of-memory killer would):
nothing partial is left where anyone would take it, and the next run completes.

An extract is written to a hidden folder and renamed into place with its database row
committed: a killed one is never listed nor given an extract number to download. A
linkage run writes the research store in one DuckDB transaction with its delivery record;
the next run takes over the dead process's lock and settles the run it left."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.reliability.processes import kill_hard

CATCH_ATTEMPTS = 3
POLL_S = 0.001
PROJECT = "DEMO-001"


def cohort_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cohort.cli import main; main()", *args]


def environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "COHORT_DATA_DIR": str(data_dir)}
    env.pop("COHORT_DATABASE_URL", None)
    return env


def cohort(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        cohort_command(*args),
        env=environment(data_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo instance: a row-level project over linked data, and its researcher."""
    data = tmp_path_factory.mktemp("demo") / "data"
    cohort(data, "demo", "--no-serve")
    return data


def listed_extracts(data: Path) -> list[str]:
    return [
        line.split("\t")[0]
        for line in cohort(data, "projects", "extracts", PROJECT).split("\n")
        if line
    ]


def kill_while_writing(data: Path) -> bool:
    """Start an extract and kill it once its hidden folder holds a file; False if it
    finished before it could be caught."""
    place = data / "extracts" / PROJECT
    job = subprocess.Popen(
        cohort_command("projects", "extract", PROJECT, "--as", "researcher"),
        env=environment(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while job.poll() is None:
            if any(any(d.iterdir()) for d in place.glob(".writing-*")):
                kill_hard([job.pid])
                return True
            time.sleep(POLL_S)
        return False
    finally:
        job.wait()


def test_an_extract_killed_mid_way_is_never_listed_and_the_next_one_completes(demo):
    caught = any(kill_while_writing(demo) for _ in range(CATCH_ATTEMPTS))
    assert caught, "every extract finished before it could be killed"

    place = demo / "extracts" / PROJECT
    listed = listed_extracts(demo)
    visible = sorted(d.name for d in place.iterdir() if not d.name.startswith("."))
    assert visible == sorted(listed)  # no folder without its record, nor the reverse
    assert all((place / number / "manifest.json").is_file() for number in listed)

    said = cohort(demo, "projects", "extract", PROJECT, "--as", "researcher")
    number = said.split()[1]
    after = listed_extracts(demo)
    assert number in after
    assert len(after) == len(listed) + 1
    assert (place / number / "manifest.json").is_file()


def running_run(database: Path) -> tuple[int, str] | None:
    """A linkage run part-way through matching or writing, read beside the job."""
    with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(
            "SELECT id, source FROM linkagerun WHERE outcome = 'running' "
            "AND stage IN ('matching', 'writing')"
        ).fetchone()


def kill_mid_run(data: Path) -> tuple[int, str] | None:
    job = subprocess.Popen(
        cohort_command("link", "run", "--all"),
        env=environment(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while job.poll() is None:
            caught = running_run(data / "cohort.db")
            if caught:
                kill_hard([job.pid])
                return caught
            time.sleep(POLL_S * 20)
        return None
    finally:
        job.wait()


def store_rows(data: Path, source: str, run_id: int) -> tuple[int, bool]:
    """Rows the run wrote to its source's table, and whether its delivery is recorded."""
    con = duckdb.connect(str(data / "research.duckdb"), read_only=True)
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        rows = (
            con.execute(
                f'SELECT count(*) FROM main."{source}" WHERE run_id = ?',  # noqa: S608 (a source name)
                [run_id],
            ).fetchall()[0][0]
            if source in tables
            else 0
        )
        delivered = con.execute(
            "SELECT count(*) FROM linkage.deliveries WHERE run_id = ?", [run_id]
        ).fetchall()[0][0]
    finally:
        con.close()
    return rows, bool(delivered)


def test_a_linkage_run_killed_mid_way_leaves_no_partial_output_and_the_next_run_completes(demo):
    cohort(demo, "link", "synth", "--seed", "77")
    caught = None
    for _ in range(CATCH_ATTEMPTS):
        caught = kill_mid_run(demo)
        if caught:
            break
        cohort(demo, "link", "synth", "--seed", str(78 + _))
    assert caught, "every linkage run finished before it could be killed"
    run_id, source = caught

    rows, delivered = store_rows(demo, source, run_id)
    assert delivered or rows == 0  # all of the run's rows, with its delivery, or none

    cohort(demo, "link", "run", "--all")  # takes over the dead process's lock
    with sqlite3.connect(demo / "cohort.db") as db:
        (outcome,) = db.execute("SELECT outcome FROM linkagerun WHERE id = ?", [run_id]).fetchone()
        (still_running,) = db.execute(
            "SELECT count(*) FROM linkagerun WHERE outcome = 'running'"
        ).fetchone()
        (locks,) = db.execute("SELECT count(*) FROM linkagelock").fetchone()
    assert outcome in ("failed", "succeeded")
    assert still_running == 0
    assert locks == 0
    assert not [p for p in (demo / "inbox" / source).iterdir() if not p.name.startswith(".")]
