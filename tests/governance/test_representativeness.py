"""Who joins against who was approached and against all births: shares of each group and
the gaps between them."""

import csv
import io
from datetime import date

from sqlmodel import Session

from cohort.db import session_scope
from cohort.governance import births as births_module
from cohort.governance import representativeness
from cohort.governance.csv_export import table_csv
from cohort.models import BirthCount
from tests.governance.seed import NETWORK, at, consents, declines, march, period, shown


def test_an_under_reached_group_shows_a_negative_gap(net, published_form):
    e = net.engine
    consents(e, 60, site=net.a, by=net.anna, when=at(3, 2), ethnicity="white_british")
    consents(e, 20, site=net.a, by=net.anna, when=at(3, 2), ethnicity="pakistani")
    declines(e, 10, site=net.a, by=net.anna, when=at(3, 3), ethnicity="white_british")
    declines(e, 30, site=net.a, by=net.anna, when=at(3, 3), ethnicity="pakistani")
    with Session(e) as s:
        table = representativeness.by_ethnicity(s, march(), NETWORK)
    rows = shown(table)
    pakistani = rows["Asian, Asian British or Asian Welsh: Pakistani"]
    white = rows["White: English, Welsh, Scottish, Northern Irish or British"]
    # 20 of 80 consented (25%) against 50 of 120 approached (41.7%).
    assert pakistani == ["20", "30", "50", "25.0%", "41.7%", "-16.7"]
    assert white == ["60", "10", "70", "75.0%", "58.3%", "+16.7"]


def test_no_births_column_until_a_maternity_dataset_is_linked(net):
    with Session(net.engine) as s:
        assert representativeness.births_by(s, march(), "ethnicity") is None


# All births, from the maternity files' counts (BirthCount), beside the consented and the
# approached. Counts are inserted directly, as linkage_jobs.births writes them.

WHITE = "White: English, Welsh, Scottish, Northern Irish or British"
PAKISTANI = "Asian, Asian British or Asian Welsh: Pakistani"
BANGLADESHI = "Asian, Asian British or Asian Welsh: Bangladeshi"


def births(e, month: str, n: int, *, ethnicity="", age_band="", site=None, sha="f" * 64):
    with session_scope(e) as s:
        s.add(
            BirthCount(
                source="maternity",
                file_sha256=sha,
                site_id=site.id if site else None,
                month=month,
                age_band=age_band,
                ethnicity=ethnicity,
                births=n,
            )
        )


def march_mix(e, net):
    """80 of 120 approached consented; 1,000 births in March: 400 White British, 500
    Pakistani, 100 Bangladeshi (nobody Bangladeshi approached)."""
    consents(e, 60, site=net.a, by=net.anna, when=at(3, 2), ethnicity="white_british")
    consents(e, 20, site=net.a, by=net.anna, when=at(3, 2), ethnicity="pakistani")
    declines(e, 10, site=net.a, by=net.anna, when=at(3, 3), ethnicity="white_british")
    declines(e, 30, site=net.a, by=net.anna, when=at(3, 3), ethnicity="pakistani")
    births(e, "2026-03", 400, ethnicity="white_british", age_band="25_29")
    births(e, "2026-03", 500, ethnicity="pakistani", age_band="25_29")
    births(e, "2026-03", 100, ethnicity="bangladeshi", age_band="30_34")
    births(e, "2026-04", 999, ethnicity="pakistani", age_band="25_29")  # outside March


def test_births_share_sits_beside_the_consented_and_approached(net, published_form):
    e = net.engine
    march_mix(e, net)
    with Session(e) as s:
        table = representativeness.by_ethnicity(s, march(), NETWORK)
    assert table.header == (
        "Ethnicity",
        "Consented",
        "Declined",
        "Approached",
        "Births",
        "Share of consented",
        "Share of approached",
        "Share of births",
        "Difference (points)",
        "Consented against births (points)",
    )
    rows = shown(table)
    # Pakistani: 25% of consented, 41.7% of approached, 50% of births: 25 points short.
    assert rows[PAKISTANI] == ["20", "30", "50", "500", "25.0%", "41.7%", "50.0%", "-16.7", "-25.0"]
    assert rows[WHITE] == ["60", "10", "70", "400", "75.0%", "58.3%", "40.0%", "+16.7", "+35.0"]
    # Nobody Bangladeshi was approached: the group most under-reached still has its row.
    assert rows[BANGLADESHI] == ["0", "0", "0", "100", "0.0%", "0.0%", "10.0%", "+0.0", "-10.0"]
    assert rows["Total"][:4] == ["80", "40", "120", "1000"]


def test_births_by_age_band_counts_each_band_of_the_months(net, published_form):
    e = net.engine
    for band in ("16_19", "20_24", "25_29", "30_34", "35_39", "40_50"):
        births(e, "2026-03", 25, age_band=band)
    births(e, "2026-03", 10)  # age not known
    with Session(e) as s:
        assert representativeness.births_by(s, march(), "age_band") == {
            "16_19": 25,
            "20_24": 25,
            "25_29": 25,
            "30_34": 25,
            "35_39": 25,
            "40_50": 25,
            None: 10,
        }
        table = representativeness.by_age_band(s, march(), NETWORK)
    rows = shown(table)
    assert rows["25 to 29"][3:5] == ["25", "No approaches"]
    assert rows["25 to 29"][6] == "15.6%"  # 25 of 160
    assert rows["Not recorded"][3] == "10"


def test_a_period_touching_part_of_a_month_takes_its_births_whole(net):
    births(net.engine, "2026-03", 40, ethnicity="pakistani")
    with Session(net.engine) as s:
        assert representativeness.births_by(
            s, period(date(2026, 3, 31), date(2026, 4, 2)), "ethnicity"
        ) == {"pakistani": 40}


def test_an_empty_period_has_no_births_and_divides_by_nothing(net, published_form):
    e = net.engine
    births(e, "2026-03", 40, ethnicity="pakistani")
    january = period(date(2026, 1, 1), date(2026, 1, 31))
    with Session(e) as s:
        assert representativeness.births_by(s, january, "ethnicity") == {}
        table = representativeness.by_ethnicity(s, january, NETWORK)
    assert table.header[4] == "Births"
    assert shown(table)["Total"] == [
        "0",
        "0",
        "0",
        "0",
        "No approaches",
        "No approaches",
        "No births",
        "No approaches",
        "No births",
    ]


def test_births_not_mapped_to_a_site_are_the_networks(net, published_form):
    e = net.engine
    births(e, "2026-03", 40, ethnicity="pakistani")
    with Session(e) as s:
        assert births_module.network_wide(s, march(net.a))
        assert not births_module.network_wide(s, march())
        assert representativeness.births_by(s, march(net.a), "ethnicity") == {"pakistani": 40}


def test_births_mapped_to_a_site_are_that_sites_only(net, published_form):
    e = net.engine
    births(e, "2026-03", 40, ethnicity="pakistani", site=net.a, sha="a" * 64)
    births(e, "2026-03", 7, ethnicity="pakistani", site=net.b, sha="b" * 64)
    with Session(e) as s:
        assert not births_module.network_wide(s, march(net.a))
        assert representativeness.births_by(s, march(net.a), "ethnicity") == {"pakistani": 40}
        assert representativeness.births_by(s, march(), "ethnicity") == {"pakistani": 47}


def test_published_births_pass_through_disclosure_control(net, published_form):
    e = net.engine
    march_mix(e, net)
    births(e, "2026-03", 3, ethnicity="roma", age_band="20_24")
    with Session(e) as s:
        table = representativeness.by_ethnicity(s, march(), NETWORK)
    text = table_csv(table, publishable=True, threshold=7, rounding=5)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(text))}
    # Roma's 3 births are hidden, and so is the next smallest births count (Bangladeshi's
    # 100), so the total of 1,003 does not give them back; the rest are rounded to 5.
    assert rows["White: Roma"][3] == "suppressed"
    assert rows[BANGLADESHI][3] == "suppressed"
    assert rows[PAKISTANI][3] == "500" and rows["Total"][3] == "1005"
    assert rows["White: Roma"][6] == "suppressed"  # its share of births is withheld
