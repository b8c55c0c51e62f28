"""Linkage coverage per partner source: runs in the period by how they ended, rows read
and linked, and the clerical queue waiting now."""

from datetime import date

from sqlmodel import Session

from cohort.governance import linkage
from cohort.models import ClericalPair, LinkageRun
from tests.governance.seed import NETWORK, at, period, rows_of, shown


def run(source: str, outcome: str, read: int = 0, written: int = 0, when=None) -> LinkageRun:
    return LinkageRun(
        source=source,
        file_name="f.csv",
        file_sha256="0" * 64,
        outcome=outcome,
        rows_read=read,
        rows_written=written,
        started_at=when or at(3, 5),
    )


def test_nothing_shows_until_linkage_has_run(net):
    with Session(net.engine) as s:
        assert not linkage.any_runs(s)


def test_runs_by_source_and_outcome_with_the_share_linked(net):
    with Session(net.engine) as s:
        s.add_all(
            [
                run("maternity", "succeeded", 100, 80),
                run("maternity", "quarantined"),
                run("education", "failed"),
                run("education", "succeeded", 50, 45, when=at(1, 5)),  # before the period
            ]
        )
        s.flush()
        s.add(
            ClericalPair(
                run_id=1,
                source="maternity",
                record_key="k",
                study_id="S",
                probability=0.5,
                comparison="{}",
            )
        )
        s.commit()
        assert linkage.any_runs(s)
        table = linkage.coverage(s, period(date(2026, 3, 1), date(2026, 3, 31)), NETWORK)
    assert rows_of(table) == {
        "education": (1, 0, 0, 1, 0, 0, 0),
        "maternity": (2, 1, 1, 0, 100, 80, 1),
        "Total": (3, 1, 1, 1, 100, 80, 1),
    }
    assert shown(table)["maternity"][-1] == "80.0%"
    assert shown(table)["education"][-1] == "No rows read"
