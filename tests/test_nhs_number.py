"""NHS numbers: what is accepted, how it is normalised, and what each refusal says."""

import pytest

from cohort import nhs_number
from cohort.errors import CohortError

ACCEPTED = [
    # typed as                expected
    ("9434765919", "9434765919"),
    ("943 476 5919", "9434765919"),
    ("943-476-5919", "9434765919"),
    ("  4010232137 ", "4010232137"),
    ("485 777 3457", "4857773457"),
]

REFUSED = [
    # typed as         the message names the rule it broke
    ("", nhs_number.MISSING),
    ("   ", nhs_number.MISSING),
    ("- -", nhs_number.MISSING),
    ("943476591X", nhs_number.NOT_DIGITS),
    ("943.476.5919", nhs_number.NOT_DIGITS),
    (
        "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19",
        nhs_number.NOT_DIGITS,
    ),  # full-width
    ("943476591", "NHS number must be 10 digits long, not 9"),
    ("94347659190", "NHS number must be 10 digits long, not 11"),
    ("1111111111", nhs_number.SAME_DIGITS),
    ("0000000000", nhs_number.SAME_DIGITS),  # passes modulus 11, still not a number
    ("1234567890", nhs_number.NO_CHECK_DIGIT),  # first nine digits give check value 10
    ("9434765918", nhs_number.BAD_CHECK_DIGIT),
    ("9434765191", nhs_number.BAD_CHECK_DIGIT),  # two digits swapped
]


@pytest.mark.parametrize(("raw", "digits"), ACCEPTED)
def test_accepted_numbers_normalise_to_ten_digits(raw, digits):
    assert nhs_number.normalise(raw) == digits
    assert nhs_number.is_valid(raw)


@pytest.mark.parametrize(("raw", "message"), REFUSED)
def test_refused_numbers_say_which_rule_they_break(raw, message):
    with pytest.raises(CohortError) as caught:
        nhs_number.normalise(raw)
    assert caught.value.message == message
    assert caught.value.field == "nhs_number"
    assert not nhs_number.is_valid(raw)


@pytest.mark.parametrize("raw", [r[0] for r in REFUSED if len(r[0].strip()) >= 9])
def test_refusals_never_repeat_the_number(raw):
    with pytest.raises(CohortError) as caught:
        nhs_number.normalise(raw)
    assert raw.strip() not in caught.value.message
