"""Standardisation: one spelling per value, so the same person compares equal."""

from datetime import date, datetime

import nhs_number as nhs_number_library
import numpy as np
import pandas as pd
import pytest

from cohort.nhs_number import is_valid
from linkage_jobs.spec import IDENTIFIER_FIELDS
from linkage_jobs.standardise import standardise

CASES = {
    "given_name": [
        ("Siobhán", "SIOBHAN"),
        ("MRS aisha  khan", "AISHA KHAN"),
        ("Dr. Fatima", "FATIMA"),
        ("Miss", None),
        ("Ms Zoë", "ZOE"),
        ("Mrsala", "MRSALA"),  # a title only as a whole word
        ("Anne-Marie", "ANNE MARIE"),
        ("  jo  ", "JO"),
        ("Łucja", "LUCJA"),  # Polish
        ("Małgorzata", "MALGORZATA"),
        ("Ștefania", "STEFANIA"),  # Romanian, comma below
        ("Şerban", "SERBAN"),  # Romanian, cedilla as many keyboards type it
        ("Ľubica", "LUBICA"),  # Slovak
        ("Ďurica", "DURICA"),
        ("Björk", "BJORK"),
        ("Søren", "SOREN"),
        ("", None),
        ("--", None),
        (None, None),
    ],
    "family_name": [
        ("O'Neill-Brown", "ONEILL BROWN"),
        ("O\u2019Neil", "ONEIL"),  # curly apostrophe
        ("al-hassan", "AL HASSAN"),
        ("Al-Hassan", "AL HASSAN"),
        ("Smith Jones", "SMITH JONES"),
        ("Wałęsa", "WALESA"),
        ("Kováčová", "KOVACOVA"),  # Slovak
        ("Țurcanu", "TURCANU"),  # Romanian
        ("Brzęczyszczykiewicz", "BRZECZYSZCZYKIEWICZ"),
        ("Straße", "STRASSE"),
        ("Dr", "DR"),  # titles are dropped from given names only
        ("Smith2", "SMITH"),
    ],
    "nhs_number": [
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        (" 9434765919 ", "9434765919"),
        ("9434765910", None),  # wrong check digit
        ("943476591", None),  # nine digits
        ("94347659190", None),
        ("943476591X", None),
        ("1111111111", None),  # one digit repeated
        ("0000000000", None),
        ("1000000010", None),  # check digit would be 10: no such number
        (9434765919, "9434765919"),
        ("", None),
    ],
    "mother_nhs_number": [("401 023 2137", "4010232137"), ("4010232138", None)],
    "date_of_birth": [
        ("1990-02-28", "1990-02-28"),
        (date(1990, 2, 1), "1990-02-01"),
        (datetime(1990, 2, 1, 13, 5), "1990-02-01"),
        (pd.Timestamp("1990-03-01"), "1990-03-01"),
        ("1990-02-30", None),
        ("28/02/1990", None),  # validation turns partners' formats into ISO first
        ("", None),
    ],
    "sex": [
        ("F", "F"),
        ("f", "F"),
        ("Female", "F"),
        ("FEMALE", "F"),
        ("2", "F"),
        (2, "F"),
        ("M", "M"),
        ("male", "M"),
        ("1", "M"),
        ("0", None),
        ("9", None),
        ("U", None),
        ("", None),
    ],
    "postcode": [
        ("bd5 0na", "BD5 0NA"),
        ("BD50NA", "BD5 0NA"),
        (" bd5  0na ", "BD5 0NA"),
        ("LS29 8AB", "LS29 8AB"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("M1 1AE", "M1 1AE"),
        ("BD5", None),  # outward code only
        ("BD5 0NC", None),  # C is never in an inward code
        ("not known", None),
        ("12345", None),
    ],
    "address": [
        ("12, High St.", "12 HIGH ST"),
        ("Flat 3/2  Manor  Row", "FLAT 3 2 MANOR ROW"),
        ("St John's Close", "ST JOHNS CLOSE"),
        ("ul. Łódzka 5", "UL LODZKA 5"),
        (" ", None),
    ],
}
TABLE = [(field, raw, want) for field, pairs in CASES.items() for raw, want in pairs]


@pytest.mark.parametrize(("field", "raw", "want"), TABLE)
def test_each_identifier_has_one_spelling(field: str, raw: object, want: str | None) -> None:
    records = pd.DataFrame({field: pd.Series([raw], dtype=object)})
    assert standardise(records)[field].tolist() == [want]


def frame_of_every_case() -> pd.DataFrame:
    longest = max(len(pairs) for pairs in CASES.values())
    columns = {
        field: [raw for raw, _ in pairs] + [None] * (longest - len(pairs))
        for field, pairs in CASES.items()
    }
    return pd.DataFrame(columns, dtype=object, index=range(100, 100 + longest))


def test_standardising_twice_changes_nothing() -> None:
    once = standardise(frame_of_every_case())
    pd.testing.assert_frame_equal(standardise(once), once)


def test_rows_index_and_other_columns_are_kept_and_missing_fields_added() -> None:
    records = pd.DataFrame(
        {"record_id": ["b", "a"], "given_name": ["Aisha", None], "Weight": [3, 4]},
        index=[7, 3],
    )
    out = standardise(records)
    assert out.index.tolist() == [7, 3]
    assert out["record_id"].tolist() == ["b", "a"]
    assert out["Weight"].tolist() == [3, 4]
    assert out["given_name"].tolist() == ["AISHA", None]
    assert set(IDENTIFIER_FIELDS) <= set(out.columns)
    assert out["postcode"].tolist() == [None, None]
    assert records.columns.tolist() == ["record_id", "given_name", "Weight"]  # input untouched


def test_missing_values_are_none_whatever_the_input_dtype() -> None:
    records = pd.DataFrame({"family_name": pd.Series(["Khan", None], dtype="str")})
    assert standardise(records)["family_name"].tolist() == ["KHAN", None]
    assert standardise(records)["family_name"].dtype == object


def test_nhs_number_check_agrees_with_the_cohort_rule() -> None:
    """The vectorised check digit is the same rule as cohort.nhs_number, number by number."""
    rng = np.random.default_rng(4)
    numbers = [f"{n:010d}" for n in rng.integers(0, 10**10, 3000)]
    numbers += nhs_number_library.generate(quantity=500)
    got = standardise(pd.DataFrame({"nhs_number": numbers}, dtype=object))["nhs_number"]
    assert [value is not None for value in got] == [is_valid(n) for n in numbers]


def test_an_empty_frame_gets_every_field() -> None:
    out = standardise(pd.DataFrame({"record_id": pd.Series([], dtype=object)}))
    assert out.empty and set(IDENTIFIER_FIELDS) <= set(out.columns)
