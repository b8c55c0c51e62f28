"""The governance night job: at 02:00 UK time beside the linkage jobs, it rolls up the
closed days and records an audit-chain check for the dashboard; one step failing never
stops the other, and nothing raises into the scheduler."""

from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select
from sqlmodel import Session

from cohort.governance import access, nightly, rollup
from cohort.models import ApproachCount, Consent
from linkage_jobs import scheduler
from linkage_jobs.spec import load_specs
from tests.governance.seed import at, consents, make_network
from tests.web.conftest import make_instance


@pytest.fixture
def instance(tmp_path):
    inst = make_instance(tmp_path / "var", f"sqlite:///{tmp_path / 'cohort.db'}")
    yield inst
    inst.engine.dispose()


def rolled(instance) -> int:
    with Session(instance.engine) as s:
        return s.scalar(select(func.count()).select_from(ApproachCount))


def test_the_night_job_is_scheduled_at_two_in_uk_time(instance):
    job = scheduler.schedule(BackgroundScheduler(), instance, load_specs()).get_job(
        nightly.NIGHTLY_JOB
    )
    assert job.func is nightly.run_nightly and job.args == (instance,)
    assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time > 0
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert job.trigger.get_next_fire_time(None, summer) == datetime(2026, 7, 2, 1, 0, tzinfo=UTC)


def test_the_night_job_rolls_up_and_records_the_chain_check(instance):
    net = make_network(instance.engine)
    consents(instance.engine, 3, site=net.a, by=net.anna, when=at(3, 2))
    nightly.run_nightly(instance)
    assert rolled(instance) > 0
    with Session(instance.engine) as s:
        check = access.latest_check(s)
    assert check.by == nightly.ACTOR and check.intact


def test_a_failing_step_never_stops_the_other_nor_raises(instance, monkeypatch, caplog):
    def broken(_session):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rollup, "roll_up", broken)
    nightly.run_nightly(instance)
    with Session(instance.engine) as s:
        assert access.latest_check(s).intact
        assert s.scalar(select(func.count()).select_from(Consent)) == 0
    assert "roll-up failed: RuntimeError" in caplog.text and "disk on fire" not in caplog.text
