"""Changing her consent: a new row each time, the latest is current, the history stays,
and no change is made that a withdrawal has ruled out."""

import pytest
from sqlmodel import Session, select

from cohort import withdrawal
from cohort.access import participant_for
from cohort.consent import Conversation
from cohort.consent_update import update_consent
from cohort.db import session_scope
from cohort.errors import Conflict, Forbidden
from cohort.models import AuditEvent, Consent
from cohort.scope import consent_scope
from tests.consent_world import count_rows, token

TALK = Conversation(form_name="babi_consent", form_version="1.0", language="en")
ONLY_HEALTH = {"link_mother_health": True}


def change(world, study_id, items, *, user=None):
    with session_scope(world.engine) as s:
        participant = participant_for(s, world.midwife, study_id)
        return update_consent(
            s, participant=participant, user=user or world.midwife, items=items, conversation=TALK
        )


def scope_items(world, study_id):
    with Session(world.engine) as s:
        return consent_scope(s, participant_for(s, world.midwife, study_id).id).items


def test_each_change_is_a_new_row_and_the_latest_is_current(world, enrolled):
    change(world, enrolled, ONLY_HEALTH)
    change(world, enrolled, {**ONLY_HEALTH, "link_council": True})
    with Session(world.engine) as s:
        rows = s.exec(select(Consent).order_by(Consent.id)).all()
        updates = s.exec(select(AuditEvent).where(AuditEvent.action == "consent.update")).all()
    assert [sum(row.items.values()) for row in rows] == [3, 1, 2]
    assert [row.language for row in rows] == ["ur", "en", "en"]
    assert scope_items(world, enrolled)["link_council"] is True
    assert [(e.actor, e.participant) for e in updates] == [("mw", enrolled)] * 2


def test_an_unchanged_choice_is_refused(world, enrolled):
    same = {"link_mother_health": True, "link_baby_health": True, "contact": True}
    with pytest.raises(Conflict, match="already her choices"):
        change(world, enrolled, same)
    assert count_rows(world.engine, Consent) == 1


@pytest.mark.parametrize("level", ["no_data", "full"])
def test_no_change_after_a_withdrawal_from_all_data(world, enrolled, level):
    with session_scope(world.engine) as s:
        withdrawal.record_withdrawal(
            s, study_id=enrolled, level_code=level, user=world.midwife, token=token()
        )
    with pytest.raises(Conflict, match="withdrawn"):
        change(world, enrolled, ONLY_HEALTH)


def test_after_no_further_contact_she_can_change_linkage_but_is_never_contacted(world, enrolled):
    with session_scope(world.engine) as s:
        withdrawal.record_withdrawal(
            s, study_id=enrolled, level_code="no_contact", user=world.midwife, token=token()
        )
    change(world, enrolled, {"link_council": True, "contact": True})
    assert scope_items(world, enrolled) == {
        "link_mother_health": False,
        "link_baby_health": False,
        "link_council": True,
        "contact": False,
    }


def test_only_a_midwife_changes_a_consent(world, enrolled):
    with pytest.raises(Forbidden):
        change(world, enrolled, ONLY_HEALTH, user=world.data_manager)
