"""Many midwives saving consents, declines and withdrawals at once against ``cohort
serve``, on SQLite and PostgreSQL, with one and two server processes: every submission
the server acknowledged is in the database exactly once, none got a server error, and
the audit chain verifies."""

import pytest

from bench.load import ROUND, run_load
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


def _all_stored_once(deployment: Deployment, load) -> None:
    assert load.server_errors() == []
    assert [s for s in load.sent if not s.acknowledged] == []
    with opened(deployment.settings) as inst:
        assert unaccounted(inst.engine, inst.keys, load.sent) == []
        assert stored_counts(inst.engine) == acknowledged_counts(load)
        assert broken_invariants(inst.engine) == {}
        assert chain(inst.engine).ok, chain(inst.engine)
