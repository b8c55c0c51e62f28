"""An instrument as macro parameters: each field type to its NHS.UK macro, what was entered
kept, errors placed, branching carried, and the woman's statements only beside the tick
boxes and only when her language differs from the midwife's."""

import json

from starlette.datastructures import FormData

from cohort import i18n
from cohort.web import instrument_form
from cohort.web.pages import make_templates
from forms.dictionary import parse
from tests.forms.conftest import SHIPPED

BABI = parse(SHIPPED.read_bytes(), version="1.0")


def views(answers=None, errors=None, her=None) -> dict[str, instrument_form.FieldView]:
    found = instrument_form.field_views(BABI, answers or {}, errors or {}, "en", her=her)
    return {view.name: view for view in found}


def test_each_field_type_gets_its_macro():
    macros = {name: view.macro for name, view in views().items()}
    assert macros["discussion_language"] == "select"
    assert macros["interpreter_used"] == macros["outcome"] == "radios"
    assert macros["nhs_number"] == "input" and macros["consent_items"] == "checkboxes"


def test_choice_questions_are_fieldsets_with_a_legend_and_yes_no_inline():
    outcome, interpreter = views()["outcome"].params, views()["interpreter_used"].params
    assert outcome["fieldset"]["legend"]["text"] == "Does she agree to join the cohort?"
    assert not outcome["inline"] and interpreter["inline"]


def test_what_was_entered_and_its_error_are_kept():
    found = views(
        {"nhs_number": "12345", "consent_items": ["contact"], "outcome": "1"},
        {"nhs_number": "Too short"},
    )
    assert found["nhs_number"].params["value"] == "12345"
    assert found["nhs_number"].params["errorMessage"] == {"text": "Too short"}
    assert found["consent_items"].params["values"] == ["contact"]
    assert found["outcome"].params["value"] == "1"


def test_an_nhs_number_input_suits_a_number_and_is_not_remembered():
    params = views()["nhs_number"].params
    assert params["inputmode"] == "numeric" and params["autocomplete"] == "off"
    assert params["spellcheck"] is False


def test_branching_travels_as_json_and_sections_open_where_the_dictionary_says():
    found = views()
    assert json.loads(found["nhs_number"].branching)["left"] == {"field": "outcome"}
    assert found["outcome"].branching == "" and found["outcome"].section == "Her decision"


def test_her_statements_are_added_to_the_tick_boxes_only():
    found = views(her=i18n.language("ur"))
    hints = [item.get("hint") for item in found["consent_items"].params["items"]]
    assert all('<span lang="ur" dir="rtl">' in str(hint["html"]) for hint in hints)
    assert all("hint" not in item for item in found["outcome"].params["items"])


def test_her_language_counts_only_when_it_is_a_cohort_language_other_than_the_ui():
    assert instrument_form.her_language("ur", "en").code == "ur"
    assert instrument_form.her_language("en", "en") is None
    assert instrument_form.her_language("xx", "en") is None
    assert instrument_form.her_language(["ur"], "en") is None


def test_statements_pair_the_midwifes_words_with_hers():
    paired = instrument_form.statements(("Yes",), "en", i18n.language("pl"))
    assert (paired.mine.code, paired.hers.code) == ("en", "pl")
    assert paired.pairs[0][0] == "Yes"
    alone = instrument_form.statements(("Yes",), "en", None)
    assert alone.hers is None and alone.pairs == [("Yes", "")]


def test_posted_answers_take_the_forms_questions_only():
    posted = FormData(
        [
            ("csrf_token", "x"),
            ("outcome", "1"),
            ("consent_items", "contact"),
            ("consent_items", "link_council"),
        ]
    )
    assert instrument_form.posted_answers(BABI, posted) == {
        "outcome": "1",
        "consent_items": ["contact", "link_council"],
    }


def test_the_error_summary_links_each_error_to_its_field():
    assert instrument_form.error_list({"outcome": "Choose"}) == [
        {"text": "Choose", "href": "#outcome"}
    ]


ENV = make_templates().env


def _markup(answers, errors=None):
    return instrument_form.fields_markup(ENV, BABI, answers, errors or {}, "en", None)


def test_a_form_of_picked_answers_renders_once_and_is_reused():
    instrument_form._chosen_fields_markup.cache_clear()
    first = _markup({"discussion_language": "ur"})
    again = _markup({"discussion_language": "ur"})
    assert first == again and 'data-field="nhs_number"' in first
    assert instrument_form._chosen_fields_markup.cache_info().hits == 1


def test_typed_answers_and_errors_are_rendered_afresh_and_never_kept():
    instrument_form._chosen_fields_markup.cache_clear()
    typed = _markup({"outcome": "1", "nhs_number": "943 476 5919"})
    refused = _markup({"outcome": "1"}, {"outcome": "Choose one"})
    assert 'value="943 476 5919"' in typed and "Choose one" in refused
    assert instrument_form._chosen_fields_markup.cache_info().currsize == 0
