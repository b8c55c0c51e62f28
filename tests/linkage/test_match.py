"""link(): each partner record to at most one member, NHS numbers confirmed, grey zone to
a person; quality on corrupted synthetic data at the default threshold."""

import pandas as pd
import pytest

from cohort.errors import CohortError
from linkage_jobs import link
from linkage_jobs.match import CLERICAL_FLOOR, DEFAULT_THRESHOLD, link_with_model
from linkage_jobs.model import train
from linkage_jobs.quality import measure
from linkage_jobs.synth_partners import CANONICAL, cohort_people, partner_records

KEY = b"k" * 32


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return cohort_people(2_000, seed=11)


@pytest.fixture(scope="module")
def delivery(cohort):
    return partner_records(cohort, rows=10_000, member_share=0.09, seed=12)


@pytest.fixture(scope="module")
def model(cohort, delivery):
    return train(cohort, delivery[0], "maternity")


@pytest.fixture(scope="module")
def links(cohort, delivery, model):
    return link(cohort, delivery[0], model=model, nhs_key=KEY)


def record(record_id: str = "X1", **fields: str | None) -> pd.DataFrame:
    return pd.DataFrame([{"record_id": record_id, **dict.fromkeys(CANONICAL), **fields}])


def with_rows(delivery, *rows: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([delivery[0], *rows], ignore_index=True)


def test_precision_and_recall_at_the_default_threshold(links, delivery):
    quality = measure(links, delivery[1])
    assert quality.precision >= 0.99
    assert quality.recall >= 0.97


def test_one_row_per_record_with_a_known_method(links, cohort):
    assert list(links.columns) == ["record_id", "study_id", "match_probability", "method"]
    assert links["record_id"].is_unique
    assert set(links["method"]) == {"exact", "probabilistic", "clerical"}
    assert links["study_id"].isin(cohort["study_id"]).all()
    accepted = links[links["method"] != "clerical"]
    assert (accepted["match_probability"] >= DEFAULT_THRESHOLD).all()
    clerical = links[links["method"] == "clerical"]
    assert clerical["match_probability"].between(CLERICAL_FLOOR, 1).all()


def test_members_appearing_twice_link_both_times(links, delivery):
    truth = delivery[1]
    twice = truth[truth["study_id"].duplicated(keep=False)]
    found = twice.merge(links, on=["record_id", "study_id"])
    assert len(found) / len(twice) > 0.97


def test_someone_elses_valid_nhs_number_does_not_link_to_them(cohort, delivery, model):
    member, stranger = cohort.iloc[0], cohort_people(1, seed=99).iloc[0]
    row = record(**{**stranger[list(CANONICAL)].to_dict(), "nhs_number": member["nhs_number"]})
    found = link(cohort, with_rows(delivery, row), model=model)
    assert found[found["record_id"] == "X1"].empty


def test_someone_elses_number_on_a_members_row_links_her_as_if_it_were_missing(
    cohort, delivery, model
):
    member, other = cohort.iloc[4], cohort.iloc[5]
    details = member[list(CANONICAL)].to_dict()
    # Her birthday mistyped too: the differing number must not count against her.
    row = record(**{**details, "nhs_number": other["nhs_number"], "date_of_birth": "1901-01-01"})
    found = link(cohort, with_rows(delivery, row), model=model).set_index("record_id")
    assert found.loc["X1", ["study_id", "method"]].tolist() == [member["study_id"], "probabilistic"]


def test_a_namesake_born_the_same_day_does_not_link_automatically(cohort, delivery, model):
    member = cohort.iloc[1]
    other = cohort_people(1, seed=98).iloc[0]
    row = record(
        given_name=member["given_name"],
        family_name=member["family_name"],
        date_of_birth=member["date_of_birth"],
        sex="F",
        nhs_number=other["nhs_number"],
        postcode=other["postcode"] if other["postcode"] != member["postcode"] else "LS29 9ZZ",
    )
    found = link(cohort, with_rows(delivery, row), model=model)
    assert set(found.loc[found["record_id"] == "X1", "method"]) <= {"clerical"}


def test_a_clean_record_links_exactly(cohort, delivery, model):
    member = cohort.iloc[2]
    row = record(**member[list(CANONICAL)].to_dict())
    found = link(cohort, with_rows(delivery, row), model=model).set_index("record_id")
    assert found.loc["X1", "study_id"] == member["study_id"]
    assert found.loc["X1", "method"] == "exact"


def test_without_an_nhs_number_names_birthday_and_postcode_link(cohort, delivery, model):
    member = cohort.iloc[3]
    row = record(**{**member[list(CANONICAL)].to_dict(), "nhs_number": None})
    found = link(cohort, with_rows(delivery, row), model=model).set_index("record_id")
    assert found.loc["X1", ["study_id", "method"]].tolist() == [member["study_id"], "probabilistic"]


@pytest.fixture(scope="module")
def small_cohort() -> pd.DataFrame:
    return cohort_people(500, seed=14)


def test_child_records_link_to_the_mother_through_her_nhs_number(small_cohort):
    cohort = small_cohort
    children, truth = partner_records(
        cohort, rows=2_000, member_share=0.3, seed=13, subject="child"
    )
    found = link(cohort, children)
    quality = measure(found, truth)
    assert quality.precision >= 0.99
    via_number = truth.merge(children, on="record_id").merge(
        cohort[["study_id", "nhs_number"]].rename(columns={"nhs_number": "mother_nhs_number"})
    )
    linked = via_number.merge(found[found["method"] == "exact"], on=["record_id", "study_id"])
    assert len(linked) / len(via_number) > 0.85


def test_a_childs_row_naming_another_mother_at_her_address_goes_to_a_person(small_cohort):
    # Her sister at the same address: the family name and postcode agree, the mother's
    # NHS number on the row is another valid one, and nothing else is compared.
    cohort = small_cohort
    children, _ = partner_records(cohort, rows=2_000, member_share=0.3, seed=13, subject="child")
    member, sister = cohort.iloc[0], cohort_people(1, seed=97).iloc[0]
    row = record(
        family_name=member["family_name"],
        postcode=member["postcode"],
        mother_nhs_number=sister["nhs_number"],
    )
    found = link(cohort, with_rows((children,), row))
    assert set(found.loc[found["record_id"] == "X1", "method"]) <= {"clerical"}


def test_a_stored_key_gives_the_same_links_as_a_random_one(cohort, delivery, model, links):
    again = link(cohort, delivery[0], model=model)
    pd.testing.assert_frame_equal(links, again)


def test_a_model_is_trained_on_the_fly_when_none_is_given(small_cohort):
    records, truth = partner_records(small_cohort, rows=2_000, member_share=0.2, seed=15)
    assert measure(link(small_cohort, records), truth).precision >= 0.99


@pytest.mark.parametrize(
    "source",
    [
        pd.DataFrame(columns=["record_id", *CANONICAL]),
        record(),  # every identifier missing
        record(given_name="A\x00NNA", family_name="K\x00HAN", postcode="\x00"),
        record(given_name="A" * 10_000, family_name="B" * 10_000, date_of_birth="1990-01-01"),
    ],
    ids=["empty file", "no identifiers", "NUL bytes", "10 kB names"],
)
def test_hostile_partner_files_give_a_clear_result(cohort, model, source):
    found = link(cohort, source, model=model)
    assert list(found.columns) == ["record_id", "study_id", "match_probability", "method"]
    assert found.empty


def test_an_empty_cohort_links_nothing(delivery):
    assert link(cohort_people(0, seed=1), delivery[0]).empty


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (pd.DataFrame({"given_name": ["ANNA"]}), "no record_id column"),
        (pd.concat([record(), record()]), "record_id must be unique"),
        (record(record_id=None), "Some rows have no record_id"),
    ],
)
def test_malformed_tables_are_refused_plainly(cohort, model, source, message):
    with pytest.raises(CohortError, match=message):
        link(cohort, source, model=model)


@pytest.mark.parametrize(("threshold", "floor"), [(0, 0.5), (1.5, 0.5), (0.9, 0.95), (0.9, 0)])
def test_thresholds_out_of_range_are_refused(cohort, delivery, model, threshold, floor):
    with pytest.raises(CohortError, match="must be above 0"):
        link(cohort, delivery[0], threshold, model, clerical_floor=floor)


def test_nothing_is_left_on_disk(cohort, delivery, model, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    link(cohort, delivery[0].iloc[:500], model=model)
    assert list(tmp_path.iterdir()) == []


def test_link_with_model_hands_back_the_model_it_trained_for_the_caller_to_store(cohort, delivery):
    found = link_with_model(cohort, delivery[0], nhs_key=KEY, source_name="maternity")
    assert found.model is not None and found.model.source == "maternity"
    again = link(cohort, delivery[0], model=found.model, nhs_key=KEY)
    pd.testing.assert_frame_equal(again, found.matches)


def test_link_with_model_hands_back_a_given_model_unchanged(cohort, delivery, model, links):
    found = link_with_model(cohort, delivery[0], model=model, nhs_key=KEY)
    assert found.model is model
    pd.testing.assert_frame_equal(found.matches, links)
