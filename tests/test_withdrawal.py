"""Withdrawals: each level's effect on her scope at once, who may record one, audited,
once per token, and never weaker than one already recorded."""

import pytest
from sqlmodel import Session, select

from cohort import withdrawal
from cohort.access import participant_for
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict, Forbidden, NotFound
from cohort.models import AuditEvent, Withdrawal
from cohort.scope import consent_scope
from tests.consent_world import count_rows, token

CONSENTED = {  # CONSENT's tick boxes
    "link_mother_health": True,
    "link_baby_health": True,
    "link_council": False,
    "contact": True,
}
NOTHING = dict.fromkeys(CONSENTED, False)


def withdraw(world, study_id, level, *, user=None, key=None):
    with session_scope(world.engine) as s:
        return withdrawal.record_withdrawal(
            s, study_id=study_id, level_code=level, user=user or world.midwife, token=key or token()
        )


def scope_of(world, study_id):
    with Session(world.engine) as s:
        return consent_scope(s, participant_for(s, world.data_manager, study_id).id)


@pytest.mark.parametrize(
    ("level", "items", "keeps_linked_data"),
    [
        ("no_contact", {**CONSENTED, "contact": False}, True),
        ("no_data", NOTHING, True),
        ("full", NOTHING, False),
    ],
)
def test_each_level_takes_effect_at_once(world, enrolled, level, items, keeps_linked_data):
    assert scope_of(world, enrolled).items == CONSENTED
    done = withdraw(world, enrolled, level)
    assert done.action == "withdrawal" and done.result["study_id"] == enrolled
    scope = scope_of(world, enrolled)
    assert scope.items == items and scope.withdrawal.code == level
    assert scope.keeps_linked_data is keeps_linked_data
    with Session(world.engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "withdrawal.record")).one()
    assert (event.actor, event.participant, event.detail) == ("mw", enrolled, {"level": level})


def test_a_data_manager_withdraws_anyone(world, enrolled):
    withdraw(world, enrolled, "full", user=world.data_manager)
    assert scope_of(world, enrolled).withdrawal.code == "full"


def test_a_midwife_of_another_site_cannot_find_her(world, enrolled):
    with pytest.raises(NotFound):
        withdraw(world, enrolled, "full", user=world.other_midwife)
    assert count_rows(world.engine, Withdrawal) == 0


def test_a_researcher_cannot_record_a_withdrawal(world, enrolled):
    with pytest.raises(Forbidden):
        withdraw(world, enrolled, "full", user=world.researcher)


def test_a_further_level_adds_to_an_earlier_one_but_a_weaker_one_is_refused(world, enrolled):
    withdraw(world, enrolled, "no_contact")
    withdraw(world, enrolled, "no_data")
    for weaker in ("no_contact", "no_data"):
        with pytest.raises(Conflict) as refused:
            withdraw(world, enrolled, weaker)
        assert refused.value.field == "level"
    assert scope_of(world, enrolled).withdrawal.code == "no_data"
    assert count_rows(world.engine, Withdrawal) == 2


def test_the_same_form_twice_records_one_withdrawal(world, enrolled):
    key = token()
    first = withdraw(world, enrolled, "no_data", key=key)
    again = withdraw(world, enrolled, "no_data", key=key)
    assert again.replayed and again.result == first.result
    assert count_rows(world.engine, Withdrawal) == 1


@pytest.mark.parametrize("level", ["", "everything", "NO_DATA"])
def test_an_unknown_level_is_refused(world, enrolled, level):
    with pytest.raises(CohortError) as refused:
        withdraw(world, enrolled, level)
    assert refused.value.field == "level" and refused.value.status_code == 400
