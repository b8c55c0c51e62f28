"""Who joins by area deprivation: IMD 2019 quintiles (1 most deprived) of the deciles kept
on consents and birth counts, beside the approached and all births, once a
postcode-to-IMD lookup is loaded; nothing to show before."""

import csv
import io

from sqlmodel import Session

from cohort.db import session_scope
from cohort.governance import representativeness, rollup
from cohort.governance.csv_export import table_csv
from cohort.models import BirthCount, ImdLookup
from tests.governance.seed import NETWORK, at, consents, declines, march, shown

MOST, LEAST = "1 (most deprived)", "5 (least deprived)"


def lookup_loaded(e) -> None:
    with session_scope(e) as s:
        s.add(ImdLookup(file_name="imd.csv", sha256="0" * 64, rows=2, loaded_by="test"))


def births(e, n: int, decile: str, month: str = "2026-03", sha: str = "f" * 64) -> None:
    with session_scope(e) as s:
        s.add(
            BirthCount(
                source="maternity",
                file_sha256=sha,
                month=month,
                age_band="25_29",
                ethnicity="",
                imd_decile=decile,
                births=n,
            )
        )


def march_by_deprivation(e, net) -> None:
    """At site A in March: 30 consents in decile 1 and 10 in decile 2 (quintile 1), 20 in
    decile 9 (quintile 5), 40 declines (no postcode asked: not recorded); 1,000 births in
    March, 600 in quintile 1 (400 decile 1, 200 decile 2) and 300 in quintile 5, 100 not known."""
    consents(e, 30, site=net.a, by=net.anna, when=at(3, 2), imd_decile=1)
    consents(e, 10, site=net.a, by=net.anna, when=at(3, 2), imd_decile=2)
    consents(e, 20, site=net.a, by=net.anna, when=at(3, 9), imd_decile=9)
    declines(e, 40, site=net.a, by=net.anna, when=at(3, 3))
    births(e, 400, "1")
    births(e, 200, "2", sha="e" * 64)
    births(e, 300, "10")
    births(e, 100, "")
    births(e, 999, "1", month="2026-04", sha="d" * 64)  # outside March


def test_consents_and_births_are_reported_by_imd_quintile(net):
    e = net.engine
    lookup_loaded(e)
    march_by_deprivation(e, net)
    with Session(e) as s:
        table = representativeness.by_deprivation(s, march(net.a), NETWORK)
    assert table.columns[0] == "IMD quintile"
    rows = shown(table)
    assert list(rows) == [MOST, LEAST, "Not recorded", "Total"]
    # Quintile 1: 40 of 60 consented (66.7%) against 600 of 1,000 births (60%).
    assert rows[MOST] == ["40", "0", "40", "600", "66.7%", "40.0%", "60.0%", "+26.7", "+6.7"]
    assert rows[LEAST] == ["20", "0", "20", "300", "33.3%", "20.0%", "30.0%", "+13.3", "+3.3"]
    assert rows["Not recorded"][:4] == ["0", "40", "40", "100"]
    assert rows["Total"][:4] == ["60", "40", "100", "1000"]


def test_the_rolled_up_months_give_the_same_quintiles_as_the_raw_rows(net):
    e = net.engine
    lookup_loaded(e)
    march_by_deprivation(e, net)
    with Session(e) as s:
        raw = shown(representativeness.by_deprivation(s, march(), NETWORK))
    with session_scope(e) as s:
        rollup.roll_up(s)
    with Session(e) as s:
        assert shown(representativeness.by_deprivation(s, march(), NETWORK)) == raw


def test_with_no_lookup_loaded_there_is_no_deprivation_table(net):
    e = net.engine
    march_by_deprivation(e, net)
    with Session(e) as s:
        assert representativeness.by_deprivation(s, march(), NETWORK).rows == ()


def test_published_quintiles_pass_through_disclosure_control(net):
    e = net.engine
    lookup_loaded(e)
    march_by_deprivation(e, net)
    consents(e, 3, site=net.a, by=net.anna, when=at(3, 4), imd_decile=5)  # quintile 3
    with Session(e) as s:
        table = representativeness.by_deprivation(s, march(), NETWORK)
    text = table_csv(table, publishable=True, threshold=7, rounding=5)
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(text))}
    assert rows["3"][0] == "suppressed"  # 3 consents in quintile 3
    assert rows[MOST][3] == "600" and rows["Total"][3] == "1000"
