"""The governance night job: roll up the day that has just closed, then check the audit
chain and record the verdict, which the dashboard's access page shows. Each in its own
transaction, so a broken chain never holds back the roll-up."""

import logging

from cohort.db import session_scope
from cohort.governance import access, rollup
from cohort.instance import Instance

log = logging.getLogger(__name__)

ACTOR = "nightly"
NIGHTLY_JOB = "governance:nightly"


def run_nightly(instance: Instance) -> None:
    """Never raises, so the scheduler keeps going; what failed is logged by kind only."""
    for name, step in (("roll-up", _roll_up), ("audit check", _check_chain)):
        try:
            step(instance)
        except Exception as exc:  # its text could quote data
            log.error("governance %s failed: %s", name, type(exc).__name__)


def _roll_up(instance: Instance) -> None:
    with session_scope(instance.engine) as session:
        log.info("governance roll-up: %d counts written", rollup.roll_up(session))


def _check_chain(instance: Instance) -> None:
    with session_scope(instance.engine) as session:
        verdict = access.check_chain(session, actor=ACTOR)
    (log.info if verdict.ok else log.error)("audit chain: %s", verdict)
