"""Children's study IDs: same-sex twins without NHS numbers are told apart by their given
names, while one child seen in several sources, named or not, keeps one ID."""

from collections.abc import Iterator

import pytest

from cohort.db import session_scope
from cohort.instance import Instance
from cohort.models import Participant, Site
from linkage_jobs import children
from tests.web.conftest import make_instance

BORN, SEX = "2026-03-02", "F"
TWIN_A, TWIN_B = "0123456789", "1234567881"


@pytest.fixture
def world(db_url, tmp_path) -> Iterator[tuple[Instance, int]]:
    """An instance and a mother's participant id."""
    instance = make_instance(tmp_path / "var", db_url)
    with session_scope(instance.engine) as s:
        site = Site(code="TST", name="Test")
        s.add(site)
        s.flush()
        mother = Participant(study_id="BB-MOTHER1", site_id=site.id)
        s.add(mother)
        s.flush()
        mother_id = mother.id
    yield instance, mother_id
    instance.engine.dispose()


def child_ids(world, *rows: tuple[str | None, str | None]) -> list[str]:
    """The study ID each (NHS number, given name) row of the mother's same-day daughters
    resolves to, in delivery order, each in a transaction of its own."""
    instance, mother_id = world
    found = []
    for nhs_number, given_name in rows:
        with session_scope(instance.engine) as s:
            keys = children.child_keys(instance.keys, mother_id, nhs_number, BORN, SEX, given_name)
            found.append(children.resolve(s, mother_id, *keys))
    return found


@pytest.mark.parametrize(
    ("rows", "distinct"),
    [
        # twins with distinct given names: two children
        ([(None, "AMELIA"), (None, "ISLA")], 2),
        # one child seen in two sources, with and without a name, in either order
        ([(None, "AMELIA"), (None, "AMELIA")], 1),
        ([(None, None), (None, "AMELIA")], 1),
        ([(None, "AMELIA"), (None, None)], 1),
        ([(None, "AMELIA ROSE"), (None, "AMELIA")], 1),
        ([(None, "BABY"), (None, "AMELIA")], 1),
        # her NHS number arriving later, with or without the name
        ([(None, "AMELIA"), (TWIN_A, "AMELIA"), (TWIN_A, None)], 1),
        # twins: one met first without a name, then both named
        ([(None, None), (None, "AMELIA"), (None, "ISLA")], 2),
        # twins with NHS numbers and no names
        ([(TWIN_A, None), (TWIN_B, None)], 2),
        # without names or numbers twins cannot be told apart: one child
        ([(None, None), (None, None)], 1),
    ],
)
def test_a_row_resolves_to_the_child_the_table_names(world, rows, distinct):
    assert len(set(child_ids(world, *rows))) == distinct


def test_named_twins_keep_their_own_ids_when_their_numbers_arrive(world):
    amelia, isla, amelia_again, isla_again, isla_later = child_ids(
        world,
        (None, "AMELIA"),
        (None, "ISLA"),
        (TWIN_A, "AMELIA"),
        (TWIN_B, "ISLA"),
        (TWIN_B, None),
    )
    assert amelia != isla
    assert (amelia_again, isla_again, isla_later) == (amelia, isla, isla)


@pytest.mark.parametrize(
    ("given_name", "first"),
    [("AMELIA ROSE", "AMELIA"), ("BABY", None), ("TWIN", None), (None, None), (float("nan"), None)],
)
def test_a_placeholder_or_missing_given_name_is_no_name(given_name, first):
    assert children.first_name(given_name) == first
