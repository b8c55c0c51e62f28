"""Exactly one scheduler owns the scheduled jobs, however many processes start one: a
second is refused the lead, tries again, and takes over when the leader stops or dies,
on SQLite and PostgreSQL."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session

from cohort.instance import Instance, open_instance
from linkage_jobs import scheduler
from linkage_jobs.leadership import Leadership
from linkage_jobs.lock import holders, source_lock
from linkage_jobs.spec import load_specs
from tests.web.conftest import make_instance

SPECS = load_specs()
ROOT = Path(__file__).parents[2]
LEADER_PROCESS = """
import sys, time
from cohort.db import make_engine
from linkage_jobs.leadership import Leadership
leadership = Leadership(make_engine(sys.argv[1]))
assert leadership.try_take()
print("leading", flush=True)
time.sleep(120)
"""


@pytest.fixture
def instances(db_url, tmp_path) -> Iterator[tuple[Instance, Instance]]:
    """Two processes' views of one instance: each its own engine (and connections)."""
    first = make_instance(tmp_path / "var", db_url)
    second = open_instance(first.settings)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


def scheduled(running) -> list[str]:
    return sorted(job.id for job in running.get_jobs() if job.id != scheduler.LEADERSHIP_JOB)


def retry(running) -> None:
    """What the leadership job does every ``RETRY_S``."""
    running.get_job(scheduler.LEADERSHIP_JOB).func()


def test_two_schedulers_one_owns_the_jobs_and_the_other_takes_over_when_it_stops(instances):
    first = scheduler.lead(BackgroundScheduler(), instances[0], SPECS)
    second = scheduler.lead(BackgroundScheduler(), instances[1], SPECS)
    first.start(paused=True)
    second.start(paused=True)
    try:
        assert len(scheduled(first)) == len(SPECS) + 1  # every source and the night job
        assert scheduled(second) == []
        retry(second)
        assert scheduled(second) == []
        first.shutdown(wait=False)
        retry(second)
        assert len(scheduled(second)) == len(SPECS) + 1
    finally:
        second.shutdown(wait=False)


def test_a_dead_leader_is_taken_over_at_the_next_retry(engine, db_url):
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER_PROCESS, db_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert leader.stdout.readline().strip() == "leading"
        follower = Leadership(engine)
        assert not follower.try_take()
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait()
        deadline = time.monotonic() + 20  # PostgreSQL frees the lock once it sees the exit
        while not follower.try_take():
            assert time.monotonic() < deadline, "the dead leader's lock was never freed"
            time.sleep(0.2)
        assert follower.held
        follower.release()
    finally:
        leader.kill()
        leader.wait()


def test_the_leader_is_not_listed_as_a_running_source(engine):
    leader = Leadership(engine)
    assert leader.try_take()
    try:
        with source_lock(engine, "maternity"), Session(engine) as s:
            assert set(holders(s)) == {"maternity"}
    finally:
        leader.release()
