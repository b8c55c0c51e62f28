"""Stored models: trained once, saved as readable versioned files, reloaded to give the
same links, and never holding an identifier."""

import json
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from cohort.errors import CohortError
from linkage_jobs.match import link
from linkage_jobs.model import LinkageModel, load_latest, save, train
from linkage_jobs.synth_partners import CANONICAL, cohort_people, partner_records


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return cohort_people(600, seed=21)


@pytest.fixture(scope="module")
def records(cohort) -> pd.DataFrame:
    return partner_records(cohort, rows=3_000, member_share=0.2, seed=22)[0]


@pytest.fixture(scope="module")
def model(cohort, records) -> LinkageModel:
    return train(cohort, records, "maternity")


def test_a_trained_model_says_what_and_when(model, cohort, records):
    assert model.source == "maternity"
    assert model.training_rows == len(cohort) + len(records)
    assert len(model.version) == 12
    levels = [lvl for c in model.settings["comparisons"] for lvl in c["comparison_levels"]]
    trained = [lvl for lvl in levels if not lvl.get("is_null_level")]
    assert all(0 < lvl["m_probability"] <= 1 and 0 < lvl["u_probability"] <= 1 for lvl in trained)


def test_training_is_reproducible(model, cohort, records):
    assert train(cohort, records, "maternity").version == model.version


def test_save_and_load_round_trip_gives_the_same_links(model, cohort, records, tmp_path):
    path = save(model, tmp_path)
    assert path == tmp_path / "maternity" / f"{model.version}.json"
    loaded = load_latest(tmp_path, "maternity")
    assert loaded == model
    pd.testing.assert_frame_equal(
        link(cohort, records, model=model, nhs_key=b"k"),
        link(cohort, records, model=loaded, nhs_key=b"k"),
    )


def test_the_latest_trained_model_is_loaded(model, tmp_path):
    newer = replace(model, version="b" * 12, trained_at=model.trained_at + timedelta(days=1))
    save(newer, tmp_path)
    save(model, tmp_path)
    assert load_latest(tmp_path, "maternity") == newer
    assert load_latest(tmp_path, "gp_registrations") is None


def test_a_stored_model_holds_no_identifier(model, cohort, records, tmp_path):
    text = save(model, tmp_path).read_text()
    people = pd.concat([cohort, records])
    values = {str(v) for column in CANONICAL for v in people[column].dropna().unique()}
    assert not [v for v in values if len(v) > 3 and v in text]
    assert json.loads(text)["settings"]["link_type"] == "link_only"


@pytest.mark.parametrize("name", ["", "../etc", "Maternity", "a/b"])
def test_source_names_that_are_not_folder_names_are_refused(model, tmp_path, name):
    with pytest.raises(CohortError, match="is not a source name"):
        save(replace(model, source=name), tmp_path)
    with pytest.raises(CohortError, match="is not a source name"):
        load_latest(tmp_path, name)


def test_an_unreadable_stored_model_is_named_with_the_fix(tmp_path):
    (tmp_path / "maternity").mkdir()
    (tmp_path / "maternity" / "abc.json").write_text("{not json")
    with pytest.raises(CohortError, match=r"abc\.json .*cohort link train maternity"):
        load_latest(tmp_path, "maternity")


def test_training_without_identifiers_is_refused_plainly(cohort):
    blank = pd.DataFrame({"record_id": ["1", "2"]})
    with pytest.raises(CohortError, match="no identifiers"):
        train(cohort, blank, "maternity")
