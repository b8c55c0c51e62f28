"""Tables as CSV: formula injection neutralised; the publishable copy under disclosure
control, its rates recomputed from what is left."""

import csv
import io

from cohort.governance.approaches import Approaches
from cohort.governance.consent_rates import rate_table
from cohort.governance.csv_export import table_csv

RULE = {"threshold": 7, "rounding": 5}


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def sites(**rows: Approaches):
    return rate_table("t", "T", "Site", list(rows.items()))


def test_a_hostile_label_arrives_as_text():
    table = sites(**{"=cmd|' /C calc'!A0": Approaches(80, 20)})
    rows = read(table_csv(table, publishable=False, **RULE))
    assert rows[0] == ["Site", "Consented", "Declined", "Approached", "Consent rate"]
    assert rows[1] == ["'=cmd|' /C calc'!A0", "80", "20", "100", "80.0%"]


def test_the_plain_copy_is_the_table_as_shown():
    rows = read(table_csv(sites(A=Approaches(0, 0)), publishable=False, **RULE))
    assert rows[1] == ["A", "0", "0", "0", "No approaches"]


def test_the_publishable_copy_suppresses_rounds_and_withholds_rates():
    table = sites(
        A=Approaches(83, 20), B=Approaches(3, 40), C=Approaches(50, 30), D=Approaches(61, 33)
    )
    by_site = {row[0]: row[1:] for row in read(table_csv(table, publishable=True, **RULE))[1:]}
    # B's 3 consents are hidden, and with them enough other cells that neither her row's
    # total nor the column's total gives them back; her rate is withheld.
    assert by_site["B"] == ["suppressed", "suppressed", "45", "suppressed"]
    hidden = [cell for row in by_site.values() for cell in row[:3] if cell == "suppressed"]
    assert len(hidden) == 6
    # What is shown is rounded to 5, and the rate is worked out from the rounded counts.
    assert by_site["D"] == ["60", "35", "95", "63.2%"]
    assert by_site["Total"] == ["195", "125", "320", "60.9%"]
