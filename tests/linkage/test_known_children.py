"""A child an earlier run resolved links to its mother by its own NHS number, whatever its
row says of her, when its birthday and sex agree and her consent covers the source."""

import pandas as pd
import pytest
from sqlmodel import select

from cohort.db import session_scope
from cohort.instance import Instance
from cohort.models import Participant, Site
from linkage_jobs import children, known_children
from linkage_jobs.cohort_identities import Cohort
from linkage_jobs.spec import IDENTIFIER_FIELDS
from tests.linkage.test_children import world as mother  # noqa: F401 (a fixture)

MOTHER = "BB-MOTHER1"
CHILD = {"nhs_number": "9434765919", "date_of_birth": "2025-03-02", "sex": "M"}
HER = {"nhs_number": "4010232137", "family_name": "ZED", "postcode": "BD5 0NA"}


def cohort_of(participant_ids: dict[str, int]) -> Cohort:
    frame = pd.DataFrame(
        [{"study_id": sid, **dict.fromkeys(IDENTIFIER_FIELDS), **HER} for sid in participant_ids]
    )
    return Cohort(frame.reindex(columns=["study_id", *IDENTIFIER_FIELDS]), participant_ids)


@pytest.fixture
def world(mother) -> tuple[Instance, Cohort]:  # noqa: F811 (the fixture, imported)
    """An instance whose one mother has a child met before, and her cohort."""
    instance, mother_id = mother
    with session_scope(instance.engine) as s:
        keys = children.child_keys(
            instance.keys, mother_id, CHILD["nhs_number"], CHILD["date_of_birth"], CHILD["sex"]
        )
        children.resolve(s, mother_id, *keys)
    return instance, cohort_of({MOTHER: mother_id})


def row(**fields: str | None) -> pd.DataFrame:
    """A standardised child row: the known child, with nothing of its mother's."""
    values = dict.fromkeys(IDENTIFIER_FIELDS) | CHILD | {"family_name": "ALPHA"} | fields
    return pd.DataFrame([{"record_id": "R1", **values}])


def linked(world, records: pd.DataFrame, cohort: Cohort | None = None) -> list[tuple]:
    instance, everyone = world
    with session_scope(instance.engine) as s:
        found = known_children.mothers_by_child_number(
            s, instance.keys, records, cohort or everyone
        )
    return list(found.itertuples(index=False, name=None))


def test_a_known_childs_number_links_its_row_to_its_mother_exactly(world):
    assert linked(world, row()) == [("R1", MOTHER, 1.0, "exact")]


@pytest.mark.parametrize(
    "fields",
    [
        {"date_of_birth": "2025-03-03"},  # another child given this one's number
        {"sex": "F"},
        {"nhs_number": "9434765870"},  # a child never met
        {"nhs_number": None},
    ],
)
def test_without_its_number_birthday_and_sex_agreeing_a_row_is_left_to_matching(world, fields):
    assert linked(world, row(**fields)) == []


def test_a_mother_whose_consent_does_not_cover_the_source_is_no_candidate(world):
    assert linked(world, row(), cohort_of({})) == []


@pytest.mark.parametrize(
    "hers", [{"mother_nhs_number": HER["nhs_number"]}, {"postcode": HER["postcode"]}]
)
def test_without_its_own_number_a_known_child_links_by_her_number_or_postcode(world, hers):
    assert linked(world, row(nhs_number=None, **hers)) == [("R1", MOTHER, 1.0, "exact")]


@pytest.mark.parametrize(
    "fields",
    [
        {"postcode": HER["postcode"], "date_of_birth": "2025-03-03"},
        {"postcode": HER["postcode"], "sex": None},
        {"family_name": HER["family_name"]},  # a family name is shared by too many mothers
    ],
)
def test_without_its_own_number_the_rest_must_agree_too(world, fields):
    assert linked(world, row(nhs_number=None, **fields)) == []


def test_a_known_child_replaces_what_matching_made_of_its_row():
    known = pd.DataFrame([("R1", MOTHER, 1.0, "exact")], columns=known_children.COLUMNS)
    matched = pd.DataFrame(
        [("R1", "BB-OTHER", 0.6, "clerical"), ("R2", "BB-OTHER", 0.9, "probabilistic")],
        columns=known_children.COLUMNS,
    )
    preferred = known_children.preferred(known, matched)
    assert sorted(preferred.itertuples(index=False, name=None)) == [
        ("R1", MOTHER, 1.0, "exact"),
        ("R2", "BB-OTHER", 0.9, "probabilistic"),
    ]


def test_two_mothers_at_the_postcode_with_a_child_of_that_birthday_are_left_to_matching(world):
    instance, cohort = world
    with session_scope(instance.engine) as s:
        neighbour = Participant(study_id="BB-MOTHER2", site_id=s.exec(select(Site.id)).first())
        s.add(neighbour)
        s.flush()
        keys = children.child_keys(
            instance.keys, neighbour.id, None, CHILD["date_of_birth"], CHILD["sex"]
        )
        children.resolve(s, neighbour.id, *keys)
        both = cohort_of({**cohort.participant_ids, "BB-MOTHER2": neighbour.id})
    assert linked(world, row(nhs_number=None, postcode=HER["postcode"]), both) == []
