"""Translations of a published version uploaded at run time, on SQLite and PostgreSQL: the
translators' file holds every text once with what is known filled in; an upload names its
version and language, is refused whole on any problem, replaces an earlier one, and is
shown first, the catalogs' translations after it, the English last."""

import io

import pytest
from babel.messages.pofile import read_po, write_po
from sqlmodel import Session, func, select

from cohort import i18n
from cohort.db import session_scope
from cohort.errors import CohortError, NotFound
from cohort.models import AuditEvent, InstrumentTranslation
from forms import registry, uploaded_translations
from tests.forms.conftest import SHIPPED

NEW_LABEL = "Her age on the day"
CHANGED = SHIPPED.read_text(encoding="utf-8").replace("Her age,", f"{NEW_LABEL},")


@pytest.fixture
def published(engine):
    """The shipped form as 1.0 and, current, a 1.1 whose age label the catalogs lack."""
    with session_scope(engine) as s:
        registry.publish(s, SHIPPED.read_text(encoding="utf-8"), version="1.0", actor="dm")
        registry.publish(s, CHANGED, version="1.1", actor="dm")
    return engine


def spec_of(engine, version="1.1"):
    with Session(engine) as s:
        return uploaded_translations.attach(s, registry.get(s, "babi_consent", version))


def filled(engine, language="ur", **translations: str) -> bytes:
    """The version's file in ``language`` with ``translations`` (English: text) written in."""
    catalog = read_po(io.BytesIO(uploaded_translations.template(spec_of(engine), language)))
    for english, text in translations.items():
        catalog[english].string = text
    out = io.BytesIO()
    write_po(out, catalog)
    return out.getvalue()


def upload(engine, data: bytes) -> uploaded_translations.Upload:
    with session_scope(engine) as s:
        taken = uploaded_translations.read(s, data)
        uploaded_translations.store(s, taken, "dm")
    return taken


def stored(engine) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(InstrumentTranslation)).one()


def test_the_file_holds_each_text_once_with_the_catalogs_translations_filled_in(published):
    catalog = read_po(io.BytesIO(uploaded_translations.template(spec_of(published), "ur")))
    assert (catalog.project, catalog.version, str(catalog.locale)) == ("babi_consent", "1.1", "ur")
    assert catalog[NEW_LABEL].string == ""  # new in 1.1: nobody has translated it
    yes = catalog["Yes"]
    assert yes.string == i18n.gettext("ur")("Yes") != "Yes"
    assert len(yes.auto_comments) > 1  # one message wherever "Yes" appears
    texts = [m.id for m in catalog if m.id]
    assert len(texts) == len(set(texts))


def test_an_upload_is_shown_first_then_the_catalogs_then_the_english(published):
    before = uploaded_translations.coverage(spec_of(published))
    taken = upload(published, filled(published, **{NEW_LABEL: "اس دن اس کی عمر"}))
    assert taken.language == "ur" and NEW_LABEL in taken.entries
    spec = spec_of(published)
    say = i18n.instrument_gettext(spec, "ur")
    assert say(NEW_LABEL) == "اس دن اس کی عمر"
    assert say("Yes") == i18n.gettext("ur")("Yes")
    assert i18n.instrument_gettext(spec, "pl")(NEW_LABEL) == NEW_LABEL
    done, of = uploaded_translations.coverage(spec)["ur"]
    assert (done, of) == (before["ur"][0] + 1, before["ur"][1]) and done == of
    assert i18n.instrument_gettext(spec_of(published, "1.0"), "ur")(NEW_LABEL) == NEW_LABEL


def test_a_new_upload_replaces_the_last_and_each_is_audited(published):
    upload(published, filled(published, **{NEW_LABEL: "پہلا"}))
    upload(published, filled(published, **{NEW_LABEL: "دوسرا"}))
    assert i18n.instrument_gettext(spec_of(published), "ur")(NEW_LABEL) == "دوسرا"
    assert stored(published) == 1
    with Session(published) as s:
        events = s.exec(
            select(AuditEvent).where(AuditEvent.action == "instrument.translations.upload")
        ).all()
    assert len(events) == 2
    assert events[-1].detail["language"] == "ur" and events[-1].detail["version"] == "1.1"


def test_fuzzy_and_empty_translations_are_left_out(published):
    catalog = read_po(io.BytesIO(filled(published, **{NEW_LABEL: "اندازہ"})))
    catalog[NEW_LABEL].flags.add("fuzzy")
    out = io.BytesIO()
    write_po(out, catalog)
    taken = upload(published, out.getvalue())
    assert NEW_LABEL not in taken.entries
    assert i18n.instrument_gettext(spec_of(published), "ur")(NEW_LABEL) == NEW_LABEL


def _retitled(data: bytes, header: str, value: str) -> bytes:
    lines = data.decode().splitlines(keepends=True)
    return "".join(
        f'"{header}: {value}\\n"\n' if line.startswith(f'"{header}:') else line for line in lines
    ).encode()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: b'not a po file\n"', "not a gettext PO file"),
        (lambda d: d.replace("اس".encode(), "\xe9".encode("latin-1")), "not UTF-8"),
        (lambda d: d + b"x" * uploaded_translations.MAX_BYTES, "larger than 2 MB"),
        (lambda d: _retitled(d, "Project-Id-Version", "PROJECT VERSION"), "which form version"),
        (lambda d: _retitled(d, "Language", "en"), "is en: give one of ur, pa"),
        (lambda d: _retitled(d, "Language", "xx"), "is xx"),
        (
            lambda d: d + b'\nmsgid "Shoe size"\nmsgstr "x"\n',
            "“Shoe size” is not a text of babi_consent version 1.1",
        ),
        (
            lambda d: d + b'\nmsgid "Yes"\nmsgid_plural "Yeses"\nmsgstr[0] "a"\nmsgstr[1] "b"\n',
            "plural",
        ),
        (lambda d: d.replace("اس دن".encode(), b"\\a"), "control character"),
        (lambda d: d.replace("اس دن".encode(), b"x" * 5000), "longer than 4000"),
    ],
)
def test_a_file_with_any_problem_is_refused_whole(published, change, problem):
    good = filled(published, **{NEW_LABEL: "اس دن اس کی عمر", "Yes": "ہاں جی"})
    with pytest.raises(CohortError, match=problem), session_scope(published) as s:
        uploaded_translations.read(s, change(good))
    assert stored(published) == 0


def test_a_file_for_a_version_never_published_is_refused(published):
    data = _retitled(filled(published), "Project-Id-Version", "babi_consent 9.9")
    with pytest.raises(NotFound, match=r"babi_consent version 9\.9"), session_scope(published) as s:
        uploaded_translations.read(s, data)


def test_a_refusal_lists_five_problems_and_says_there_are_more(published):
    extra = "".join(f'\nmsgid "Unknown {n}"\nmsgstr "x"\n' for n in range(7)).encode()
    with pytest.raises(CohortError) as refused, session_scope(published) as s:
        uploaded_translations.read(s, filled(published) + extra)
    assert refused.value.message.startswith("7 translations are refused")
    assert refused.value.message.count("is not a text of") == 5 and "…" in refused.value.message
