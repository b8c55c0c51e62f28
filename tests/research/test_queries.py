"""Aggregate queries: only approved variables, counts of people under disclosure control,
means and medians withheld with their suppressed counts, filters, and an audit event."""

import pytest
from sqlmodel import select

from cohort.errors import CohortError, Forbidden
from cohort.models import AuditEvent
from cohort.research import queries
from cohort.research.queries import Query, Row


@pytest.fixture
def parity(research):
    """12 mothers with parity 1 (BMI 20 or 30), 3 with parity 2: a small cell."""
    mothers = [(research.participant(), 1, 20.0 + 10 * (i % 2)) for i in range(12)]
    mothers += [(research.participant(), 2, 40.0) for _ in range(3)]
    research.link(
        "maternity",
        [{"study_id": m.study_id, "Parity": p, "BMI_At_Booking": bmi} for m, p, bmi in mothers],
    )
    return research.project(variables=("maternity.Parity", "maternity.BMI_At_Booking"))


def ask(research, query, code="PRJ-A", user=None):
    with research.session() as s:
        return queries.run(
            s, research.settings, research.keys.pseudonym, user or research.researcher, code, query
        )


def test_counts_are_rounded_and_small_ones_suppressed(research, parity):
    result = ask(research, Query("maternity", ("Parity",)))
    assert result.rows == [Row(("1",), 10), Row(("2",), None)]
    assert result.suppressed == 1


def test_a_mean_is_withheld_with_its_suppressed_count(research, parity):
    result = ask(research, Query("maternity", ("Parity",), "mean", "BMI_At_Booking"))
    assert result.rows == [Row(("1",), 10, 25.0), Row(("2",), None, None)]


def test_a_median_over_everyone(research, parity):
    (row,) = ask(research, Query("maternity", (), "median", "BMI_At_Booking")).rows
    assert row == Row((), 15, 30.0)


def test_filters_narrow_the_rows(research, parity):
    (row,) = ask(research, Query("maternity", (), filters=(("Parity", "1"),))).rows
    assert row.n == 10


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (Query("birth_notifications"), "dataset"),
        (Query("maternity", ("Delivery_Mode",)), "group_by"),
        (Query("maternity", filters=(("Smoking_At_Booking", "true"),)), "group_by"),
        (Query("maternity", ("Parity", "Parity")), "group_by"),
        (Query("maternity", measure="sum"), "measure"),
        (Query("maternity", measure="mean"), "of"),
    ],
)
def test_only_approved_variables_and_measures(research, parity, query, field):
    with pytest.raises(CohortError) as refused:
        ask(research, query)
    assert refused.value.field == field


def test_queries_are_audited_and_need_the_project(research, parity):
    ask(research, Query("maternity", ("Parity",)))
    with research.session() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "research.query")).one()
    assert event.detail["suppressed"] == 1 and event.project == "PRJ-A"
    with pytest.raises(Forbidden):
        ask(research, Query("maternity"), user=research.other_researcher)
