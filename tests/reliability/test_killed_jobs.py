"""Long jobs killed mid-way (SIGKILL, as a power cut or the out-of-memory killer would):
nothing partial is left where anyone would take it, and the next run completes.

An extract is written to a hidden folder and renamed into place with its database row
committed: a killed one is never listed nor given an extract number to download."""

import os
import subprocess
import sys
import time
from pathlib import Path

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
