"""Synthetic partner files: realistic corruption at the rates declared, with true answers."""

import pandas as pd
import pytest

from cohort.nhs_number import is_valid
from linkage_jobs.synth_partners import CANONICAL, cohort_children, cohort_people, partner_records


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return cohort_people(2_000, seed=1)


@pytest.fixture(scope="module")
def mothers(cohort):
    return partner_records(cohort, rows=20_000, member_share=0.5, seed=2)


def test_cohort_people_are_clean_distinct_mothers(cohort):
    assert list(cohort.columns) == ["study_id", *CANONICAL]
    assert cohort["study_id"].is_unique and cohort["nhs_number"].is_unique
    assert cohort["nhs_number"].map(is_valid).all()
    assert cohort["nhs_number"].str.startswith("9").all()  # the synthetic range
    assert (cohort["sex"] == "F").all() and cohort["mother_nhs_number"].isna().all()
    assert pd.to_datetime(cohort["date_of_birth"], format="%Y-%m-%d").notna().all()


def test_same_seed_same_people():
    pd.testing.assert_frame_equal(cohort_people(50, seed=3), cohort_people(50, seed=3))


def test_partner_file_shape_and_truth(cohort, mothers):
    records, truth = mothers
    assert list(records.columns) == ["record_id", *CANONICAL]
    assert len(records) == 20_000 and records["record_id"].is_unique
    assert len(truth) == 10_000 and set(truth["record_id"]) <= set(records["record_id"])
    assert set(truth["study_id"]) <= set(cohort["study_id"])
    assert truth["study_id"].duplicated().any()  # some members appear twice


def _members(cohort, records, truth) -> pd.DataFrame:
    return truth.merge(records, on="record_id").merge(cohort, on="study_id", suffixes=("", "_true"))


@pytest.mark.parametrize(
    ("column", "low", "high"),
    [
        ("nhs_number", 0.86, 0.94),  # ~10% missing, mistyped or someone else's
        ("date_of_birth", 0.93, 0.99),  # day/month swaps and slips
        ("postcode", 0.70, 0.90),  # moved, or typed in lower case
        ("family_name", 0.70, 0.90),  # typos, married names, hyphenation, lower case
    ],
)
def test_member_rows_are_corrupted_at_realistic_rates(cohort, mothers, column, low, high):
    members = _members(cohort, *mothers)
    assert low <= (members[column] == members[f"{column}_true"]).mean() <= high


def test_wrong_nhs_numbers_include_other_members_valid_numbers(cohort, mothers):
    members = _members(cohort, *mothers)
    wrong = members[
        members["nhs_number"].notna() & (members["nhs_number"] != members["nhs_number_true"])
    ]
    others = wrong["nhs_number"].isin(cohort["nhs_number"])
    assert others.sum() > 0 and (~wrong["nhs_number"][~others].map(is_valid)).mean() > 0.7


def test_near_namesakes_share_a_members_names_and_birthday_but_are_not_members(cohort, mothers):
    records, truth = mothers
    outsiders = records[~records["record_id"].isin(truth["record_id"])]
    keys = ["given_name", "family_name", "date_of_birth"]
    namesakes = outsiders.merge(cohort, on=keys, suffixes=("", "_member"))
    assert len(namesakes) >= 40
    assert (namesakes["nhs_number"] != namesakes["nhs_number_member"]).all()


def test_child_records_carry_the_mothers_number(cohort):
    records, truth = partner_records(cohort, rows=2_000, member_share=0.5, seed=4, subject="child")
    rows = truth.merge(records, on="record_id").merge(cohort, on="study_id", suffixes=("", "_mum"))
    assert (rows["mother_nhs_number"] == rows["nhs_number_mum"]).mean() > 0.7
    assert not rows["nhs_number"].isin(cohort["nhs_number"]).any()  # her own number
    assert set(rows["sex"]) == {"F", "M"}
    assert (rows["date_of_birth"] > "2019-12-31").all()


def test_a_members_child_is_the_same_child_in_every_delivery(cohort):
    def own(seed: int) -> pd.DataFrame:
        records, truth = partner_records(
            cohort, rows=2_000, member_share=0.5, seed=seed, subject="child"
        )
        rows = truth.merge(records, on="record_id")
        return rows[["study_id", "date_of_birth", "sex"]].drop_duplicates("study_id")

    both = own(5).merge(own(6), on="study_id", suffixes=("", "_later"))
    assert len(both) > 100
    assert (both["date_of_birth"] == both["date_of_birth_later"]).all()
    assert (both["sex"] == both["sex_later"]).all()
    known = cohort_children(cohort)
    assert known.index.is_unique and set(known.index) == set(cohort["study_id"])


def test_an_empty_cohort_gives_only_outsiders():
    empty = cohort_people(0, seed=1)
    records, truth = partner_records(empty, rows=100, member_share=0.5, seed=1)
    assert len(records) == 100 and truth.empty
