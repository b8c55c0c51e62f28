"""Text validation types a dictionary may name, each a rule that cleans a typed answer or
says what is wrong with it. Messages are marked for Babel and translated where shown.

Cleaning normalises what people type: an NHS number to its ten digits, a postcode to
``LS1 4AP``, a phone number to its digits with a leading 0, an integer without a sign or
leading zeros. ``integer``, ``number`` and ``date_ymd`` also have an order, so a
dictionary may give them a minimum and maximum.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cohort import nhs_number
from forms.i18n import N_, Gettext


class Invalid(ValueError):
    """An answer a rule refuses: ``message`` (untranslated) % ``params`` says why."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self, gettext: Gettext) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


@dataclass(frozen=True)
class Rule:
    clean: Callable[[str], str]  # raises Invalid
    order: Callable[[str], object] | None = None  # sort key of a clean value
    too_low: str = ""
    too_high: str = ""


def _pattern(regex: str, message: str, tidy: Callable[[re.Match], str]) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def clean(raw: str) -> str:
        match = compiled.fullmatch(raw)
        if match is None:
            raise Invalid(message)
        return tidy(match)

    return clean


def _date(raw: str) -> str:
    message = N_("Enter a real date as year-month-day, for example 1994-03-27")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise Invalid(message)
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        raise Invalid(message) from None


def _phone(raw: str) -> str:
    compact = re.sub(r"[\s-]", "", raw)
    if compact.startswith("+44"):  # +44 (0)113…, +44 0113… and +44 113… are all 0113…
        compact = "0" + compact[3:].removeprefix("(0)").removeprefix("0")
    digits = compact.replace("(", "").replace(")", "")
    if not re.fullmatch(r"0\d{9,10}", digits):
        raise Invalid(N_("Enter a UK phone number, like 01632 960 001 or 07700 900 982"))
    return digits


def postcode(raw: str) -> str:
    """A UK postcode in capitals with one space before its inward code: the one spelling
    the vault, the form and the deprivation lookup share."""
    match = re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})", re.sub(r"\s+", " ", raw.upper()))
    if match is None:
        raise Invalid(N_("Enter a full UK postcode, like LS1 4AP"))
    return f"{match[1]} {match[2]}"


def _nhs_number(raw: str) -> str:
    try:
        return nhs_number.normalise(raw)
    except nhs_number.InvalidNhsNumber as exc:  # its messages say which rule it breaks
        raise Invalid(exc.template, **{k: str(v) for k, v in exc.params.items()}) from None


NUMBER_TOO_LOW = N_("Enter a number of %(min)s or more")
NUMBER_TOO_HIGH = N_("Enter a number of %(max)s or less")

RULES: dict[str, Rule] = {
    "date_ymd": Rule(
        _date,
        date.fromisoformat,
        N_("Enter a date on or after %(min)s"),
        N_("Enter a date on or before %(max)s"),
    ),
    "integer": Rule(
        _pattern(r"[-+]?\d+", N_("Enter a whole number"), lambda m: str(int(m[0]))),
        int,
        NUMBER_TOO_LOW,
        NUMBER_TOO_HIGH,
    ),
    "number": Rule(
        _pattern(r"[-+]?(\d+(\.\d*)?|\.\d+)", N_("Enter a number"), lambda m: m[0]),
        Decimal,
        NUMBER_TOO_LOW,
        NUMBER_TOO_HIGH,
    ),
    "email": Rule(
        _pattern(
            r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+",
            N_("Enter an email address like name@example.com"),
            lambda m: m[0],
        )
    ),
    "phone": Rule(_phone),
    "postcode": Rule(postcode),
    "nhs_number": Rule(_nhs_number),
}


def check(validation: str, raw: str, minimum: str = "", maximum: str = "") -> str:
    """The clean form of ``raw`` under rule ``validation`` within the (clean) bounds."""
    rule = RULES[validation]
    value = rule.clean(raw.strip())
    if rule.order is not None:
        if minimum and rule.order(value) < rule.order(minimum):
            raise Invalid(rule.too_low, min=minimum)
        if maximum and rule.order(value) > rule.order(maximum):
            raise Invalid(rule.too_high, max=maximum)
    return value
