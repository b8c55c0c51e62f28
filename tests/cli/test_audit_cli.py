"""``cohort audit verify`` records its verdict for the governance dashboard, and
``cohort governance rollup`` counts the closed days for the consent-rate pages."""

from sqlmodel import Session

from cohort.db import make_engine
from cohort.governance import access


def test_audit_verify_records_its_verdict_for_the_dashboard(cli, tmp_path):
    cli("init")
    first = cli("audit", "verify")
    assert first.returncode == 0 and "intact: 1 events" in first.stdout
    second = cli("audit", "verify")  # the first check is now an event of the chain
    assert second.returncode == 0 and "intact: 2 events" in second.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'cohort.db'}")
    with Session(engine) as s:
        check = access.latest_check(s)
    engine.dispose()
    assert (check.by, check.intact, check.events) == ("cli", True, 2)


def test_governance_rollup_says_how_many_counts_it_wrote(cli):
    cli("init")
    result = cli("governance", "rollup")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "consent-rate roll-up: 0 counts written"


def test_governance_rollup_refuses_an_uninitialised_instance(cli):
    result = cli("governance", "rollup")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
