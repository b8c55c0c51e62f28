"""Text validations: what each accepts, the clean value it stores, and what it says when
it refuses."""

import pytest

from forms.validation import RULES, Invalid, check

# rule, as typed, as stored
ACCEPTED = [
    ("date_ymd", "2024-02-29", "2024-02-29"),
    ("date_ymd", " 1994-03-27 ", "1994-03-27"),
    ("integer", "42", "42"),
    ("integer", "+007", "7"),
    ("integer", "-3", "-3"),
    ("number", "2.5", "2.5"),
    ("number", ".5", ".5"),
    ("number", "-10", "-10"),
    ("email", "midwife@nhs.net", "midwife@nhs.net"),
    ("email", "a.b@trust.nhs.uk", "a.b@trust.nhs.uk"),
    ("phone", "07700 900 982", "07700900982"),
    ("phone", "(0113) 496-0000", "01134960000"),
    ("phone", "+44 (0)7700 900982", "07700900982"),
    ("phone", "+447700900982", "07700900982"),
    ("postcode", "ls1 4ap", "LS1 4AP"),
    ("postcode", "BD50NA", "BD5 0NA"),
    ("postcode", "EC1A  1BB", "EC1A 1BB"),
    ("postcode", "w1a 0ax", "W1A 0AX"),
    ("nhs_number", "943 476 5919", "9434765919"),
    ("nhs_number", "943-476-5919", "9434765919"),
]


@pytest.mark.parametrize(("rule", "typed", "stored"), ACCEPTED)
def test_accepted_answers_are_stored_clean(rule, typed, stored):
    assert check(rule, typed) == stored


# rule, as typed, what the refusal says
REFUSED = [
    ("date_ymd", "2023-02-29", "Enter a real date as year-month-day"),
    ("date_ymd", "27/03/1994", "Enter a real date as year-month-day"),
    ("date_ymd", "1994-3-27", "Enter a real date as year-month-day"),
    ("integer", "1.5", "Enter a whole number"),
    ("integer", "ten", "Enter a whole number"),
    ("number", "1,5", "Enter a number"),
    ("number", "1e5", "Enter a number"),
    ("email", "midwife@nhs", "Enter an email address"),
    ("email", "midwife nhs.net", "Enter an email address"),
    ("phone", "07700 900", "Enter a UK phone number"),
    ("phone", "+1 202 555 0100", "Enter a UK phone number"),
    ("postcode", "LS1", "Enter a full UK postcode"),
    ("postcode", "12345", "Enter a full UK postcode"),
    ("nhs_number", "943 476 5918", "its last digit does not match"),
    ("nhs_number", "943 476 591", "must be 10 digits long"),
    ("nhs_number", "abc", "must contain only digits"),
]


@pytest.mark.parametrize(("rule", "typed", "message"), REFUSED)
def test_refused_answers_say_what_to_enter(rule, typed, message):
    with pytest.raises(Invalid, match=message):
        check(rule, typed)


# rule, minimum, maximum, as typed, the message (None: accepted)
BOUNDS = [
    ("integer", "16", "50", "16", None),
    ("integer", "16", "50", "50", None),
    ("integer", "16", "50", "15", "Enter a number of 16 or more"),
    ("integer", "16", "50", "51", "Enter a number of 50 or less"),
    ("integer", "16", "", "100000", None),
    ("number", "0.5", "", "0.25", "Enter a number of 0.5 or more"),
    ("number", "", "9.5", "10", "Enter a number of 9.5 or less"),
    ("number", "2", "", "10", None),
    ("date_ymd", "2020-01-01", "", "2019-12-31", "Enter a date on or after 2020-01-01"),
    ("date_ymd", "", "2020-01-01", "2020-01-02", "Enter a date on or before 2020-01-01"),
]


@pytest.mark.parametrize(("rule", "minimum", "maximum", "typed", "message"), BOUNDS)
def test_ordered_rules_keep_answers_within_bounds(rule, minimum, maximum, typed, message):
    if message is None:
        check(rule, typed, minimum, maximum)
    else:
        with pytest.raises(Invalid, match=message):
            check(rule, typed, minimum, maximum)


def test_a_refusal_translates_before_it_fills_in_the_bound():
    with pytest.raises(Invalid) as refused:
        check("integer", "3", "16")
    welsh = {"Enter a number of %(min)s or more": "Rhowch rif o %(min)s neu fwy"}
    assert refused.value.translated(lambda text: welsh.get(text, text)) == "Rhowch rif o 16 neu fwy"


def test_only_numbers_and_dates_have_an_order():
    assert {name for name, rule in RULES.items() if rule.order} == {"date_ymd", "integer", "number"}
