"""The form builder: which fields show, what is required and stored, how answers are
checked and translated, and where identifiers go."""

import json

import pytest
import wtforms
from starlette.datastructures import FormData

from cohort import nhs_number
from forms.branching import to_json
from forms.builder import (
    MultiCheckboxField,
    build_form_class,
    export_checkbox,
    split_identifiers,
    validate,
    visible_fields,
)
from forms.dictionary import FIELD_NAME, RESERVED_NAMES, parse
from forms.i18n import identity
from tests.forms.conftest import SHIPPED, as_json_values, dictionary_csv

BABI = parse(SHIPPED.read_bytes(), version="1.0")
IDENTIFIERS = {"nhs_number", "given_name", "family_name", "date_of_birth", "postcode"}
DECLINE_ONLY = {"age_band"}
ALWAYS = {"discussion_language", "leaflet_given", "outcome"}
EITHER_OUTCOME = {"ethnicity"}  # asked once she has answered, whatever she answered

# the BaBi answers so far, the fields shown
BABI_VISIBILITY = [
    ({}, ALWAYS),
    (
        {"discussion_language": "en", "outcome": "1"},
        ALWAYS | IDENTIFIERS | EITHER_OUTCOME | {"consent_items"},
    ),
    (
        {"discussion_language": "ur", "outcome": "0"},
        ALWAYS | DECLINE_ONLY | EITHER_OUTCOME | {"interpreter_used"},
    ),
    ({"leaflet_given": "1"}, ALWAYS | {"leaflet_language"}),
    ({"leaflet_given": "0"}, ALWAYS),
]

# c shows when b = 1; b shows when a = 1; d (above the others) shows when c is answered
CHAIN = parse(
    dictionary_csv(
        {"field_name": "d", "branching_logic": "[c] <> ''"},
        {"field_name": "a"},
        {"field_name": "b", "branching_logic": "[a] = '1'"},
        {"field_name": "c", "branching_logic": "[b] = '1'"},
    ),
    version="1",
)
CHAIN_VISIBILITY = [
    ({"a": "1", "b": "1", "c": "x"}, {"a", "b", "c", "d"}),
    ({"a": "0", "b": "1", "c": "x"}, {"a"}),  # b hidden, so c reads b as empty, so d too
    ({"a": "1", "b": "1"}, {"a", "b", "c"}),
]


@pytest.mark.parametrize(("answers", "shown"), BABI_VISIBILITY)
def test_babi_shows_identifiers_for_a_consent_and_the_age_band_for_a_decline(answers, shown):
    assert visible_fields(BABI, answers) == shown


@pytest.mark.parametrize(("answers", "shown"), CHAIN_VISIBILITY)
def test_a_field_hidden_by_a_hidden_field_is_hidden_whatever_the_order(answers, shown):
    assert visible_fields(CHAIN, answers) == shown


def test_the_browser_port_shows_the_same_fields(browser_port):
    cases = [
        {
            "call": "visibleFields",
            "branchings": [
                [f.name, json.loads(to_json(f.branching)) if f.branching else None]
                for f in spec.fields
            ],
            "values": as_json_values(answers),
        }
        for spec, table in ((BABI, BABI_VISIBILITY), (CHAIN, CHAIN_VISIBILITY))
        for answers, _ in table
    ]
    expected = [
        sorted(shown) for table in (BABI_VISIBILITY, CHAIN_VISIBILITY) for _, shown in table
    ]
    assert browser_port(cases) == expected


CONSENT = {
    "discussion_language": "ur",
    "interpreter_used": "1",
    "outcome": "1",
    "nhs_number": "943 476 5919",
    "given_name": " Aisha ",
    "family_name": "Khan",
    "date_of_birth": "1995-04-02",
    "postcode": "bd5 0na",
    "consent_items": ["link_mother_health", "link_baby_health", "contact"],
}
DECLINE = {"discussion_language": "en", "outcome": "0", "age_band": "25_29"}


def test_a_consent_is_cleaned_and_keeps_only_shown_fields():
    clean, errors = validate(BABI, {**CONSENT, "age_band": "25_29", "leaflet_language": "ur"})
    assert errors == {}
    assert clean == {
        "discussion_language": "ur",
        "interpreter_used": "1",
        "leaflet_given": "",
        "outcome": "1",
        "nhs_number": "9434765919",
        "given_name": "Aisha",
        "family_name": "Khan",
        "date_of_birth": "1995-04-02",
        "postcode": "BD5 0NA",
        "consent_items": frozenset({"link_mother_health", "link_baby_health", "contact"}),
        "ethnicity": "",
    }


def test_a_decline_drops_identifiers_even_invalid_ones_and_never_requires_them():
    clean, errors = validate(BABI, {**DECLINE, "nhs_number": "not a number", "given_name": "Aisha"})
    assert errors == {}
    assert clean == {**DECLINE, "leaflet_given": "", "ethnicity": ""}


# why, the answers, the errors
REFUSALS = [
    ("nothing", {}, {"discussion_language": "Select an answer", "outcome": "Select an answer"}),
    (
        "consent without identifiers or ticks",
        {"discussion_language": "en", "outcome": "1"},
        {
            **dict.fromkeys(sorted(IDENTIFIERS), "Enter an answer"),
            "consent_items": "Tick at least one box",
        },
    ),
    (
        "a wrong NHS number and postcode",
        {**CONSENT, "nhs_number": "943 476 5918", "postcode": "BD5"},
        {
            "nhs_number": nhs_number.BAD_CHECK_DIGIT,
            "postcode": "Enter a full UK postcode, like LS1 4AP",
        },
    ),
    (
        "a decline without an age band",
        {**DECLINE, "age_band": ""},
        {"age_band": "Select an answer"},
    ),
    (
        "choices that were never offered",
        {**DECLINE, "age_band": "51_60", "leaflet_given": "2"},
        {
            "age_band": "Select from the answers given",
            "leaflet_given": "Select from the answers given",
        },
    ),
    (
        "a tick box that was never offered",
        {**CONSENT, "consent_items": ["contact", "sell_data"]},
        {"consent_items": "Select from the answers given"},
    ),
]


@pytest.mark.parametrize(("why", "answers", "errors"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_answers_say_what_to_fix_per_field_and_nothing_is_clean(why, answers, errors):
    assert validate(BABI, answers) == ({}, errors)


def test_a_web_form_and_a_json_body_validate_alike():
    web = FormData(
        [
            (k, v)
            for k, value in CONSENT.items()
            for v in ([value] if isinstance(value, str) else value)
        ]
    )
    assert validate(BABI, web) == validate(BABI, CONSENT)


def test_the_form_object_keeps_what_was_entered_and_marks_each_field():
    form = build_form_class(BABI)({**CONSENT, "postcode": "nowhere"})
    assert not form.validate()
    assert form.postcode.data == "nowhere"
    assert form.postcode.errors == ["Enter a full UK postcode, like LS1 4AP"]
    assert form.errors == {"postcode": ["Enter a full UK postcode, like LS1 4AP"]}
    assert "age_band" not in form.visible and "consent_items" in form.visible
    assert form.clean_values == {}


def _options(field: wtforms.SelectField) -> list[tuple[str, str]]:
    return [(choice.value, choice.label) for choice in field.choices]


CYMRAEG = {
    "Does she agree to join the cohort?": "Ydy hi'n cytuno i ymuno?",
    "Yes, she consents": "Ydy, mae'n cydsynio",
    "10 digits, for example 943 476 5919": "10 digid",
    "Enter a number of %(min)s or more": "Rhowch rif o %(min)s neu fwy",
    "Select an answer": "Dewiswch ateb",
}


def test_labels_choices_notes_and_messages_are_translated_through_gettext():
    def gettext(text: str) -> str:
        return CYMRAEG.get(text, text)

    form = build_form_class(BABI, gettext)()
    assert form.outcome.label.text == "Ydy hi'n cytuno i ymuno?"
    assert _options(form.outcome)[0] == ("1", "Ydy, mae'n cydsynio")
    assert form.nhs_number.description == "10 digid"
    assert validate(BABI, {}, gettext)[1]["outcome"] == "Dewiswch ateb"
    bounded = parse(
        dictionary_csv(
            {
                "field_name": "age",
                "text_validation_type_or_show_slider_number": "integer",
                "text_validation_min": "16",
            }
        ),
        version="1",
    )
    assert validate(bounded, {"age": "15"}, gettext) == ({}, {"age": "Rhowch rif o 16 neu fwy"})


def test_each_field_type_becomes_its_wtforms_field():
    form = build_form_class(parse(dictionary_csv(*EVERY_TYPE_ROWS), version="1"))()
    assert {name: type(field) for name, field in form._fields.items()} == {
        "text": wtforms.StringField,
        "notes": wtforms.TextAreaField,
        "radio": wtforms.RadioField,
        "dropdown": wtforms.SelectField,
        "checkbox": MultiCheckboxField,
        "yesno": wtforms.RadioField,
        "truefalse": wtforms.RadioField,
    }
    assert _options(form.dropdown) == [("", ""), ("a", "A")]
    assert _options(form.yesno) == [("1", "Yes"), ("0", "No")]
    assert _options(form.truefalse) == [("1", "True"), ("0", "False")]
    assert 'type="checkbox"' in form.checkbox()


EVERY_TYPE_ROWS = [
    {"field_name": "descriptive", "field_type": "descriptive"},
    *(
        {"field_name": t, "field_type": t, "select_choices_or_calculations": "a, A"}
        for t in ("radio", "dropdown", "checkbox")
    ),
    *({"field_name": t, "field_type": t} for t in ("text", "notes", "yesno", "truefalse")),
]


def test_a_form_class_is_built_once_per_spec_and_language():
    assert build_form_class(BABI) is build_form_class(BABI, identity)
    assert build_form_class(BABI) is not build_form_class(BABI, str.upper)


def test_a_form_class_carries_its_own_language():
    with pytest.raises(TypeError, match="pass the spec"):
        validate(build_form_class(BABI), {}, str.upper)
    assert validate(build_form_class(BABI), DECLINE) == validate(BABI, DECLINE)


def test_no_field_name_can_shadow_the_form_objects_own_attributes():
    form = build_form_class(BABI)()
    attributes = {name for name in dir(form) if FIELD_NAME.fullmatch(name)} - set(form._fields)
    assert attributes <= RESERVED_NAMES


def test_checkbox_answers_export_as_redcap_columns():
    field = parse(
        dictionary_csv(
            {
                "field_name": "cb",
                "field_type": "checkbox",
                "select_choices_or_calculations": "a, A | B2, B | -1, None",
            }
        ),
        version="1",
    ).field("cb")
    assert export_checkbox(field, {"cb": frozenset({"B2", "-1"})}) == {
        "cb___a": "0",
        "cb___b2": "1",
        "cb____1": "1",
    }
    assert export_checkbox(field, {}) == {"cb___a": "0", "cb___b2": "0", "cb____1": "0"}


def test_identifiers_are_split_off_for_the_vault_and_never_left_with_consent_answers():
    clean, _ = validate(BABI, CONSENT)
    identity_values, consent_values = split_identifiers(BABI, clean)
    assert set(identity_values) == IDENTIFIERS
    assert not IDENTIFIERS & set(consent_values)
    assert identity_values["nhs_number"] == "9434765919"
    assert consent_values["consent_items"] == frozenset(CONSENT["consent_items"])
