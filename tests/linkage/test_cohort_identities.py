"""The cohort side of a linkage: only the participants whose consent covers the source
now, their identities decrypted in memory in the canonical columns."""

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from cohort import synth
from cohort.models import Participant
from cohort.scope import consent_scope
from linkage_jobs.cohort_identities import consented, everyone, load_cohort
from linkage_jobs.coverage import COVERING_ITEM, covering_item
from tests.linkage.linkage_world import LinkageWorld, world_fixture

HEALTH_ONLY = ["link_mother_health"]
BABY_ONLY = ["link_baby_health"]
COUNCIL_ONLY = ["link_council"]
CONTACT_ONLY = ["contact"]


@pytest.fixture
def linkage(db_url, tmp_path) -> Iterator[LinkageWorld]:
    yield from world_fixture(db_url, tmp_path, mothers=0)


@pytest.mark.parametrize(
    ("source", "item"),
    [
        ("maternity", "link_mother_health"),
        ("gp_registrations", "link_mother_health"),
        ("birth_notifications", "link_baby_health"),
        ("school_census", "link_council"),
        ("childrens_social_care", "link_council"),
    ],
)
def test_each_shipped_source_is_covered_by_one_consent_item(linkage, source, item):
    assert covering_item(linkage.specs[source]) == item


def test_every_subject_and_kind_has_a_covering_item():
    assert set(COVERING_ITEM) == {
        (s, k) for s in ("mother", "child") for k in ("health", "council")
    }


def _enrol(linkage, items_by_name: dict[str, list[str]]) -> dict[str, str]:
    people = synth.mothers(11, len(items_by_name))
    return {
        name: linkage.enrol(m, items)
        for (name, items), m in zip(items_by_name.items(), people, strict=True)
    }


@pytest.mark.parametrize(
    ("source", "included"),
    [
        ("maternity", {"health"}),
        ("birth_notifications", {"baby"}),
        ("school_census", {"council"}),
    ],
)
def test_only_participants_whose_consent_covers_the_source_are_loaded(linkage, source, included):
    ids = _enrol(
        linkage,
        {
            "health": HEALTH_ONLY,
            "baby": BABY_ONLY,
            "council": COUNCIL_ONLY,
            "contact": CONTACT_ONLY,
        },
    )
    cohort = load_cohort(linkage.instance.engine, linkage.instance.keys, linkage.specs[source])
    assert set(cohort.frame["study_id"]) == {ids[name] for name in included}
    assert set(cohort.participant_ids) == {ids[name] for name in included}


def test_identities_are_decrypted_into_the_canonical_columns(linkage):
    (study_id,) = _enrol(linkage, {"her": HEALTH_ONLY}).values()
    mother = linkage.mothers[study_id]
    engine, keys = linkage.instance.engine, linkage.instance.keys
    row = load_cohort(engine, keys, linkage.specs["maternity"]).frame.iloc[0]
    assert row["study_id"] == study_id
    assert row["nhs_number"] == mother.nhs_number
    assert (row["given_name"], row["family_name"]) == (mother.given_name, mother.family_name)
    assert row["date_of_birth"] == mother.date_of_birth.isoformat()
    assert row["sex"] == "F" and row["mother_nhs_number"] is None


def test_a_withdrawal_takes_her_out_of_the_next_load(linkage):
    (study_id,) = _enrol(linkage, {"her": HEALTH_ONLY}).values()
    linkage.withdraw(study_id, "no_data")
    engine, keys = linkage.instance.engine, linkage.instance.keys
    assert load_cohort(engine, keys, linkage.specs["maternity"]).frame.empty
    assert list(everyone(engine, keys).frame["study_id"]) == [study_id]


def test_a_withdrawal_after_a_load_counts_at_the_next_load(linkage):
    (study_id,) = _enrol(linkage, {"her": HEALTH_ONLY}).values()
    engine, keys, spec = linkage.instance.engine, linkage.instance.keys, linkage.specs["maternity"]
    assert list(load_cohort(engine, keys, spec).frame["study_id"]) == [study_id]
    linkage.withdraw(study_id, "no_data")
    assert load_cohort(engine, keys, spec).frame.empty


@pytest.mark.parametrize("level", [None, "no_contact", "no_data", "full"])
def test_the_bulk_decision_agrees_with_each_participants_consent_scope(linkage, level):
    ids = _enrol(linkage, {"health": HEALTH_ONLY, "all": [*HEALTH_ONLY, *COUNCIL_ONLY]})
    if level:
        linkage.withdraw(ids["all"], level)
    engine = linkage.instance.engine
    with Session(engine) as session:
        expected = {
            (item, sid)
            for item in ("link_mother_health", "link_council")
            for sid, pid in session.exec(select(Participant.study_id, Participant.id)).all()
            if consent_scope(session, pid).allows(item)
        }
    decided = {
        (item, sid)
        for item in ("link_mother_health", "link_council")
        for sid in consented(engine, item)
    }
    assert decided == expected
