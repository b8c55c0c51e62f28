"""Languages: right-to-left where the script is, locale formats, and English fallback."""

from datetime import date

import pytest

from cohort import i18n
from cohort.errors import Conflict

DIRECTIONS = [
    ("en", "ltr"),
    ("ur", "rtl"),
    ("pa", "rtl"),
    ("pl", "ltr"),
    ("ro", "ltr"),
    ("sk", "ltr"),
    ("ar", "rtl"),
    ("bn", "ltr"),
]


@pytest.mark.parametrize(("code", "direction"), DIRECTIONS)
def test_text_direction_follows_the_script(code, direction):
    assert i18n.language(code).direction == direction


def test_every_cohort_language_is_listed_with_its_own_name():
    assert set(i18n.LANGUAGES) == {code for code, _ in DIRECTIONS}
    assert i18n.language("pl").native_name == "polski"
    assert i18n.language("ur").native_name == "اردو"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en", "22 November 2026"), ("pl", "22 listopada 2026"), ("ro", "22 noiembrie 2026")],
)
def test_dates_are_formatted_for_the_locale(code, expected):
    assert i18n.format_date(date(2026, 11, 22), code) == expected


def test_numbers_use_the_locale_separators():
    assert i18n.format_number(1234.5, "en") == "1,234.5"
    assert i18n.format_number(1234.5, "ro") == "1.234,5"


@pytest.mark.parametrize("code", [None, "", "xx", "../../etc"])
def test_unknown_languages_fall_back_to_english(code):
    assert i18n.language(code).code == "en"
    assert i18n.gettext(code)("Save") == "Save"


def test_a_message_is_translated_where_shown_values_and_all():
    inner = i18n.Message("is empty: %(what)s", {"what": "name"})
    outer = i18n.Message("row %(row)s: %(problem)s", {"row": 2, "problem": inner})
    shouty = {"row %(row)s: %(problem)s": "ROW %(row)s: %(problem)s", "is empty: %(what)s": "EMPTY"}
    assert outer.translated(lambda text: shouty.get(text, text)) == "ROW 2: EMPTY"
    assert str(outer) == "row 2: is empty: name"


def test_a_message_without_values_is_left_as_written_even_with_a_percent_sign():
    assert str(i18n.Message("100% of sites")) == "100% of sites"


def test_a_refusal_is_english_as_raised_and_its_message_for_pages():
    error = i18n.refusal(
        Conflict, "the username %(username)s is taken", field="username", username="mia"
    )
    assert isinstance(error, Conflict) and error.field == "username"
    assert error.message == "the username mia is taken"
    assert error.text == i18n.Message("the username %(username)s is taken", {"username": "mia"})
