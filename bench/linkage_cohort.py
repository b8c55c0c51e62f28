"""Linkage's cohort load: who among 100,000 participants may be linked to a health source
now, as every run asks twice (loading the cohort, and again at write time).

Measured: ``cohort_identities.consented``, the consent zone's bulk pass (one read of
consents and withdrawals), each run after a new withdrawal so the kept pass is stale and
read again, as after a day of recording; beside it, the way it was asked before, one
``consent_scope`` per participant in transactions of 500, on the same database. CPU
seconds (this process) and wall seconds. ``BENCH_LINKAGE_COHORT_SCALE=0.1`` runs a tenth.
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.harness import Row, median, scale
from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import initialise, open_instance
from cohort.models import Consent, Participant, Site, User, Withdrawal
from cohort.scope import consent_scope
from linkage_jobs.cohort_identities import consented

SCALE = scale("linkage-cohort")
MOTHERS = int(100_000 * SCALE)
RUNS = 3
ITEM = "link_mother_health"
WITHDRAWN_SHARE = 0.02
PER_TRANSACTION = 500


def _seed(engine: Engine) -> int:
    """Participants with one consent each (90% giving ``ITEM``), 2% withdrawn; the user id."""
    rng = random.Random(3)  # noqa: S311  (synthetic spread, not a secret)
    enrolled = datetime(2024, 1, 1, tzinfo=UTC)
    with session_scope(engine) as s:
        site = Site(code="BRD", name="Bradford")
        staff = User(username="mw", full_name="Mw", role="midwife", password_hash="x")  # noqa: S106
        s.add_all([site, staff])
        s.flush()
        conn = s.connection()
        conn.execute(
            insert(Participant.__table__),
            [
                {"id": i, "study_id": f"BB-{i:07d}", "site_id": site.id, "created_at": enrolled}
                for i in range(1, MOTHERS + 1)
            ],
        )
        conn.execute(
            insert(Consent.__table__),
            [
                {
                    "participant_id": i,
                    "site_id": site.id,
                    "recorded_by": staff.id,
                    "form_name": "babi_consent",
                    "form_version": "1.0",
                    "language": "en",
                    "items": {ITEM: rng.random() < 0.9, "link_council": True},
                    "recorded_at": enrolled,
                }
                for i in range(1, MOTHERS + 1)
            ],
        )
        withdrawn = rng.sample(range(1, MOTHERS + 1), int(MOTHERS * WITHDRAWN_SHARE))
        conn.execute(
            insert(Withdrawal.__table__),
            [{"participant_id": i, "level": "no_data", "recorded_by": staff.id} for i in withdrawn],
        )
        return staff.id


def one_by_one(engine: Engine) -> dict[str, int]:
    """The old way, kept here as the baseline: ``consent_scope`` per participant."""
    with Session(engine) as session:
        people = list(session.exec(select(Participant.study_id, Participant.id)).all())
    allowed = {}
    for start in range(0, len(people), PER_TRANSACTION):
        with Session(engine) as session:
            for sid, pid in people[start : start + PER_TRANSACTION]:
                if consent_scope(session, pid).allows(ITEM):
                    allowed[sid] = pid
    return allowed


def _timed(
    fn: Callable[[], object], before: Callable[[], None], runs: int
) -> tuple[list[float], list[float], object]:
    """(CPU seconds, wall seconds) of each run, ``before`` each one (untimed); the last
    run's answer."""
    cpu, wall, answer = [], [], None
    for _ in range(runs):
        before()
        c, w = time.process_time(), time.perf_counter()
        answer = fn()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return cpu, wall, answer


def run(tmp: Path) -> list[Row]:
    settings = Settings(data_dir=tmp / "var")
    initialise(settings)
    engine = open_instance(settings).engine
    staff_id = _seed(engine)
    withdrawing = count(1)

    def new_withdrawal() -> None:
        with session_scope(engine) as s:
            s.add(
                Withdrawal(participant_id=next(withdrawing), level="no_data", recorded_by=staff_id)
            )

    bulk_cpu, bulk_wall, _ = _timed(lambda: consented(engine, ITEM), new_withdrawal, RUNS)
    old_cpu, old_wall, old = _timed(lambda: one_by_one(engine), new_withdrawal, 1)
    if consented(engine, ITEM) != old:
        raise SystemExit("the bulk pass and the one-by-one baseline disagree")
    engine.dispose()
    baseline = (
        f"one consent_scope per participant: {old_wall[0]:.1f} s wall, {old_cpu[0]:.1f} s CPU"
    )
    return [
        Row(
            f"linkage cohort consent decision, {MOTHERS:,} participants (wall)",
            "s",
            median(bulk_wall),
            None,
            baseline,
            median(bulk_wall) / old_wall[0],
        ),
        Row(
            f"linkage cohort consent decision, {MOTHERS:,} participants (CPU)",
            "s",
            median(bulk_cpu),
            None,
            baseline,
            median(bulk_cpu) / old_cpu[0],
        ),
    ]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for row in run(Path(d)):
            print(row)
