"""The SQL console: one SELECT over the project's latest extract and nothing else; files,
other databases, extensions, settings, DDL/DML and second statements refused; row and
time limits; counts from aggregates under disclosure control."""

import pytest

from cohort.errors import CohortError, Forbidden
from cohort.research import extracts, sql_console
from cohort.research.sql_console import Refused
from tests.research.world import SNAPSHOT


@pytest.fixture
def project(research):
    mothers = [research.participant() for _ in range(12)]
    research.link(
        "maternity",
        [{"study_id": m.study_id, "Parity": 1 if i < 10 else 2} for i, m in enumerate(mothers)],
    )
    code = research.project(variables=("maternity.Parity",))
    with research.session() as s:
        extracts.make_extract(
            s,
            research.settings,
            research.keys.pseudonym,
            research.researcher,
            code,
            snapshot_at=SNAPSHOT,
        )
    return code


def console(research, sql, code="PRJ-A", user=None, **limits):
    with research.session() as s:
        return sql_console.run(
            s, research.settings, user or research.researcher, code, sql, **limits
        )


def test_row_level_rows_of_the_extract(research, project):
    result = console(research, "SELECT * FROM maternity ORDER BY pseudonym")
    assert result.columns == ["pseudonym", "Parity"]
    assert len(result.rows) == 12 and not result.aggregate


def test_aggregate_counts_pass_through_disclosure_control(research, project):
    result = console(
        research,
        "SELECT Parity, count(*) AS n, avg(Parity) AS mean FROM maternity GROUP BY 1 ORDER BY 1",
    )
    # 2 is suppressed; 10 goes too, or the total (12, one more query away) would give
    # it back; every number in a suppressed row goes, a numeric group label too
    assert result.aggregate and result.rows == [(None, None, None), (None, None, None)]
    assert result.suppressed == 2


def test_a_suppressed_count_cannot_be_worked_back_from_a_margin(research, project):
    """By parity and a second label: the count by parity alone is another query."""
    result = console(
        research,
        "SELECT Parity, Parity > 1 AS many, 'all' AS everyone, count(*) AS n_women "
        "FROM maternity GROUP BY ALL "
        "UNION ALL SELECT 3, true, 'all', 40 UNION ALL SELECT 4, true, 'all', 30 ORDER BY 1",
    )
    # The 2 takes the 10 with it (the grand total), and the 30 (the count of parity > 1);
    # the 10 alone in its margin (parity 1) protects nothing there, so that stops there.
    assert [row[-1] for row in result.rows] == [None, None, 40, None]
    assert result.suppressed == 3


def test_an_aggregate_without_a_count_is_refused(research, project):
    with pytest.raises(Refused, match="count of people"):
        console(research, "SELECT avg(Parity) FROM maternity")


@pytest.mark.parametrize(
    ("sql", "says"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "failed"),
        ("SELECT * FROM read_parquet('/tmp/x.parquet')", "failed"),
        ("SELECT * FROM glob('/*')", "failed"),
        ("ATTACH '/tmp/other.duckdb' AS other", "not ATTACH"),
        ("COPY maternity TO '/tmp/out.csv'", "not COPY"),
        ("INSTALL httpfs", "not LOAD"),
        ("LOAD httpfs", "not LOAD"),
        ("PRAGMA version", "not PRAGMA"),
        ("SET enable_external_access = true", "not SET"),
        ("CREATE TABLE x AS SELECT 1", "not CREATE"),
        ("DROP TABLE maternity", "not DROP"),
        ("DELETE FROM maternity", "not DELETE"),
        ("UPDATE maternity SET Parity = 0", "not UPDATE"),
        ("INSERT INTO maternity VALUES ('x', 1)", "not INSERT"),
        ("SELECT 1; DROP TABLE maternity", "one statement"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELEKT 1", "cannot be read"),
    ],
)
def test_refusals(research, project, sql, says):
    with pytest.raises(Refused, match=says):
        console(research, sql)


def test_the_configuration_is_locked(research, project):
    with pytest.raises(Refused):
        console(research, "SELECT * FROM '/etc/hosts'")
    (row,) = console(research, "SELECT current_setting('enable_external_access') AS v").rows
    assert row == (False,)


def test_row_and_time_limits(research, project):
    result = console(research, "SELECT * FROM maternity", row_limit=5)
    assert len(result.rows) == 5 and result.truncated
    with pytest.raises(Refused, match="longer than"):
        console(
            research,
            "SELECT sum(a.range * b.range) AS n FROM range(100000000) a, range(100000) b",
            time_limit_s=0.3,
        )


def test_only_researchers_of_row_level_projects_with_an_extract(research, project):
    with pytest.raises(Forbidden):
        console(research, "SELECT 1", user=research.other_researcher)
    research.project("PRJ-B", row_level=False)
    with pytest.raises(Forbidden):
        console(research, "SELECT 1", code="PRJ-B")
    research.project("PRJ-C")
    with pytest.raises(CohortError, match="make an extract first"):
        console(research, "SELECT 1", code="PRJ-C")
