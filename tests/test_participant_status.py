"""What staff see of a participant: site, when she joined, her scope now and her history,
oldest first; and who may see it at all."""

import pytest
from sqlmodel import Session

from cohort import capture, withdrawal
from cohort.access import can_reach, participant_for
from cohort.db import session_scope
from cohort.errors import NotFound
from cohort.participant_status import status
from tests.consent_world import CONSENT, token


@pytest.fixture
def enrolled(world):
    with session_scope(world.engine) as s:
        study_id = capture.record_answers(
            s, world.keys, world.spec, CONSENT, user=world.midwife, token=token()
        ).result["study_id"]
    with session_scope(world.engine) as s:
        capture.update_answers(
            s,
            world.spec,
            study_id,
            {"discussion_language": "en", "consent_items": ["link_mother_health"]},
            user=world.midwife,
            token=token(),
        )
    with session_scope(world.engine) as s:
        withdrawal.record_withdrawal(
            s, study_id=study_id, level_code="no_contact", user=world.data_manager, token=token()
        )
    return study_id


def test_status_tells_her_story_oldest_first(world, enrolled):
    with Session(world.engine) as s:
        found = status(s, participant_for(s, world.midwife, enrolled))
    assert (found.study_id, found.site_code, found.site_name) == (enrolled, "BRD", "Bradford")
    assert [(e.kind, e.by) for e in found.history] == [
        ("consent", "mw"),
        ("update", "mw"),
        ("withdrawal", "dm"),
    ]
    assert found.joined_at == found.history[0].at
    assert found.history[0].form == "babi_consent 1.0" and found.history[0].language == "ur"
    assert found.history[2].level == "no_contact"
    assert found.consented and found.scope.items["link_mother_health"]
    assert not found.scope.items["contact"]


def test_a_midwife_reaches_only_her_own_sites_participants(world, enrolled):
    with Session(world.engine) as s:
        participant = participant_for(s, world.data_manager, enrolled)
        assert can_reach(world.midwife, participant)
        assert not can_reach(world.other_midwife, participant)
        with pytest.raises(NotFound) as refused:
            participant_for(s, world.other_midwife, enrolled)
        with pytest.raises(NotFound) as nobody:
            participant_for(s, world.midwife, "BB-0000-0000")
    assert "at your site" in refused.value.message and "at your site" in nobody.value.message


def test_study_ids_are_found_however_they_are_typed(world, enrolled):
    with Session(world.engine) as s:
        assert participant_for(s, world.midwife, f" {enrolled.lower()} ").study_id == enrolled
