"""Consent rates on a network whose answers are known by construction: 80 consents and 20
declines at site A in March, updates that must not count twice, a site with only
declines, an empty month, and the site-lead rule for midwives' names."""

from datetime import date

import pytest
from sqlmodel import Session

from cohort.governance import consent_rates
from cohort.governance.reach import Reach
from tests.governance.seed import (
    NETWORK,
    at,
    consents,
    declines,
    march,
    period,
    rows_of,
    shown,
    updates,
)


@pytest.fixture
def march_at_a(net):
    """80 consents (50 by Anna, 30 by Beth) and 20 declines at A in March, 10 of the
    consented updating their consent in March too; 15 declines only at C."""
    e = net.engine
    anna = consents(e, 50, site=net.a, by=net.anna, when=at(3, 2), language="en")
    consents(
        e,
        30,
        site=net.a,
        by=net.beth,
        when=at(3, 16),
        language="ur",
        ethnicity="pakistani",
        age_band="30_34",
    )
    declines(e, 12, site=net.a, by=net.anna, when=at(3, 3), language="en")
    declines(
        e,
        8,
        site=net.a,
        by=net.beth,
        when=at(3, 17),
        language="pl",
        ethnicity=None,
        age_band="20_24",
    )
    updates(e, anna[:10], site=net.a, by=net.beth, when=at(3, 20))
    declines(e, 15, site=net.c, by=net.dora, when=at(3, 10))
    return net


def build(fn, net, filters, reach=NETWORK):
    with Session(net.engine) as s:
        return fn(s, filters, reach)


def test_site_a_in_march_is_80_of_100_and_updates_do_not_count_twice(march_at_a):
    table = build(consent_rates.by_site, march_at_a, march())
    assert rows_of(table)["Site SA (SA)"] == (80, 20, 100)
    assert shown(table)["Site SA (SA)"][-1] == "80.0%"


def test_a_site_with_only_declines_has_a_rate_of_nought(march_at_a):
    table = build(consent_rates.by_site, march_at_a, march())
    assert rows_of(table)["Site SC (SC)"] == (0, 15, 15)
    assert shown(table)["Site SC (SC)"][-1] == "0.0%"
    assert rows_of(table)["Total"] == (80, 35, 115)


def test_an_empty_period_shows_no_approaches_rather_than_dividing_by_zero(march_at_a):
    table = build(consent_rates.by_site, march_at_a, period(date(2026, 1, 1), date(2026, 1, 31)))
    assert rows_of(table) == {"Total": (0, 0, 0)}
    assert shown(table)["Total"][-1] == "No approaches"


def test_by_month_lists_every_month_of_the_period_empty_ones_too(march_at_a):
    table = build(
        consent_rates.by_month,
        march_at_a,
        period(date(2026, 2, 1), date(2026, 4, 30), march_at_a.a),
    )
    assert rows_of(table) == {
        "2026-02": (0, 0, 0),
        "2026-03": (80, 20, 100),
        "2026-04": (0, 0, 0),
        "Total": (80, 20, 100),
    }
    assert shown(table)["2026-02"][-1] == "No approaches"


def test_by_week_buckets_by_monday(march_at_a):
    table = build(consent_rates.by_week, march_at_a, march(march_at_a.a))
    rows = rows_of(table)
    assert rows["2026-03-02"] == (50, 12, 62)  # Monday 2 and Tuesday 3 March
    assert rows["2026-03-16"] == (30, 8, 38)
    assert rows["2026-02-23"] == (0, 0, 0)  # the week holding 1 March starts in February
    assert rows["Total"] == (80, 20, 100)


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (
            consent_rates.by_language,
            {"English": (50, 12, 62), "Urdu": (30, 0, 30), "Polish": (0, 8, 8)},
        ),
        (
            consent_rates.by_ethnicity,
            {
                "Asian, Asian British or Asian Welsh: Pakistani": (30, 0, 30),
                "White: English, Welsh, Scottish, Northern Irish or British": (50, 12, 62),
                "Not recorded": (0, 8, 8),
            },
        ),
        (
            consent_rates.by_age_band,
            {"20 to 24": (0, 8, 8), "25 to 29": (50, 12, 62), "30 to 34": (30, 0, 30)},
        ),
    ],
)
def test_splits_count_each_woman_once_by_her_enrolment(march_at_a, published_form, fn, expected):
    table = build(fn, march_at_a, march(march_at_a.a))
    assert rows_of(table) == {**expected, "Total": (80, 20, 100)}


def test_network_view_shows_midwives_as_codes_never_names(march_at_a):
    table = build(consent_rates.by_midwife, march_at_a, march())
    assert rows_of(table) == {
        "SA-M01": (50, 12, 62),
        "SA-M02": (30, 8, 38),
        "SC-M01": (0, 15, 15),
        "Total": (80, 35, 115),
    }


def test_a_site_lead_sees_her_own_midwives_by_name_and_no_one_else(march_at_a):
    lead = Reach(site_id=march_at_a.a.id, midwife_names=True)
    table = build(consent_rates.by_midwife, march_at_a, march(march_at_a.a), lead)
    assert rows_of(table) == {
        "Anna Able": (50, 12, 62),
        "Beth Baker": (30, 8, 38),
        "Total": (80, 20, 100),
    }
