"""Scheduled linkage: each source runs on its spec's cron schedule (UK time), inside
``cohort serve`` and standalone as ``cohort link schedule``.

APScheduler 3 with one cron job per source. A job that finds its source already running
(another process, or a late previous run) logs it and does nothing; a missed time (the
service was down) runs once when it is back within the grace period, not once per miss.
Set ``COHORT_LINKAGE_SCHEDULE=false`` to serve without it (another host schedules).
Every process may start a scheduler, but only the leader (``leadership.py``) carries the
jobs; the others only try, every ``leadership.RETRY_S``, to take over from a dead leader.
"""

import logging
import os
from datetime import UTC, datetime

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from cohort.errors import CohortError
from cohort.governance.nightly import NIGHTLY_JOB, run_nightly
from cohort.instance import Instance
from linkage_jobs.leadership import RETRY_S, Leadership
from linkage_jobs.lock import SourceBusy
from linkage_jobs.runner import run_source
from linkage_jobs.spec import SourceSpec, load_specs

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"
MISFIRE_GRACE_S = 6 * 3600
ACTOR = "scheduler"
NIGHTLY_CRON = "0 2 * * *"
SWITCH = "COHORT_LINKAGE_SCHEDULE"
OFF = {"false", "0", "no", "off"}
LEADERSHIP_JOB = "leadership"


def enabled() -> bool:
    """Whether ``cohort serve`` schedules linkage (``COHORT_LINKAGE_SCHEDULE``, default on)."""
    return os.environ.get(SWITCH, "true").strip().lower() not in OFF


def run_job(instance: Instance, spec: SourceSpec) -> None:
    """One scheduled run: never raises, so the scheduler keeps going."""
    try:
        runs = run_source(instance, spec, actor=ACTOR)
    except SourceBusy as exc:
        log.info("%s", exc.message)
        return
    except CohortError as exc:
        log.error("scheduled linkage of %s refused: %s", spec.name, exc.message)
        return
    except Exception as exc:  # the run table says more; its text could quote data
        log.error("scheduled linkage of %s failed: %s", spec.name, type(exc).__name__)
        return
    for run in runs:
        log.info("linkage of %s, %s: %s", spec.name, run.file_name, run.outcome)


def schedule(
    scheduler: BaseScheduler, instance: Instance, specs: dict[str, SourceSpec]
) -> BaseScheduler:
    for spec in specs.values():
        scheduler.add_job(
            run_job,
            CronTrigger.from_crontab(spec.schedule, timezone=TIMEZONE),
            args=(instance, spec),
            id=f"link:{spec.name}",
            name=f"link {spec.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_S,
            replace_existing=True,
        )
    scheduler.add_job(
        run_nightly,
        CronTrigger.from_crontab(NIGHTLY_CRON, timezone=TIMEZONE),
        args=(instance,),
        id=NIGHTLY_JOB,
        name="governance roll-up and audit check",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=MISFIRE_GRACE_S,
        replace_existing=True,
    )
    return scheduler


def lead(
    scheduler: BaseScheduler, instance: Instance, specs: dict[str, SourceSpec]
) -> BaseScheduler:
    """``schedule`` the jobs on this scheduler once it leads: now if no live scheduler
    does, else when a retry finds the leader gone. Shutting down lets go of the lead."""
    leadership = Leadership(instance.engine)

    def contend() -> None:
        try:
            if leadership.held or not leadership.try_take():
                return
        except Exception as exc:  # the database is away: the next retry tries again
            log.error("scheduler leadership not taken: %s", type(exc).__name__)
            return
        log.info("this process runs the scheduled linkage and night jobs")
        schedule(scheduler, instance, specs)

    contend()
    scheduler.add_job(
        contend,
        IntervalTrigger(seconds=RETRY_S),
        id=LEADERSHIP_JOB,
        name="take the scheduled jobs over from a scheduler that has stopped",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    scheduler.add_listener(lambda _: leadership.release(), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def start_background(
    instance: Instance, specs: dict[str, SourceSpec] | None = None
) -> BackgroundScheduler | None:
    """A started background scheduler with one job per source once it leads (``cohort
    serve``); None,
    logged, when the specs cannot be read, so the web app still serves."""
    try:
        specs = load_specs() if specs is None else specs
    except CohortError as exc:
        log.error("linkage is not scheduled: %s", exc.message)
        return None
    scheduler = lead(BackgroundScheduler(timezone=TIMEZONE), instance, specs)
    scheduler.start()
    return scheduler


def next_run(spec: SourceSpec, now: datetime | None = None) -> datetime | None:
    """When the source is next due (for ``cohort link sources`` and the runs page)."""
    now = now or datetime.now(UTC)
    return CronTrigger.from_crontab(spec.schedule, timezone=TIMEZONE).get_next_fire_time(None, now)
