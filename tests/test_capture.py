"""From instrument answers to records: what is stored where, once, and what is refused."""

from datetime import date

import pytest
from sqlalchemy import MetaData
from sqlmodel import Session, select

from cohort import capture, vault
from cohort.consent import AlreadyEnrolled
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict, Forbidden, NotFound
from cohort.models import AuditEvent, Consent, Decline, Identity, Participant, Submission
from forms.spec import FieldSpec, FormSpec
from tests.consent_world import (
    CONSENT,
    DECLINE,
    NHS_NUMBER,
    OTHER_NHS_NUMBER,
    count_rows,
    token,
)

TODAY = date(2026, 11, 22)
IDENTIFIERS = ("Aisha", "Khan", "1995-04-02", "BD5 0NA", NHS_NUMBER, "943 476 5919")


def record(world, answers, *, user=None, key=None, **kw):
    with session_scope(world.engine) as s:
        return capture.record_answers(
            s,
            world.keys,
            world.spec,
            answers,
            user=user or world.midwife,
            token=key or token(),
            today=TODAY,
            **kw,
        )


def _stored_values(engine, skip: tuple[str, ...] = ("identity",)) -> str:
    """Every value of every table but ``skip`` and the instrument (whose example NHS
    number is the one these specs use)."""
    tables = MetaData()
    tables.reflect(engine)
    values = []
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            if table.name not in (*skip, "instrument"):
                values += [str(v) for row in conn.execute(select(table)) for v in row]
    return "\n".join(values)


def test_a_consent_enrols_her_in_the_vault_and_keeps_the_conversation(world):
    done = record(world, CONSENT)
    assert done.action == "consent" and not done.replayed
    with Session(world.engine) as s:
        row = s.exec(select(Consent)).one()
        participant = s.exec(select(Participant)).one()
        identity = vault.read_identity(s, world.keys, participant.id)
    assert done.result == {"study_id": participant.study_id, "consent_id": row.id}
    assert row.items == {
        "link_mother_health": True,
        "link_baby_health": True,
        "link_council": False,
        "contact": True,
    }
    assert (row.form_name, row.form_version, row.language) == ("babi_consent", "1.0", "ur")
    assert (row.interpreter_used, row.leaflet_given, row.leaflet_language) == (True, True, "ur")
    assert (identity.nhs_number, identity.postcode) == (NHS_NUMBER, "BD5 0NA")
    assert identity.date_of_birth == date(1995, 4, 2)


def test_a_consent_keeps_her_age_band_and_ethnicity_for_the_consent_rate(world):
    record(world, {**CONSENT, "ethnicity": "pakistani"})
    with Session(world.engine) as s:
        row = s.exec(select(Consent)).one()
    assert (row.age_band, row.ethnicity) == ("30_34", "pakistani")  # born 1995-04-02


def test_ethnicity_is_optional_for_a_consent(world):
    record(world, CONSENT)
    with Session(world.engine) as s:
        assert s.exec(select(Consent)).one().ethnicity is None


def test_no_identifier_is_stored_outside_the_vault(world):
    record(world, CONSENT)
    stored = _stored_values(world.engine)
    assert not [value for value in IDENTIFIERS if value in stored]


def test_a_decline_keeps_age_band_and_ethnicity_only(world):
    typed_anyway = {**DECLINE, "nhs_number": "943 476 5919", "given_name": "Aisha"}
    done = record(world, typed_anyway)
    assert done.action == "decline" and set(done.result) == {"decline_id"}
    with Session(world.engine) as s:
        decline = s.exec(select(Decline)).one()
    assert (decline.age_band, decline.ethnicity, decline.language) == ("25_29", "other_white", "pl")
    assert count_rows(world.engine, Participant) == count_rows(world.engine, Identity) == 0
    stored = _stored_values(world.engine, skip=())
    assert "Aisha" not in stored and NHS_NUMBER not in stored


def test_ethnicity_is_optional_for_a_decline(world):
    record(world, {key: value for key, value in DECLINE.items() if key != "ethnicity"})
    with Session(world.engine) as s:
        assert s.exec(select(Decline)).one().ethnicity is None


def test_answers_of_fields_hidden_by_branching_are_not_stored(world):
    english = {**CONSENT, "discussion_language": "en", "leaflet_given": "0"}
    record(world, english)  # interpreter_used and leaflet_language are still sent
    with Session(world.engine) as s:
        row = s.exec(select(Consent)).one()
    assert (row.language, row.interpreter_used, row.leaflet_given) == ("en", None, False)
    assert row.leaflet_language is None


def test_an_nhs_number_already_in_the_cohort_names_her_and_adds_no_one(world):
    first = record(world, CONSENT)
    with pytest.raises(AlreadyEnrolled) as refused:
        record(world, {**CONSENT, "given_name": "Ayesha"}, user=world.other_midwife)
    assert refused.value.study_id == first.result["study_id"]
    assert count_rows(world.engine, Participant) == count_rows(world.engine, Consent) == 1
    assert count_rows(world.engine, Submission) == 1


@pytest.mark.parametrize("answers", [CONSENT, DECLINE], ids=["consent", "decline"])
def test_the_same_token_twice_saves_one_record_and_gives_the_same_result(world, answers):
    key = token()
    first, second = record(world, answers, key=key), record(world, answers, key=key)
    assert second.replayed and (second.action, second.result) == (first.action, first.result)
    model = Consent if answers is CONSENT else Decline
    assert count_rows(world.engine, model) == count_rows(world.engine, Submission) == 1
    with Session(world.engine) as s:
        actions = s.exec(select(AuditEvent.action)).all()
    assert len(actions) == (2 if answers is CONSENT else 1)


def test_a_token_used_by_someone_else_is_refused(world):
    key = token()
    record(world, DECLINE, key=key)
    with pytest.raises(Conflict, match="already used"):
        record(world, DECLINE, key=key, user=world.other_midwife)
    assert count_rows(world.engine, Decline) == 1


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has spaces in it here", None])
def test_a_malformed_token_is_refused(world, key):
    with pytest.raises(CohortError) as refused, session_scope(world.engine) as s:
        capture.record_answers(s, world.keys, world.spec, DECLINE, user=world.midwife, token=key)
    assert refused.value.field == "submission_token"


# answers changed, the field refused, words of its message
BAD_INPUT = [
    ({"nhs_number": "943 476 5918"}, "nhs_number", "last digit"),
    ({"nhs_number": "12345"}, "nhs_number", "10 digits"),
    ({"date_of_birth": "1995-02-30"}, "date_of_birth", "real date"),
    ({"date_of_birth": "2020-01-01"}, "date_of_birth", "16 to 50"),
    ({"date_of_birth": "2030-01-01"}, "date_of_birth", "16 to 50"),
    ({"discussion_language": "klingon"}, "discussion_language", "answers given"),
    ({"discussion_language": ""}, "discussion_language", "Select an answer"),
    ({"given_name": ""}, "given_name", "Enter an answer"),
    ({"postcode": "not a postcode"}, "postcode", "postcode"),
    ({"consent_items": []}, "consent_items", "Tick at least one"),
    ({"consent_items": ["link_mother_health", "sell_data"]}, "consent_items", "answers given"),
    ({"family_name": "K" * 201}, "family_name", "at most 200"),
    ({"given_name": "Ai\x00sha"}, "given_name", "control character"),
    ({"given_name": '=HYPERLINK("http://x")'}, "given_name", "spreadsheet formula"),
    ({"family_name": "@SUM(1+1)*cmd|' /C calc'!A0"}, "family_name", "spreadsheet formula"),
    ({"outcome": ["1", "0"]}, "outcome", "one answer"),
    ({"outcome": 1}, "outcome", "as text"),
    ({"favourite_colour": "blue"}, "favourite_colour", "not a question"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD_INPUT, ids=[b[1] for b in BAD_INPUT])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(world, change, field, words):
    with pytest.raises(capture.InvalidAnswers) as refused:
        record(world, {**CONSENT, **change})
    assert refused.value.field == field and words in refused.value.errors[field]
    assert refused.value.status_code == 400
    for model in (Participant, Identity, Consent, Submission, AuditEvent):
        assert count_rows(world.engine, model) == 0


def test_only_free_text_is_refused_for_starting_like_a_formula():
    """A validated answer is normalised before it is stored (a phone's "+44" becomes 0),
    a plain number is a number, and choices are codes: only free text could reach an
    export as a formula."""
    spec = FormSpec(
        "f",
        "1",
        (
            FieldSpec("note", "notes", "Note", 2),
            FieldSpec("phone", "text", "Phone", 3, validation="phone"),
            FieldSpec("weight", "text", "Weight", 4),
        ),
    )
    answers = {"note": "- interpreter by phone", "phone": "+44 7700 900982", "weight": "-3.5"}
    assert capture.screen(spec, answers) == {"note": capture.FORMULA}


def test_every_problem_is_reported_at_once_in_form_order(world):
    with pytest.raises(capture.InvalidAnswers) as refused:
        record(world, {**CONSENT, "postcode": "", "nhs_number": "1", "discussion_language": ""})
    assert list(refused.value.errors) == ["discussion_language", "nhs_number", "postcode"]


def test_messages_are_in_the_callers_language(world):
    def marked(message: str) -> str:
        return f"«{message}»"

    with pytest.raises(capture.InvalidAnswers) as refused:
        record(world, {**CONSENT, "given_name": "", "family_name": "x" * 300}, gettext=marked)
    assert refused.value.errors == {
        "given_name": "«Enter an answer»",
        "family_name": "«Enter at most 200 characters»",
    }


def test_a_pinned_outcome_refuses_answers_that_say_otherwise(world):
    with pytest.raises(capture.InvalidAnswers) as refused:
        record(world, DECLINE, outcome=capture.CONSENTED)
    assert refused.value.field == "outcome"
    done = record(world, {k: v for k, v in CONSENT.items() if k != "outcome"}, outcome="1")
    assert done.action == "consent"


@pytest.mark.parametrize("role", ["data_manager", "researcher"])
def test_only_a_midwife_records_answers(world, role):
    user = {"data_manager": world.data_manager, "researcher": world.researcher}[role]
    with pytest.raises(Forbidden):
        record(world, DECLINE, user=user)


def update(world, study_id, answers, *, user=None, key=None):
    with session_scope(world.engine) as s:
        return capture.update_answers(
            s,
            world.spec,
            study_id,
            answers,
            user=user or world.midwife,
            token=key or token(),
        )


def test_an_update_asks_only_the_conversation_and_the_tick_boxes(world):
    study_id = record(world, CONSENT).result["study_id"]
    changed = {"discussion_language": "en", "consent_items": ["link_council"]}
    done = update(world, study_id, changed)
    assert done.action == "update" and done.result["study_id"] == study_id
    with Session(world.engine) as s:
        rows = s.exec(select(Consent).order_by(Consent.id)).all()
    assert [row.language for row in rows] == ["ur", "en"]
    assert [(row.age_band, row.ethnicity) for row in rows] == [("30_34", None)] * 2
    assert rows[-1].items == {
        "link_mother_health": False,
        "link_baby_health": False,
        "link_council": True,
        "contact": False,
    }


def test_an_update_refuses_other_questions_and_an_empty_choice(world):
    study_id = record(world, CONSENT).result["study_id"]
    with pytest.raises(capture.InvalidAnswers) as refused:
        update(world, study_id, {"discussion_language": "en", "nhs_number": OTHER_NHS_NUMBER})
    assert set(refused.value.errors) == {"nhs_number", "consent_items"}
    with pytest.raises(capture.InvalidAnswers) as refused:
        update(world, study_id, {"discussion_language": "en"})
    assert refused.value.field == "consent_items"


def test_an_update_of_another_sites_participant_is_not_found(world):
    study_id = record(world, CONSENT).result["study_id"]
    with pytest.raises(NotFound):
        update(world, study_id, {"discussion_language": "en"}, user=world.other_midwife)
    assert count_rows(world.engine, Consent) == 1
