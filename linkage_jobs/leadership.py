"""Which process runs the scheduled jobs: ``cohort serve --workers 2`` starts a scheduler
in each worker, and ``cohort link schedule`` may run beside them, but exactly one may
own the jobs.

The leader holds the per-source lock (``lock.source_lock``) under a name no source can
have (``LEADER``), for as long as it runs: the ``LinkageLock`` row naming it, and on
PostgreSQL an advisory lock on a connection it keeps. Every other scheduler tries again
every ``RETRY_S`` and takes over when the leader is gone, as the lock decides staleness:
a holder whose pid has died on this host, or on PostgreSQL an advisory lock the server
freed with the dead leader's connection. A scheduler shutting down lets go at once.
"""

import logging
from contextlib import ExitStack

from sqlalchemy.engine import Engine

from linkage_jobs.lock import LEADER, SourceBusy, source_lock

log = logging.getLogger(__name__)

RETRY_S = 30


class Leadership:
    """One scheduler's claim: taken, kept until released, or refused while another holds it."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: ExitStack | None = None

    @property
    def held(self) -> bool:
        return self._held is not None

    def try_take(self) -> bool:
        """Lead from now on if no live scheduler does; whether this one leads."""
        if self._held is None:
            claim = ExitStack()
            try:
                claim.enter_context(source_lock(self._engine, LEADER))
            except SourceBusy:
                return False
            self._held = claim
        return True

    def release(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
