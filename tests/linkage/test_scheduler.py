"""Scheduled linkage: one cron job per source at its spec's time (UK), a job that never
takes the scheduler down, started with ``cohort serve`` unless switched off."""

from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient

from cohort.errors import CohortError
from cohort.web.app import create_app
from linkage_jobs import scheduler
from linkage_jobs.lock import SourceBusy
from linkage_jobs.spec import load_specs
from tests.web.conftest import make_instance

SPECS = load_specs()


def linkage_jobs(running) -> list:
    """The scheduler's linkage jobs (it carries other night jobs too)."""
    return [job for job in running.get_jobs() if job.id.startswith("link:")]


@pytest.fixture
def instance(tmp_path):
    inst = make_instance(tmp_path / "var", f"sqlite:///{tmp_path / 'cohort.db'}")
    yield inst
    inst.engine.dispose()


def test_each_source_gets_a_cron_job_at_its_spec_time(instance):
    jobs = linkage_jobs(scheduler.schedule(BackgroundScheduler(), instance, SPECS))
    assert sorted(job.id for job in jobs) == sorted(f"link:{name}" for name in SPECS)
    for job in jobs:
        assert job.max_instances == 1 and job.coalesce
        assert str(job.trigger.timezone) == scheduler.TIMEZONE


@pytest.mark.parametrize(
    ("now", "due"),
    [
        # maternity is "0 2 * * *": 02:00 in London is 02:00 UTC in winter, 01:00 in summer.
        (datetime(2026, 11, 22, 12, 0, tzinfo=UTC), datetime(2026, 11, 23, 2, 0, tzinfo=UTC)),
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 2, 1, 0, tzinfo=UTC)),
    ],
)
def test_next_run_follows_the_cron_in_uk_time(now, due):
    assert scheduler.next_run(SPECS["maternity"], now) == due


def test_a_job_runs_its_source(instance, monkeypatch):
    ran = []
    monkeypatch.setattr(
        scheduler, "run_source", lambda inst, spec, actor: ran.append((spec.name, actor)) or []
    )
    scheduler.run_job(instance, SPECS["maternity"])
    assert ran == [("maternity", "scheduler")]


@pytest.mark.parametrize(
    "problem",
    [SourceBusy("maternity is already being linked"), CohortError("refused"), OSError("disk")],
)
def test_a_job_never_raises(instance, monkeypatch, problem):
    def fail(*args, **kwargs):
        raise problem

    monkeypatch.setattr(scheduler, "run_source", fail)
    scheduler.run_job(instance, SPECS["maternity"])


@pytest.mark.parametrize(
    ("value", "on"), [(None, True), ("true", True), ("false", False), ("0", False)]
)
def test_the_switch_in_the_environment(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(scheduler.SWITCH, raising=False)
    else:
        monkeypatch.setenv(scheduler.SWITCH, value)
    assert scheduler.enabled() is on


def test_the_web_app_runs_the_scheduler_for_its_lifetime_when_asked(instance):
    app = create_app(instance, schedule=True)
    with TestClient(app):
        running = app.state.scheduler
        assert running.running and len(linkage_jobs(running)) == len(SPECS)
    assert not running.running


def test_an_app_on_a_given_instance_does_not_schedule_by_default(instance):
    app = create_app(instance)
    with TestClient(app):
        assert app.state.scheduler is None
