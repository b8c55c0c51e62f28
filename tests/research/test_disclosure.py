"""The disclosure rule, as a table of cases: what a published table may show."""

import random
from itertools import combinations

import pytest

from cohort.research.disclosure import protect, protect_groups, rate, round_to, statistic

RULE = {"threshold": 7, "rounding": 5}
X = None  # suppressed


@pytest.mark.parametrize(
    ("count", "rounded"),
    [(0, 0), (8, 10), (12, 10), (13, 15), (17, 15), (18, 20), (100, 100)],
)
def test_counts_round_to_the_nearest_five(count, rounded):
    assert round_to(count, 5) == rounded


@pytest.mark.parametrize(
    ("grid", "totals", "published"),
    [
        # Counts of 7 or fewer are suppressed, 8 and more rounded.
        ([[0], [1], [7], [8], [82]], {}, [[X], [X], [X], [10], [80]]),
        # A row adding up to its total: the lone small cell takes the next smallest with it,
        # or consented = approached - declined would give it back.
        ([[3, 50, 53]], {"row_totals": True}, [[X, X, 55]]),
        # Both cells of a row small: both go, and so does the total (it is small too).
        ([[2, 3, 5]], {"row_totals": True}, [[X, X, X]]),
        # A column with a total row: a lone small cell takes the smallest other row.
        ([[40], [5], [20], [65]], {"column_totals": True}, [[40], [X], [X], [65]]),
        # Two small cells in one column already protect each other.
        ([[40], [5], [6], [51]], {"column_totals": True}, [[40], [X], [X], [50]]),
        # Rows and columns together: hiding a second cell in a row can leave its column
        # with a lone suppressed cell, so suppression carries on until none is alone.
        (
            [[3, 30, 33], [40, 50, 90], [43, 80, 123]],
            {"row_totals": True, "column_totals": True},
            [[X, X, 35], [X, X, 90], [45, 80, 125]],
        ),
        # A zero the reader can see (a combination absent from a query result) is known:
        # it is not suppressed, so it cannot stand in for the small cell's partner...
        (
            [[3, 0, 50, 53]],
            {"row_totals": True, "known": frozenset({(0, 1)})},
            [[X, 0, X, 55]],
        ),
        # ... as a suppressed zero would (53 - 50 - 0 = 3 to a reader who knows it is 0).
        ([[3, 0, 50, 53]], {"row_totals": True}, [[X, X, 50, 55]]),
        # A known cell is never taken as the partner either, even when it is the smallest.
        (
            [[40], [5], [0], [20], [65]],
            {"column_totals": True, "known": frozenset({(2, 0)})},
            [[40], [X], [0], [X], [65]],
        ),
        # No totals: only the primary rule applies.
        ([[3, 30, 33]], {}, [[X, 30, 35]]),
    ],
)
def test_suppression_and_rounding(grid, totals, published):
    assert protect(grid, **RULE, **totals) == published


def test_no_suppressed_cell_is_alone_in_any_published_sum():
    grid = [[1, 9, 12, 22], [8, 30, 2, 40], [25, 26, 27, 78], [34, 65, 41, 140]]
    published = protect(grid, **RULE, row_totals=True, column_totals=True)
    lines = [*published, *zip(*published, strict=True)]
    assert all(sum(cell is None for cell in line) != 1 for line in lines)


@pytest.mark.parametrize(
    ("labels", "counts", "published"),
    [
        ([("a",), ("b",), ("c",)], [3, 20, 15], [X, 20, X]),  # the total gives the 3 back
        ([("a",), ("b",)], [30, 20], [30, 20]),
        ([("a",)], [3], [X]),
        ([(1, "x"), (1, "y"), (2, "x")], [12, 40, 9], [10, 40, 10]),
    ],
)
def test_a_groups_count_is_protected_against_its_margins(labels, counts, published):
    assert protect_groups(labels, counts, **RULE) == published


def test_no_suppressed_group_is_alone_in_any_margin():
    """Random three-way tables: every coarser grouping's sum leaves no lone hidden cell."""
    rng = random.Random(5)
    for _ in range(50):
        labels = [(a, b, c) for a in "pq" for b in "rst" for c in "uv" if rng.random() < 0.8]
        counts = [rng.choice([0, 1, 3, 6, 8, 12, 30]) for _ in labels]
        shown = protect_groups(labels, counts, **RULE)
        for size in range(3):
            for kept in combinations(range(3), size):
                margins: dict[tuple, list] = {}
                for label, value in zip(labels, shown, strict=True):
                    margins.setdefault(tuple(label[i] for i in kept), []).append(value)
                for cells in margins.values():
                    assert len(cells) == 1 or sum(v is None for v in cells) != 1, cells


def test_thresholds_come_from_the_caller():
    assert protect([[2], [3], [16]], threshold=2, rounding=10) == [[X], [0], [20]]


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(80, 100, 0.8), (X, 100, None), (80, X, None), (0, 0, None), (0, 10, 0.0)],
)
def test_a_rate_is_withheld_when_its_counts_are(numerator, denominator, expected):
    assert rate(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("value", "count", "expected"), [(3.5, 10, 3.5), (3.5, X, None), (None, 10, None)]
)
def test_a_mean_or_median_is_withheld_when_its_count_is(value, count, expected):
    assert statistic(value, count) == expected
