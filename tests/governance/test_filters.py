"""The dashboard's filters: a period and a site, read from the address. Hostile or
mistaken values are refused naming the field; a site lead cannot reach another site."""

from datetime import date

import pytest
from sqlmodel import Session

from cohort.errors import CohortError, Forbidden
from cohort.governance.filters import default_start, parse_filters
from cohort.governance.reach import Reach, reach_of
from tests.governance.seed import NETWORK

TODAY = date(2026, 11, 22)


def parse(net, reach=NETWORK, start="", end="", site=""):
    with Session(net.engine) as s:
        return parse_filters(s, reach, start=start, end=end, site=site, today=TODAY)


def test_the_default_is_the_twelve_months_to_today_across_the_network(net):
    filters = parse(net)
    assert (filters.start, filters.end, filters.site) == (date(2025, 12, 1), TODAY, None)


@pytest.mark.parametrize(
    ("today", "start"),
    [(date(2026, 11, 22), date(2025, 12, 1)), (date(2026, 1, 5), date(2025, 2, 1))],
)
def test_default_start(today, start):
    assert default_start(today) == start


def test_a_chosen_period_and_site(net):
    filters = parse(net, start="2026-03-01", end="2026-03-31", site="sb")
    assert (filters.start, filters.end, filters.site.code) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        "SB",
    )
    assert filters.query() == {"from": "2026-03-01", "to": "2026-03-31", "site": "SB"}


@pytest.mark.parametrize(
    ("given", "field", "says"),
    [
        ({"start": "01/03/2026"}, "from", "year-month-day"),
        ({"end": "2026-02-30"}, "to", "year-month-day"),
        ({"start": "1999-12-31"}, "from", "2000 or later"),
        ({"start": "2026-04-01", "end": "2026-03-01"}, "from", "start on or before"),
        ({"site": "NOWHERE"}, "site", "no such site"),
        ({"start": "x" * 10_000}, "from", "year-month-day"),
        ({"site": "x" * 10_000}, "site", "no such site"),
        ({"start": "2026-03-01'; DROP TABLE consent; --"}, "from", "year-month-day"),
    ],
)
def test_hostile_or_mistaken_filters_are_refused_naming_the_field(net, given, field, says):
    with pytest.raises(CohortError) as refused:
        parse(net, **given)
    assert refused.value.field == field
    assert says in refused.value.message
    assert len(refused.value.message) < 200  # a 10 kB value is not echoed back


def test_a_site_lead_sees_her_site_without_asking(net):
    lead = reach_of(net.lead_a)
    assert lead == Reach(site_id=net.a.id, midwife_names=True)
    assert parse(net, lead).site.code == "SA"
    assert parse(net, lead, site="sa").site.code == "SA"


def test_a_site_lead_asking_for_another_site_is_refused(net):
    with pytest.raises(Forbidden) as refused:
        parse(net, reach_of(net.lead_a), site="SB")
    assert refused.value.field == "site"


@pytest.mark.parametrize("role", ["governance", "admin"])
def test_network_users_see_every_site_and_midwives_as_codes(net, role):
    net.network.role = role
    assert reach_of(net.network) == Reach(site_id=None, midwife_names=False)
