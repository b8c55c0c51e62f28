"""Languages of the cohort and the Babel catalogs that speak them.

Two languages matter on a consent page: the *UI language* the midwife works in, and the
*woman's language* in which the participant-facing statements are shown beside English.
Both come from here. Catalogs live in ``translations/<code>/LC_MESSAGES/messages.mo``,
compiled by the set-up step (``make translations``); a missing catalog falls back to
English, never to an error.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from cohort.errors import CohortError

if TYPE_CHECKING:  # forms imports this module: its messages are Messages
    from forms.spec import FormSpec

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str
    locale: str  # the Babel/CLDR locale used for dates and numbers
    english_name: str

    @property
    def native_name(self) -> str:
        return Locale.parse(self.locale).get_display_name(self.locale).split(" (")[0]

    @property
    def direction(self) -> str:
        rtl = Locale.parse(self.locale).character_order == "right-to-left"
        return "rtl" if rtl else "ltr"


# The cohort's language communities (BaBi's Bradford and Tower Hamlets sites).
LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "en_GB", "English"),
        Language("ur", "ur_PK", "Urdu"),
        # Shahmukhi script: Bradford's Punjabi speakers are mostly of Pakistani heritage.
        Language("pa", "pa_Arab_PK", "Punjabi"),
        Language("pl", "pl_PL", "Polish"),
        Language("ro", "ro_RO", "Romanian"),
        Language("sk", "sk_SK", "Slovak"),
        Language("ar", "ar", "Arabic"),
        Language("bn", "bn_BD", "Bengali"),
    )
}

Gettext = Callable[[str], str]


def _as_written(text: str) -> str:
    return text


@dataclass(frozen=True)
class Message:
    """A marked message and its values, translated only where it is shown: the catalogs
    carry one msgid per shape of message (``row %(row)s: …``), never one per value, and
    the same refusal reads in English on the CLI and the API and in the UI language on a
    page. A value that is itself a ``Message`` is translated too."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def translated(self, gettext: Gettext) -> str:
        text = gettext(self.template)
        if not self.params:
            return text
        values = {
            name: value.translated(gettext) if isinstance(value, Message) else value
            for name, value in self.params.items()
        }
        return text % values

    def __str__(self) -> str:
        return self.translated(_as_written)


Refusal = TypeVar("Refusal", bound=CohortError)


def refusal(
    kind: type[Refusal], template: str, /, *, field: str | None = None, **params: object
) -> Refusal:
    """A ``kind`` of refusal whose message is a marked ``template`` with its values: English
    as its ``message`` (the CLI, the API), the ``Message`` as its ``text`` for a page to
    translate (``cohort.web.pages.error_text``). A message without values needs no more
    than ``kind(N_(...))``: a page looks it up as written."""
    text = Message(template, params)
    error = kind(str(text), field=field)
    error.text = text
    return error


def language(code: str | None) -> Language:
    """The language for a code, or English for an unknown or missing one."""
    return LANGUAGES.get(code or DEFAULT, LANGUAGES[DEFAULT])


@cache
def translations(code: str) -> NullTranslations:
    if code == DEFAULT or code not in LANGUAGES:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [code], DOMAIN)


def gettext(code: str) -> Gettext:
    return translations(language(code).code).gettext


def catalog_translation(code: str, text: str) -> str | None:
    """The catalogs' translation of ``text`` in ``code``, None when they have none; one
    that reads as the English (Polish "Roma") is a translation all the same, which
    comparing ``gettext``'s answer with the English could not tell."""
    # gettext's own table: the module offers no public way to ask whether a message is in it
    table: dict[str, str] = getattr(translations(language(code).code), "_catalog", {})
    return table.get(text)


@lru_cache(maxsize=256)
def instrument_gettext(spec: "FormSpec", code: str) -> Gettext:
    """An instrument's text in ``code``: the translation uploaded for its version, else the
    catalogs' (which hold the shipped instrument's text), else the English."""
    catalog = gettext(code)
    uploaded = spec.translations.get(language(code).code)
    if not uploaded:
        return catalog
    return lambda text: uploaded.get(text) or catalog(text)


def ngettext(code: str) -> Callable[[str, str, int], str]:
    return translations(language(code).code).ngettext


def format_date(value: date | datetime, code: str, style: str = "long") -> str:
    return babel_format_date(value, format=style, locale=language(code).locale)


def format_datetime(value: datetime, code: str, style: str = "medium") -> str:
    return babel_format_datetime(value, format=style, locale=language(code).locale)


def format_number(value: float, code: str) -> str:
    return format_decimal(value, locale=language(code).locale)
