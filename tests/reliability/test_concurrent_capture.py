"""Many midwives saving consents, declines and withdrawals at once against ``cohort
serve``, on SQLite and PostgreSQL, with one and two server processes: every submission
the server acknowledged is in the database exactly once, none got a server error, and
the audit chain verifies."""

import inspect

import pytest
import uvicorn

from bench.load import KEEP_ALIVE_S, ROUND, prepare, run_load
from tests.live_server import serve
from tests.reliability.conftest import START_S, Deployment, opened
from tests.reliability.ledger import (
    acknowledged_counts,
    broken_invariants,
    chain,
    stored_counts,
    unaccounted,
)

ROUNDS = 2  # each midwife: two consents by API, one by the form, a decline, a withdrawal
SECONDS = 120  # a cap only: the load is bounded by its count
CROWD = 64  # more at once than a server process has threads (40)


@pytest.mark.parametrize("workers", [1, 2])
def test_every_acknowledged_submission_is_stored_exactly_once(deployment, workers):
    with serve(
        deployment.data_dir, deployment.database_url, workers=workers, timeout_s=START_S
    ) as url:
        load = run_load(
            url,
            deployment.team,
            requests=ROUNDS * len(ROUND) * len(deployment.team),
            seconds=SECONDS,
        )

    _all_stored_once(deployment, load)


def test_a_crowd_larger_than_the_servers_threads_is_answered_and_stored(db_url, tmp_path):
    """64 midwives saving at once against one server process: each waits her turn, none
    times out waiting for a database connection held by a request with no thread left."""
    data_dir = tmp_path / "data"
    crowd = Deployment(data_dir, db_url, prepare(data_dir, db_url, CROWD))
    with serve(crowd.data_dir, crowd.database_url, timeout_s=START_S) as url:
        load = run_load(url, crowd.team, requests=CROWD, seconds=SECONDS, rota=("consent_api",))
    assert len(load.sent) == CROWD
    _all_stored_once(crowd, load)


def test_the_generator_lets_an_idle_connection_go_well_before_the_server_closes_it():
    """A request sent on a connection the server is closing gets no answer: the crowd lost
    one save that way, a midwife idle just under both sides' 5 s while the others signed
    in. ``cohort serve`` keeps uvicorn's keep-alive timeout."""
    server_s = inspect.signature(uvicorn.Config).parameters["timeout_keep_alive"].default
    assert server_s / 2 >= KEEP_ALIVE_S


def _all_stored_once(deployment: Deployment, load) -> None:
    assert load.server_errors() == []
    assert [s for s in load.sent if not s.acknowledged] == []
    with opened(deployment.settings) as inst:
        assert unaccounted(inst.engine, inst.keys, load.sent) == []
        assert stored_counts(inst.engine) == acknowledged_counts(load)
        assert broken_invariants(inst.engine) == {}
        assert chain(inst.engine).ok, chain(inst.engine)
