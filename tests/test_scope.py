"""consent_scope, the one answer linkage and extracts ask: her latest consent with every
withdrawal applied, one table of cases."""

import pytest
from sqlmodel import Session

from cohort.consent import CONSENT_ITEMS
from cohort.db import session_scope
from cohort.models import Consent, Participant, Withdrawal
from cohort.scope import consent_scope

ALL = dict.fromkeys(CONSENT_ITEMS, True)
NONE = dict.fromkeys(CONSENT_ITEMS, False)
NO_COUNCIL = {**ALL, "link_council": False}

# consents in order, withdrawal levels recorded, the scope's items, linked data kept
CASES = [
    ([], [], NONE, True),
    ([ALL], [], ALL, True),
    ([ALL, NO_COUNCIL], [], NO_COUNCIL, True),
    ([ALL], ["no_contact"], {**ALL, "contact": False}, True),
    ([ALL], ["no_data"], NONE, True),
    ([ALL], ["full"], NONE, False),
    ([ALL], ["no_contact", "full"], NONE, False),
    ([ALL, NO_COUNCIL], ["no_contact"], {**NO_COUNCIL, "contact": False}, True),
]


@pytest.mark.parametrize(("consents", "levels", "items", "kept"), CASES)
def test_scope_is_the_latest_consent_less_what_withdrawals_stop(
    world, consents, levels, items, kept
):
    with session_scope(world.engine) as s:
        participant = Participant(study_id="BB-TEST-0001", site_id=world.site.id)
        s.add(participant)
        s.flush()
        for given in consents:
            s.add(
                Consent(
                    participant_id=participant.id,
                    site_id=world.site.id,
                    recorded_by=world.midwife.id,
                    form_name="babi_consent",
                    form_version="1.0",
                    language="en",
                    items=given,
                )
            )
            s.flush()
        for level in levels:
            s.add(
                Withdrawal(participant_id=participant.id, level=level, recorded_by=world.midwife.id)
            )
    with Session(world.engine) as s:
        scope = consent_scope(s, participant.id)
    assert scope.items == items and scope.keeps_linked_data is kept
    assert [item for item in CONSENT_ITEMS if scope.allows(item)] == [
        item for item, allowed in items.items() if allowed
    ]
    assert (scope.withdrawal.code if scope.withdrawal else None) == (levels[-1] if levels else None)
