"""Quality against ground truth: only accepted links count, and only the right member."""

import pandas as pd
import pytest

from linkage_jobs.quality import Quality, measure

TRUTH = pd.DataFrame({"record_id": ["r1", "r2", "r3", "r4"], "study_id": ["a", "b", "c", "d"]})


def links(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["record_id", "study_id", "method"]).assign(
        match_probability=0.99
    )


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (links(("r1", "a", "exact"), ("r2", "b", "probabilistic")), (1.0, 0.5, 2, 0, 2)),
        (links(("r1", "b", "exact")), (0.0, 0.0, 0, 1, 4)),  # the wrong member
        (links(("r9", "a", "probabilistic")), (0.0, 0.0, 0, 1, 4)),  # not a member's record
        (links(("r1", "a", "clerical")), (1.0, 0.0, 0, 0, 4)),  # undecided: not a link
        (
            links(*((f"r{i}", s, "exact") for i, s in zip(range(1, 5), "abcd", strict=True))),
            (1.0, 1.0, 4, 0, 0),
        ),
    ],
)
def test_measure(found, expected):
    q = measure(found, TRUTH)
    assert (q.precision, q.recall, q.true_pos, q.false_pos, q.false_neg) == expected


def test_f1_is_the_harmonic_mean():
    q = measure(links(("r1", "a", "exact"), ("r9", "a", "exact")), TRUTH)
    assert q == Quality(0.5, 0.25, pytest.approx(1 / 3), 1, 1, 3)


def test_no_links_and_no_truth_are_not_errors():
    assert measure(links(), TRUTH).recall == 0.0
    assert measure(links(), TRUTH.iloc[:0]).f1 == 1.0
