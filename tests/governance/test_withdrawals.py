"""Withdrawals by level and month, and days from enrolment (her first consent) to each."""

from datetime import date

import pytest
from sqlmodel import Session

from cohort.governance import withdrawals
from tests.governance.seed import NETWORK, at, consents, period, rows_of, updates, withdraw


@pytest.fixture
def withdrawn(net):
    """Four women enrolled at A on 1 March; withdrawals 10, 20, 30 and 100 days later
    (the last in June), one at B; an update of consent must not move her enrolment."""
    e = net.engine
    ids = consents(e, 4, site=net.a, by=net.anna, when=at(3, 1))
    updates(e, ids[:1], site=net.a, by=net.anna, when=at(3, 5))
    withdraw(e, ids[0], "no_contact", net.anna, at(3, 11))
    withdraw(e, ids[1], "no_data", net.anna, at(3, 21))
    withdraw(e, ids[2], "full", net.anna, at(3, 31))
    withdraw(e, ids[3], "full", net.anna, at(6, 9))
    other = consents(e, 1, site=net.b, by=net.cara, when=at(3, 1))
    withdraw(e, other[0], "full", net.cara, at(3, 2))
    return net


def spring(site=None):
    return period(date(2026, 3, 1), date(2026, 6, 30), site)


def test_by_level(withdrawn):
    with Session(withdrawn.engine) as s:
        table = withdrawals.by_level(s, spring(withdrawn.a), NETWORK)
    assert rows_of(table) == {
        "No further contact": (1,),
        "No further data": (1,),
        "Full withdrawal": (2,),
        "Total": (4,),
    }


def test_by_month_and_level(withdrawn):
    with Session(withdrawn.engine) as s:
        table = withdrawals.by_month(s, spring(), NETWORK)
    assert rows_of(table) == {
        "2026-03": (1, 1, 2, 4),
        "2026-04": (0, 0, 0, 0),
        "2026-05": (0, 0, 0, 0),
        "2026-06": (0, 0, 1, 1),
        "Total": (1, 1, 3, 5),
    }


def test_median_days_from_enrolment_to_withdrawal(withdrawn):
    with Session(withdrawn.engine) as s:
        found = withdrawals.time_to_withdrawal(s, spring(withdrawn.a))
        table = withdrawals.by_time_to_withdrawal(s, spring(withdrawn.a), NETWORK)
    assert found.histogram == ((10, 1), (20, 1), (30, 1), (100, 1))
    assert (found.withdrawals, found.median_days) == (4, 25)
    assert rows_of(table)["Under 30 days"] == (2,)
    assert rows_of(table)["30 to 89 days"] == (1,)
    assert rows_of(table)["90 to 364 days"] == (1,)


def test_no_withdrawals_has_no_median(net):
    with Session(net.engine) as s:
        assert withdrawals.time_to_withdrawal(s, spring()).median_days is None


@pytest.mark.parametrize(
    ("histogram", "median"),
    [
        ((), None),
        (((5, 1),), 5),
        (((1, 1), (9, 1)), 5),
        (((1, 2), (9, 1)), 1),
        (((0, 3), (4, 3)), 2),
    ],
)
def test_median_of_a_histogram(histogram, median):
    assert withdrawals.median_of(histogram) == median
