"""Who may appear for each dataset: the covering consent item, each withdrawal level, and
agreement with ``consent_scope`` on every linking item short of "no further data" (which
keeps data linked before it)."""

import pytest

from cohort.research import consented
from cohort.scope import consent_scope

DATASET_ITEMS = {
    "maternity": "link_mother_health",
    "gp_registrations": "link_mother_health",
    "birth_notifications": "link_baby_health",
    "school_census": "link_council",
    "childrens_social_care": "link_council",
    "consent": None,
}


@pytest.mark.parametrize(("dataset", "item"), DATASET_ITEMS.items())
def test_each_dataset_is_covered_by_its_consent_item(dataset, item):
    assert consented.dataset_item(dataset) == item


@pytest.mark.parametrize(
    ("withdrawal", "linked_data_usable", "consent_data_usable"),
    [
        (None, True, True),
        ("no_contact", True, True),
        ("no_data", True, True),
        ("full", False, False),
    ],
)
def test_withdrawal_levels(research, withdrawal, linked_data_usable, consent_data_usable):
    research.participant(withdrawal=withdrawal)
    with research.session() as s:
        (member,) = consented.members(s)
    assert consented.may_use(member, "link_mother_health") is linked_data_usable
    assert consented.may_use(member, None) is consent_data_usable


def test_an_item_not_given_keeps_her_out_of_its_datasets(research):
    research.participant({"link_council": False})
    with research.session() as s:
        (member,) = consented.members(s)
    assert not consented.may_use(member, "link_council")
    assert consented.may_use(member, "link_baby_health")


def test_bulk_reading_agrees_with_consent_scope(research):
    research.participant({"link_council": False, "contact": False})
    research.participant(withdrawal="no_contact")
    research.participant({"link_baby_health": False})
    with research.session() as s:
        for member in consented.members(s):
            scope = consent_scope(s, member.participant_id)
            assert member.current_items() == scope.items
            for item in set(DATASET_ITEMS.values()) - {None}:
                assert consented.may_use(member, item) == scope.allows(item)


def test_a_withdrawal_counts_at_once_though_the_pass_is_kept(research):
    mother = research.participant()
    with research.session() as s:
        assert consented.may_use(consented.members(s)[0], "link_mother_health")
    research.withdraw(mother, "full")
    with research.session() as s:
        assert not consented.may_use(consented.members(s)[0], "link_mother_health")
