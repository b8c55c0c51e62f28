"""Recording answers: a consent enrols once, a decline keeps no identifiers, and an NHS
number already in the cohort names the participant who holds it."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlmodel import Session, func, select

from cohort import audit, consent
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.keys import init_keys, load_keys
from cohort.models import AuditEvent, Consent, Decline, Identity, Participant, Site, User
from cohort.vault import IdentityFields

ALICE = IdentityFields(
    nhs_number="943 476 5919",
    given_name="Aisha",
    family_name="Khan",
    date_of_birth=date(1995, 4, 2),
    postcode="BD5 0NA",
    address="1 Example Street, Bradford",
)
ALL_ITEMS = dict.fromkeys(consent.CONSENT_ITEMS, True)
PROFILE = consent.Profile(age_band="30_34", ethnicity="pakistani")
TALK = consent.Conversation(
    form_name="babi_consent",
    form_version="1.0",
    language="ur",
    interpreter_used=True,
    leaflet_given=True,
    leaflet_language="ur",
)


@pytest.fixture
def world(engine, tmp_path):
    init_keys(tmp_path / "keys")
    keys = load_keys(tmp_path / "keys")
    with session_scope(engine) as s:
        site = Site(code="BRD", name="Bradford")
        s.add(site)
        s.flush()
        midwife = User(
            username="mw", full_name="M W", role="midwife", site_id=site.id, password_hash="x"
        )
        s.add(midwife)
        s.flush()
    return engine, keys, site, midwife


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_consent_enrols_participant_with_items_form_and_language(world):
    engine, keys, site, midwife = world
    items = {**ALL_ITEMS, "contact": False}
    with session_scope(engine) as s:
        p, recorded = consent.record_consent(
            s,
            keys,
            site_id=site.id,
            midwife=midwife,
            identity=ALICE,
            items=items,
            conversation=TALK,
            profile=PROFILE,
        )
    with Session(engine) as s:
        row = s.exec(select(Consent)).one()
        assert row.id == recorded.id and row.participant_id == p.id and row.items == items
        assert (row.form_name, row.form_version, row.language) == ("babi_consent", "1.0", "ur")
        assert (row.interpreter_used, row.leaflet_given, row.leaflet_language) == (True, True, "ur")
        assert (row.age_band, row.ethnicity) == ("30_34", "pakistani")
        actions = [e.action for e in s.exec(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions == ["participant.enrol", "consent.record"]
        assert audit.verify(s).ok


def test_a_second_consent_for_the_same_woman_names_her_and_changes_nothing(world):
    engine, keys, site, midwife = world
    args = {
        "site_id": site.id,
        "midwife": midwife,
        "items": ALL_ITEMS,
        "conversation": TALK,
        "profile": PROFILE,
    }
    with session_scope(engine) as s:
        first, _ = consent.record_consent(s, keys, identity=ALICE, **args)
    same_woman = IdentityFields(**{**ALICE.__dict__, "nhs_number": "9434765919"})
    with pytest.raises(consent.AlreadyEnrolled) as refused, session_scope(engine) as s:
        consent.record_consent(s, keys, identity=same_woman, **args)
    assert refused.value.study_id == first.study_id
    assert refused.value.status_code == 409 and refused.value.field == "nhs_number"
    assert (_count(engine, Participant), _count(engine, Consent)) == (1, 1)
    assert _count(engine, AuditEvent) == 2


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"link_mother_health": True, "sell_data": True}, "unknown consent item"),
        (dict.fromkeys(consent.CONSENT_ITEMS, False), "at least one statement"),
        ({}, "at least one statement"),
    ],
)
def test_bad_consent_items_are_refused_before_anything_is_written(world, items, message):
    engine, keys, site, midwife = world
    with pytest.raises(CohortError, match=message), session_scope(engine) as s:
        consent.record_consent(
            s,
            keys,
            site_id=site.id,
            midwife=midwife,
            identity=ALICE,
            items=items,
            conversation=TALK,
            profile=PROFILE,
        )
    assert _count(engine, Participant) == _count(engine, Identity) == 0


def test_decline_keeps_only_the_denominator_fields(world):
    engine, _, site, midwife = world
    with session_scope(engine) as s:
        consent.record_decline(
            s,
            site_id=site.id,
            midwife=midwife,
            profile=consent.Profile(age_band="25_29", ethnicity="pakistani"),
            conversation=TALK,
        )
    assert _count(engine, Decline) == 1
    assert _count(engine, Participant) == _count(engine, Identity) == 0
    with Session(engine) as s:
        event = s.exec(select(AuditEvent)).one()
    assert event.action == "consent.decline" and event.participant is None


@pytest.mark.parametrize(
    ("born", "on", "band"),
    [
        (date(2010, 1, 1), date(2026, 1, 1), "16_19"),
        (date(2006, 6, 2), date(2026, 6, 1), "16_19"),
        (date(2006, 6, 1), date(2026, 6, 1), "20_24"),
        (date(1991, 3, 1), date(2026, 3, 1), "35_39"),
        (date(1976, 1, 1), date(2026, 1, 1), "40_50"),
    ],
)
def test_age_band_counts_birthdays(born, on, band):
    assert consent.age_band(born, on) == band


@pytest.mark.parametrize("born", [date(2011, 1, 2), date(1970, 1, 1)])
def test_age_outside_the_cohort_range_is_refused(born):
    with pytest.raises(CohortError, match="outside the cohort"):
        consent.age_band(born, date(2026, 1, 1))


NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (datetime(2015, 9, 30, tzinfo=UTC), datetime(2015, 9, 30, tzinfo=UTC)),
        (datetime(2015, 9, 30, 10, 15), datetime(2015, 9, 30, 10, 15, tzinfo=UTC)),  # no zone: UTC
        (
            datetime(2015, 9, 30, 10, 15, tzinfo=timezone(timedelta(hours=1))),
            datetime(2015, 9, 30, 9, 15, tzinfo=UTC),
        ),
        (NOW, NOW),
        (consent.EARLIEST_TAKEN, consent.EARLIEST_TAKEN),
    ],
)
def test_an_earlier_answer_keeps_its_moment_in_utc(given, kept):
    at = consent.check_taken_at(given, now=NOW)
    assert at == kept and at.tzinfo == UTC


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (NOW + timedelta(seconds=1), "later than now"),
        (datetime(2030, 1, 1, tzinfo=UTC), "later than now"),
        (consent.EARLIEST_TAKEN - timedelta(seconds=1), "before 2007"),
        (datetime(1994, 3, 2, tzinfo=UTC), "before 2007"),  # a birth date in the wrong column
    ],
)
def test_an_answer_dated_in_the_future_or_before_any_cohort_is_refused(given, words):
    with pytest.raises(CohortError, match=words) as refused:
        consent.check_taken_at(given, now=NOW)
    assert refused.value.field == consent.TAKEN_FIELD


def test_a_backdated_consent_and_decline_keep_her_date_and_audit_both_times(world):
    engine, keys, site, midwife = world
    taken = datetime(2019, 6, 3, 11, 0, tzinfo=UTC)
    before = datetime.now(UTC)
    with session_scope(engine) as s:
        consent.record_consent(
            s,
            keys,
            site_id=site.id,
            midwife=midwife,
            identity=ALICE,
            items=ALL_ITEMS,
            conversation=TALK,
            profile=PROFILE,
            taken_at=taken,
        )
        consent.record_decline(
            s, site_id=site.id, midwife=midwife, conversation=TALK, profile=PROFILE, taken_at=taken
        )
    with Session(engine) as s:
        for model in (Consent, Decline):
            assert s.exec(select(model)).one().recorded_at.astimezone(UTC) == taken
        for action in ("consent.record", "consent.decline"):
            event = s.exec(select(AuditEvent).where(AuditEvent.action == action)).one()
            assert event.detail["taken_at"] == taken.isoformat()
            assert event.at.astimezone(UTC) >= before  # the event itself: when it was imported


def test_a_backdated_consent_with_a_bad_date_writes_nothing(world):
    engine, keys, site, midwife = world
    with pytest.raises(CohortError, match="later than now"), session_scope(engine) as s:
        consent.record_consent(
            s,
            keys,
            site_id=site.id,
            midwife=midwife,
            identity=ALICE,
            items=ALL_ITEMS,
            conversation=TALK,
            profile=PROFILE,
            taken_at=datetime.now(UTC) + timedelta(days=2),
        )
    assert _count(engine, Participant) == 0 and _count(engine, AuditEvent) == 0


def test_a_consent_recorded_now_names_no_other_moment(world):
    engine, keys, site, midwife = world
    with session_scope(engine) as s:
        consent.record_consent(
            s,
            keys,
            site_id=site.id,
            midwife=midwife,
            identity=ALICE,
            items=ALL_ITEMS,
            conversation=TALK,
            profile=PROFILE,
        )
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "consent.record")).one()
    assert "taken_at" not in event.detail
