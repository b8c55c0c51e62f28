"""Translations of a published instrument version, uploaded at run time as REDCap's
multi-language management lets a project upload them.

The catalogs under ``translations/`` hold the shipped instrument's text and come with a
release. A dictionary a data manager publishes later has labels they do not hold, so its
translators get a gettext PO file of exactly that version's text, the translations already
known filled in (uploaded, else the catalogs'), the rest empty, and upload it back. The
file names its form version (``Project-Id-Version``) and language (``Language``), so it
cannot be applied to the wrong one. The form then shows an uploaded translation first,
then the catalogs', then the English (``cohort.i18n.instrument_gettext``).
"""

import hashlib
import io
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po
from sqlmodel import Session, select

from cohort import audit, i18n
from cohort.errors import CohortError
from cohort.models import InstrumentTranslation, utcnow
from forms import registry
from forms.extract import instrument_texts
from forms.i18n import N_
from forms.spec import FormSpec, Translations

MAX_BYTES = 2 * 1024 * 1024
MAX_TEXT = 4_000  # characters of one translation
LISTED = 5  # problems named in a refusal; the count says how many more
LANGUAGES = tuple(code for code in i18n.LANGUAGES if code != i18n.DEFAULT)

NOT_PO = N_("the file is not a gettext PO file: %(problem)s")
EMPTY = N_("the file is empty: choose a translation file (PO) filled in")
NOT_UTF8 = N_("the file is not UTF-8 text: save it as UTF-8")
TOO_BIG = N_("the file is larger than 2 MB: check it is a translation file")
NO_VERSION = N_(
    "the file does not say which form version it translates (its Project-Id-Version "
    "header): download the translation file of that version and fill it in"
)
NO_LANGUAGE = N_(
    "the file's language (its Language header) is %(language)s: give one of %(languages)s"
)
PROBLEMS = N_("%(count)s translations are refused: %(problems)s")
NOT_ITS_TEXT = N_("“%(text)s” is not a text of %(name)s version %(version)s")
PLURAL = N_("“%(text)s” has plural forms, which an instrument's text never has")
CONTROL = N_("the translation of “%(text)s” holds a control character")
TOO_LONG = N_("the translation of “%(text)s” is longer than %(max)s characters")


@dataclass(frozen=True)
class Upload:
    spec: FormSpec
    language: str
    entries: dict[str, str]  # English -> translation, untranslated and fuzzy ones left out

    @property
    def sha256(self) -> str:
        text = json.dumps(self.entries, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def attach(session: Session, spec: FormSpec) -> FormSpec:
    """``spec`` with the translations uploaded for its version (one query)."""
    rows = session.exec(
        select(InstrumentTranslation.language, InstrumentTranslation.entries).where(
            InstrumentTranslation.name == spec.name,
            InstrumentTranslation.version == spec.version,
        )
    ).all()
    if not rows:
        return spec
    return replace(spec, translations=Translations.of(dict(rows)))


def _texts(spec: FormSpec) -> dict[str, list[tuple[int, str]]]:
    """Each distinct text, with every (row, place) it appears in: one message, as in the
    catalogs, so "Yes" is translated once."""
    found: dict[str, list[tuple[int, str]]] = {}
    for row, text, where in instrument_texts(spec):
        found.setdefault(text, []).append((row, where))
    return found


def _known(spec: FormSpec, code: str) -> Callable[[str], str | None]:
    """A text's translation as the form would show it: uploaded, else the catalogs'."""
    uploaded = spec.translations.get(code)
    return lambda text: uploaded.get(text) or i18n.catalog_translation(code, text)


def coverage(spec: FormSpec) -> dict[str, tuple[int, int]]:
    """(translated, of) for each language, counting the uploaded and the catalogs' ones."""
    texts = _texts(spec)
    counted = {}
    for code in LANGUAGES:
        known = _known(spec, code)
        counted[code] = (sum(known(text) is not None for text in texts), len(texts))
    return counted


def template(spec: FormSpec, language: str) -> bytes:
    """The PO file for translators of ``spec`` (with its uploads attached) in ``language``."""
    code = _language(language)
    known = _known(spec, code)
    catalog = Catalog(locale=code, project=spec.name, version=spec.version, fuzzy=False)
    source = f"{spec.name}-{spec.version}.csv"
    for text, places in _texts(spec).items():
        catalog.add(
            text,
            known(text) or "",
            locations=[(source, row) for row, _ in places],
            auto_comments=[where for _, where in places],
        )
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    return out.getvalue()


def _language(code: str | None) -> str:
    if code not in LANGUAGES:
        raise i18n.refusal(
            CohortError,
            NO_LANGUAGE,
            field="file",
            language=code or "missing",
            languages=", ".join(LANGUAGES),
        )
    return code


def _catalog(data: bytes) -> Catalog:
    if len(data) > MAX_BYTES:
        raise CohortError(TOO_BIG, field="file")
    if not data.strip():
        raise CohortError(EMPTY, field="file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise CohortError(NOT_UTF8, field="file") from None
    try:
        return read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, ValueError) as exc:
        raise i18n.refusal(CohortError, NOT_PO, field="file", problem=str(exc)[:200]) from None


def _spec_of(session: Session, catalog: Catalog) -> FormSpec:
    name, version = catalog.project, catalog.version
    if not name or not version or name == "PROJECT":
        raise CohortError(NO_VERSION, field="file")
    return registry.get(session, name, version)


def _problem(spec: FormSpec, known: set[str], english: object, translated: object) -> str | None:
    if isinstance(english, tuple | list) or isinstance(translated, tuple | list):
        return str(i18n.Message(PLURAL, {"text": str(english)[:60]}))
    if english not in known:
        shown = {"text": str(english)[:60], "name": spec.name, "version": spec.version}
        return str(i18n.Message(NOT_ITS_TEXT, shown))
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in str(translated)):
        return str(i18n.Message(CONTROL, {"text": str(english)[:60]}))
    if len(str(translated)) > MAX_TEXT:
        return str(i18n.Message(TOO_LONG, {"text": str(english)[:60], "max": MAX_TEXT}))
    return None


def read(session: Session, data: bytes) -> Upload:
    """The translations a file gives, or a refusal naming every text it cannot take (as
    many as ``LISTED``); nothing is taken from a file with any problem."""
    catalog = _catalog(data)
    spec = _spec_of(session, catalog)
    language = _language(catalog.locale_identifier)
    known = set(_texts(spec))
    problems, entries = [], {}
    for message in catalog:
        if not message.id:
            continue  # the header
        problem = _problem(spec, known, message.id, message.string)
        if problem:
            problems.append(problem)
        elif message.string and not message.fuzzy:
            entries[message.id] = message.string
    if problems:
        listed = "; ".join(problems[:LISTED]) + ("; …" if len(problems) > LISTED else "")
        raise i18n.refusal(
            CohortError, PROBLEMS, field="file", count=len(problems), problems=listed
        )
    return Upload(spec, language, entries)


def store(session: Session, upload: Upload, actor: str) -> InstrumentTranslation:
    """Keep the upload as its version's translations in its language, replacing an
    earlier upload (audited, with what it covers and its checksum)."""
    spec = upload.spec
    row = session.exec(
        select(InstrumentTranslation).where(
            InstrumentTranslation.name == spec.name,
            InstrumentTranslation.version == spec.version,
            InstrumentTranslation.language == upload.language,
        )
    ).first() or InstrumentTranslation(
        name=spec.name, version=spec.version, language=upload.language, uploaded_by=actor
    )
    row.entries, row.sha256, row.uploaded_by = upload.entries, upload.sha256, actor
    row.uploaded_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="instrument.translations.upload",
        detail={
            "name": spec.name,
            "version": spec.version,
            "language": upload.language,
            "translations": len(upload.entries),
            "texts": len(_texts(spec)),
            "sha256": upload.sha256,
        },
    )
    return row
