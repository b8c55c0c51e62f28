"""A new version of the consent instrument keeps what consents are recorded by, and may
add anything else: a new question's answers are kept with the record, in every path."""

import csv
import io

import pytest
from sqlmodel import Session, select

from cohort import capture, consent_instrument, consent_update
from cohort.db import session_scope
from cohort.interop import redcap_records
from cohort.models import Consent, Decline, Instrument
from forms import dictionary, registry
from forms.dictionary import DictionaryError
from tests.consent_world import CONSENT, DECLINE, count_rows, token

SHIPPED = registry.shipped_text("babi_consent")
NEW_QUESTIONS = [
    ["birth_plan", "babi_consent", "", "notes", "Her birth plan, if she has one"],
    ["support", "babi_consent", "", "checkbox", "Who supports her?", "1, Partner | 2, Family"],
]


def edited(change=None, add=()) -> str:
    """The shipped dictionary, with ``change(row)`` applied to each row and rows added."""
    rows = list(csv.reader(io.StringIO(SHIPPED)))
    width = len(rows[0])
    body = [change(list(row)) if change else row for row in rows[1:]]
    body = [row for row in body if row is not None]
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], *body, *(r + [""] * (width - len(r)) for r in add)])
    return out.getvalue()


def _set(name: str, column: int, value: str):
    def change(row):
        if row[0] == name:
            row[column] = value
        return row

    return change


def _problems(text: str) -> list[str]:
    return [p.message for p in consent_instrument.problems(dictionary.parse(text, version="9"))]


def test_the_shipped_form_new_questions_and_new_wording_may_be_published():
    assert _problems(SHIPPED) == []
    assert _problems(edited(_set("outcome", 4, "Will she join?"), NEW_QUESTIONS)) == []


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda row: None if row[0] == "consent_items" else row, 'question "consent_items"'),
        (lambda row: None if row[0] == "age_band" else row, 'keep its question "age_band"'),
        (_set("outcome", 5, "1, Yes | 0, No | 2, Maybe"), '"outcome" must keep'),
        (_set("age_band", 5, "16_24, 16 to 24 | 25_50, 25 to 50"), '"age_band" must keep'),
        (_set("nhs_number", 10, ""), '"nhs_number" must keep'),
        (_set("date_of_birth", 7, ""), '"date_of_birth" must keep'),
        (_set("consent_items", 5, "link_mother_health, Mine | sell_data, Sell"), "must keep"),
        (_set("discussion_language", 3, "radio"), '"discussion_language" must keep'),
    ],
)
def test_what_consents_are_recorded_by_cannot_change(change, words):
    found = _problems(edited(change))
    assert len(found) == 1 and words in found[0], found


def test_an_identifier_the_vault_cannot_hold_is_refused():
    phone = ["phone", "babi_consent", "", "text", "Phone", "", "", "", "", "", "y"]
    found = _problems(edited(add=[phone]))
    assert found == [
        '"phone" is marked Identifier? = y, but the identity vault keeps only nhs_number, '
        "given_name, family_name, date_of_birth, postcode, address"
    ]


def test_another_form_is_not_held_to_the_consent_forms_rules():
    survey = "field_name,form_name,field_type,field_label\nmood,survey,text,Mood\n"
    assert _problems(survey) == []


def test_a_refused_version_names_its_row_and_stores_nothing(world):
    before = count_rows(world.engine, Instrument)
    with pytest.raises(DictionaryError) as refused, session_scope(world.engine) as s:
        consent_instrument.publish(
            s, edited(_set("age_band", 3, "text")), version="1.1", actor="dm"
        )
    assert refused.value.problems[0].row == 14
    assert count_rows(world.engine, Instrument) == before


@pytest.fixture
def newer(world):
    """Version 1.1, with a notes question and a tick-box question of its own."""
    with session_scope(world.engine) as s:
        consent_instrument.publish(s, edited(add=NEW_QUESTIONS), version="1.1", actor="dm")
        return registry.get(s, "babi_consent", "1.1")


def _record(world, spec, answers):
    with session_scope(world.engine) as s:
        return capture.record_answers(
            s, world.keys, spec, answers, user=world.midwife, token=token()
        )


def test_answers_to_a_new_question_are_kept_with_the_consent_and_the_decline(world, newer):
    extra = {"birth_plan": "Water birth", "support": ["2", "1"]}
    _record(world, newer, {**CONSENT, **extra})
    _record(world, newer, {**DECLINE, **extra})
    _record(world, world.spec, DECLINE)  # under 1.0, which asks neither
    with Session(world.engine) as s:
        consent = s.exec(select(Consent)).one()
        declines = s.exec(select(Decline).order_by(Decline.id)).all()
    kept = {"birth_plan": "Water birth", "support": ["1", "2"]}
    assert (consent.form_version, consent.answers) == ("1.1", kept)
    assert [(d.form_version, d.answers) for d in declines] == [("1.1", kept), ("1.0", {})]


def test_an_update_of_her_consent_keeps_the_answers_and_the_redcap_export_gives_them(world, newer):
    done = _record(world, newer, {**CONSENT, "birth_plan": "Water birth", "support": ["1"]})
    with session_scope(world.engine) as s:
        participant = capture.access.participant_for(s, world.midwife, done.result["study_id"])
        consent_update.update_consent(
            s,
            participant=participant,
            user=world.midwife,
            items={"link_mother_health": True},
            conversation=capture.conversation(newer, {"discussion_language": "ur"}),
        )
    with Session(world.engine) as s:
        latest = s.exec(select(Consent).order_by(Consent.id.desc())).first()
        (record,) = redcap_records.records(s, world.data_manager)
    assert latest.answers == {"birth_plan": "Water birth", "support": ["1"]}
    assert record.answers["birth_plan"] == "Water birth"
    assert record.answers["support"] == frozenset({"1"})
