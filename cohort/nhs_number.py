"""NHS number rules: ten digits, modulus 11 check digit, typed with spaces or dashes.

The check-digit arithmetic is the ``nhs-number`` library's; the rules and their messages
are ours, so a midwife is told exactly what is wrong (in her language: they are marked for
the catalogs). Messages never repeat the number.
A valid number can still be the wrong person's (a mother's on a baby's row): only the
other identifiers can catch that.
"""

from nhs_number import calculate_checksum

from cohort.errors import CohortError
from forms.i18n import N_

LENGTH = 10
SEPARATORS = " -"

MISSING = N_("NHS number is missing")
NOT_DIGITS = N_("NHS number must contain only digits (spaces and dashes are allowed)")
WRONG_LENGTH = N_("NHS number must be 10 digits long, not %(length)s")
SAME_DIGITS = N_("NHS number cannot be one digit repeated: check it against the patient's record")
NO_CHECK_DIGIT = N_("NHS number is not valid: no number starting with these nine digits exists")
BAD_CHECK_DIGIT = N_("NHS number is not valid: its last digit does not match, check for a typo")


class InvalidNhsNumber(CohortError):
    """A refused number; ``template`` and ``params`` let a form show it translated."""

    def __init__(self, template: str, **params: object) -> None:
        super().__init__(template % params if params else template, field="nhs_number")
        self.template = template
        self.params = params


def _fail(message: str, **params: object) -> InvalidNhsNumber:
    return InvalidNhsNumber(message, **params)


def normalise(raw: str) -> str:
    """Return the 10 digits of ``raw`` or raise the first rule it breaks."""
    digits = "".join(ch for ch in raw.strip() if ch not in SEPARATORS)
    if not digits:
        raise _fail(MISSING)
    if not (digits.isascii() and digits.isdigit()):
        raise _fail(NOT_DIGITS)
    if len(digits) != LENGTH:
        raise _fail(WRONG_LENGTH, length=len(digits))
    if len(set(digits)) == 1:
        raise _fail(SAME_DIGITS)
    expected = calculate_checksum(digits[:-1])
    if expected == 10:
        raise _fail(NO_CHECK_DIGIT)
    if expected != int(digits[-1]):
        raise _fail(BAD_CHECK_DIGIT)
    return digits


def is_valid(raw: str) -> bool:
    try:
        normalise(raw)
    except CohortError:
        return False
    return True
