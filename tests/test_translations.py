"""The shipped catalogs keep up with the code: every message a fresh extraction finds (UI,
validation and instrument text, mapped by babel.cfg) is in every language's catalog,
translated, not fuzzy, with the same placeholders and markup, and compiles; the compiled
catalogs are what cohort.i18n serves."""

import io
import re

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from cohort import i18n
from tests.catalogs import (  # noqa: F401 (compiled and served_from are fixtures)
    SHIPPED,
    TRANSLATIONS,
    compiled,
    served_from,
    shipped_catalogs,
)

ROOT = TRANSLATIONS.parent
TEMPLATE = TRANSLATIONS / "messages.pot"

# What must survive translation unchanged: printf-style (%(name)s, %s) and str.format
# ({name}, {}) placeholders, HTML tags and entities.
TOKENS = [
    re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"),
    re.compile(r"\{[^{}]*\}"),
    re.compile(r"</?[a-zA-Z][^<>]*>"),
    re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#x[0-9a-fA-F]+);"),
]


def tokens(text: str) -> set[str]:
    text = text.replace("%%", "").replace("{{", "").replace("}}", "")
    return {token for pattern in TOKENS for token in pattern.findall(text)}


def _key(message: Message) -> tuple[str, str | None]:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return msgid, message.context


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


@pytest.fixture(scope="session")
def extracted() -> Catalog:
    """A fresh extraction, in memory, exactly as `make translations` maps it."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


@pytest.fixture(scope="session")
def catalogs() -> dict[str, Catalog]:
    return shipped_catalogs()


def test_every_non_english_language_ships_a_catalog_and_no_other_does():
    on_disk = {p.name for p in TRANSLATIONS.iterdir() if p.is_dir()}
    assert on_disk == set(SHIPPED)


def test_the_extraction_finds_ui_and_instrument_text(extracted):
    ids = {_key(m)[0] for m in _messages(extracted)}
    assert {"Enter an answer", "Link my baby's health records to the study"} <= ids


def test_the_committed_template_matches_a_fresh_extraction(extracted):
    with TEMPLATE.open("rb") as pot:
        template = read_po(pot)
    stale = {_key(m) for m in _messages(template)} ^ {_key(m) for m in _messages(extracted)}
    assert not stale, f"run `make translations`: {sorted(stale, key=str)}"


@pytest.mark.parametrize("code", SHIPPED)
def test_the_catalog_has_every_extracted_message(code, extracted, catalogs):
    catalog = catalogs[code]
    missing = [
        message.id
        for message in _messages(extracted)
        if (found := catalog.get(*_key(message))) is None or found.id != message.id
    ]
    assert not missing, f"run `make translations` and translate: {missing}"


@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(code, catalogs):
    catalog = catalogs[code]
    assert not catalog.fuzzy, "the catalog header is marked fuzzy"
    untranslated = [
        m.id
        for m in _messages(catalog)
        if not (all(m.string) if isinstance(m.string, tuple | list) else m.string)
    ]
    fuzzy = [m.id for m in _messages(catalog) if m.fuzzy]
    assert not untranslated, f"untranslated in {code}: {untranslated}"
    assert not fuzzy, f"fuzzy in {code}: {fuzzy}"


@pytest.mark.parametrize("code", SHIPPED)
def test_placeholders_and_markup_survive_translation(code, catalogs):
    wrong = []
    for message in _messages(catalogs[code]):
        if isinstance(message.id, tuple | list):
            allowed = [tokens(message.id[0]), tokens(message.id[1])]
            forms = message.string
        else:
            allowed = [tokens(message.id)]
            forms = [message.string]
        wrong += [(message.id, form) for form in forms if form and tokens(form) not in allowed]
    assert not wrong, f"placeholders or markup differ in {code}: {wrong}"


@pytest.mark.parametrize("code", SHIPPED)
def test_the_catalog_compiles(code, catalogs):
    catalog = catalogs[code]
    assert catalog.locale is not None and catalog.locale.language == code
    errors = [(message.id, [str(e) for e in problems]) for message, problems in catalog.check()]
    assert not errors, f"{code}: {errors}"
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert buffer.getvalue()


@pytest.mark.usefixtures("served_from")
@pytest.mark.parametrize("code", SHIPPED)
def test_cohort_i18n_serves_the_compiled_translation(code, catalogs):
    catalog = catalogs[code]
    gettext, ngettext = i18n.gettext(code), i18n.ngettext(code)
    for message in _messages(catalog):
        if isinstance(message.id, tuple | list):
            for n in (1, 2, 5, 11, 100):
                expected = message.string[catalog.plural_func(n)]
                assert ngettext(*message.id, n) == expected
        else:
            assert gettext(message.id) == message.string
    assert gettext("Yes") != "Yes"


@pytest.mark.usefixtures("served_from")
def test_english_is_the_source_language_and_needs_no_catalog():
    assert i18n.gettext("en")("Yes") == "Yes"
