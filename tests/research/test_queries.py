"""Aggregate queries: only approved variables, counts of people under disclosure control,
means and medians withheld with their suppressed counts, filters, and an audit event.

A result is protected against its margins, which other queries publish: the ungrouped
count for a query by one variable, the counts by each variable for a query by two. The
differencing tests switch rounding off (``exact``), so that suppression alone has to
keep a small count from being worked back."""

import pytest
from sqlmodel import select

from cohort.errors import CohortError, Forbidden
from cohort.models import AuditEvent
from cohort.research import queries
from cohort.research.queries import Query, Row

MODES = ("caesarean", "instrumental", "spontaneous")


@pytest.fixture
def parity(research):
    """12 mothers with parity 1 (BMI 20 or 30), 9 with parity 2 (BMI 35) and 3 with
    parity 3 (BMI 40): one small group, and the next smallest beside it."""
    mothers = [(research.participant(), 1, 20.0 + 10 * (i % 2)) for i in range(12)]
    mothers += [(research.participant(), 2, 35.0) for _ in range(9)]
    mothers += [(research.participant(), 3, 40.0) for _ in range(3)]
    research.link(
        "maternity",
        [{"study_id": m.study_id, "Parity": p, "BMI_At_Booking": bmi} for m, p, bmi in mothers],
    )
    return research.project(variables=("maternity.Parity", "maternity.BMI_At_Booking"))


def ask(research, query, code="PRJ-A", user=None, settings=None):
    with research.session() as s:
        return queries.run(
            s,
            settings or research.settings,
            research.keys.pseudonym,
            user or research.researcher,
            code,
            query,
        )


def exact(research):
    """The deployment's rule with rounding off: what is shown is the true count."""
    return research.settings.model_copy(update={"sdc_rounding": 1})


def cross_table(research, table: list[list[int]]) -> str:
    """Mothers by parity (1, 2, 3: rows) and delivery mode (``MODES``: columns), as many
    in each cell as ``table`` says (0: no one), BMI 20 + parity + column; the project."""
    rows = [
        {"Parity": parity, "Delivery_Mode": mode, "BMI_At_Booking": 20.0 + parity + column}
        for parity, counts in enumerate(table, start=1)
        for column, (mode, count) in enumerate(zip(MODES, counts, strict=True))
        for _ in range(count)
    ]
    ids = research.participants(len(rows))
    research.link("maternity", [{"study_id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return research.project(
        variables=("maternity.Parity", "maternity.Delivery_Mode", "maternity.BMI_At_Booking")
    )


def worked_back(cells: dict, margin: int | None) -> dict:
    """What a reader gets by subtracting from a published margin: the one suppressed cell
    (None) of ``cells`` when it is alone, else nothing."""
    hidden = [key for key, n in cells.items() if n is None]
    if margin is None or len(hidden) != 1:
        return {}
    return {hidden[0]: margin - sum(n for n in cells.values() if n is not None)}


def test_counts_are_rounded_and_small_ones_suppressed(research, parity):
    result = ask(research, Query("maternity", ("Parity",)))
    assert result.rows == [Row(("1",), 10), Row(("2",), None), Row(("3",), None)]
    assert result.suppressed == 2


def test_a_lone_small_group_takes_the_next_smallest_with_it(research, parity):
    # Asked by parity alone and by nothing: 24 - 12 - 9 would give the 3 back.
    by_parity = ask(research, Query("maternity", ("Parity",)), settings=exact(research))
    (everyone,) = ask(research, Query("maternity"), settings=exact(research)).rows
    assert everyone.n == 24
    published = {row.groups: row.n for row in by_parity.rows}
    assert published == {("1",): 12, ("2",): None, ("3",): None}
    assert worked_back(published, everyone.n) == {}  # only parity 2 and 3 together: 12


def test_a_mean_is_withheld_with_its_suppressed_count(research, parity):
    result = ask(research, Query("maternity", ("Parity",), "mean", "BMI_At_Booking"))
    # Parity 2 is suppressed to protect parity 3, so its mean goes with it.
    assert result.rows == [Row(("1",), 10, 25.0), Row(("2",), None, None), Row(("3",), None, None)]


def test_a_median_over_everyone(research, parity):
    (row,) = ask(research, Query("maternity", (), "median", "BMI_At_Booking")).rows
    assert row == Row((), 25, 32.5)


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
    assert event.detail["suppressed"] == 2 and event.project == "PRJ-A"
    with pytest.raises(Forbidden):
        ask(research, Query("maternity"), user=research.other_researcher)


def test_a_cross_table_hides_a_partner_in_the_small_cells_row_and_column(research):
    code = cross_table(research, [[20, 15, 30], [12, 3, 25], [10, 9, 40]])
    query = Query("maternity", ("Parity", "Delivery_Mode"), "mean", "BMI_At_Booking")
    result = ask(research, query, code, settings=exact(research))
    shown = {row.groups: row.n for row in result.rows}
    # Parity 2 instrumental (3) takes parity 2 caesarean (12, the smallest in its row) and
    # parity 3 instrumental (9, in its column); caesarean is then left with one, so
    # parity 3 caesarean (10) goes too.
    assert shown == {
        ("1", "caesarean"): 20,
        ("1", "instrumental"): 15,
        ("1", "spontaneous"): 30,
        ("2", "caesarean"): None,
        ("2", "instrumental"): None,
        ("2", "spontaneous"): 25,
        ("3", "caesarean"): None,
        ("3", "instrumental"): None,
        ("3", "spontaneous"): 40,
    }
    assert result.suppressed == 4
    assert all((row.value is None) == (row.n is None) for row in result.rows)


@pytest.mark.parametrize(
    "table",
    [
        [[20, 15, 30], [12, 3, 25], [10, 9, 40]],
        # No one in parity 3 instrumental: the reader sees that combination missing, so
        # it cannot stand in for the partner parity 2 instrumental needs in its column.
        [[20, 15, 30], [12, 3, 25], [10, 0, 40]],
    ],
)
def test_no_cell_of_a_cross_table_can_be_worked_back_from_the_margins(research, table):
    code = cross_table(research, table)
    rule = exact(research)
    both = ask(research, Query("maternity", ("Parity", "Delivery_Mode")), code, settings=rule)
    by_parity = ask(research, Query("maternity", ("Parity",)), code, settings=rule)
    by_mode = ask(research, Query("maternity", ("Delivery_Mode",)), code, settings=rule)
    cells = {row.groups: row.n for row in both.rows}
    cells |= {(p, m): 0 for p in "123" for m in MODES if (p, m) not in cells}  # missing: 0
    rows = {row.groups[0]: row.n for row in by_parity.rows}
    columns = {row.groups[0]: row.n for row in by_mode.rows}
    recovered = {}
    for parity, margin in rows.items():
        recovered |= worked_back({k: n for k, n in cells.items() if k[0] == parity}, margin)
    for mode, margin in columns.items():
        recovered |= worked_back({k: n for k, n in cells.items() if k[1] == mode}, margin)
    assert recovered == {}
    assert cells[("2", "instrumental")] is None


NO_SMALL_COUNT = [[20, 15, 30], [12, 0, 25], [10, 9, 40]]  # parity 2 instrumental: no one


@pytest.mark.parametrize(
    ("group_by", "published"),
    [
        (("Parity",), [(("1",), 65), (("2",), 35), (("3",), 60)]),
        (
            ("Parity", "Delivery_Mode"),
            [
                (("1", "caesarean"), 20),
                (("1", "instrumental"), 15),
                (("1", "spontaneous"), 30),
                (("2", "caesarean"), 10),
                (("2", "spontaneous"), 25),
                (("3", "caesarean"), 10),
                (("3", "instrumental"), 10),
                (("3", "spontaneous"), 40),
            ],
        ),
    ],
)
def test_a_grid_without_a_small_count_is_only_rounded(research, group_by, published):
    # The missing combination is a zero the reader can see, not a suppressed cell: it
    # takes nothing with it.
    result = ask(research, Query("maternity", group_by), cross_table(research, NO_SMALL_COUNT))
    assert result.rows == [Row(groups, n) for groups, n in published]
