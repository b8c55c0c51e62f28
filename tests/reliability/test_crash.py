"""Power cut in the middle of a busy clinic: the server processes are killed (SIGKILL)
while midwives are saving, then started again. Every consent the server acknowledged is
there, nothing is half-written, the audit chain verifies, and saving works again."""

from bench.load import ROUND, run_load
from tests.live_server import serve
from tests.reliability.conftest import START_S, opened
from tests.reliability.ledger import (
    acknowledged_counts,
    broken_invariants,
    chain,
    stored_counts,
    unaccounted,
)
from tests.reliability.processes import kill_hard, load_in_background, server_processes, wait_for

WORKERS = 2
ACKNOWLEDGED_BEFORE_KILL = 12
MANY = 10_000  # more than get sent before the kill: the load is cut, not finished


def test_a_server_killed_mid_load_keeps_every_acknowledged_submission(deployment):
    with (
        serve(
            deployment.data_dir, deployment.database_url, workers=WORKERS, timeout_s=START_S
        ) as url,
        load_in_background(url, deployment.team, requests=MANY, seconds=120) as cut,
    ):
        wait_for(
            lambda: len(cut.acknowledged()) >= ACKNOWLEDGED_BEFORE_KILL,
            timeout_s=120,
            what="the first acknowledged saves",
        )
        kill_hard(server_processes(url))
        wait_for(
            lambda: any(s.status is None for s in cut.sent),
            timeout_s=60,
            what="a save the dead server could not answer",
        )
    assert cut.server_errors() == []

    with serve(
        deployment.data_dir, deployment.database_url, workers=WORKERS, timeout_s=START_S
    ) as url:
        after = run_load(
            url, deployment.team, requests=len(ROUND) * len(deployment.team), seconds=120, seed=202
        )
    assert [s for s in after.sent if not s.acknowledged] == []

    sent = cut.sent + after.sent
    with opened(deployment.settings) as inst:
        assert unaccounted(inst.engine, inst.keys, sent) == []
        assert broken_invariants(inst.engine) == {}
        assert chain(inst.engine).ok, chain(inst.engine)
        stored, told = (
            stored_counts(inst.engine),
            acknowledged_counts(cut) + acknowledged_counts(after),
        )
        attempted = len([s for s in sent if s.kind != "health"])
        assert told["submissions"] <= stored["submissions"] <= attempted
