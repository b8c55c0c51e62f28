"""What a new version of the consent instrument must keep, checked before it is published
(page, API and ``cohort forms import`` alike): the questions consents and declines are
recorded by keep their type, identifier flag, validation and answer codes, and only the
identity vault's fields are marked ``Identifier? = y`` (the vault holds nothing else, so
any other would be dropped). Labels, notes, branching, order and new questions are free:
a new question's answers are kept with the record (``Consent.answers``)."""

from functools import lru_cache

from sqlmodel import Session

from cohort import capture, vault
from cohort.i18n import Message
from cohort.models import Instrument
from forms import dictionary, registry
from forms.dictionary import DictionaryError, Problem
from forms.i18n import N_
from forms.spec import FieldSpec, FormSpec

# The questions capture reads, and how far their answer codes may move from the shipped.
REQUIRED = (
    "outcome",
    "discussion_language",
    capture.ITEMS_FIELD,
    "age_band",
    *vault.REQUIRED_FIELDS,
)
OPTIONAL = ("interpreter_used", "leaflet_given", "leaflet_language", "ethnicity")
SAME_CODES = ("outcome", "age_band", "interpreter_used", "leaflet_given")
KNOWN_CODES = (capture.ITEMS_FIELD, "discussion_language", "leaflet_language")  # a subset

MISSING = N_('the consent form must keep its question "%(field)s": consents are recorded by it')
CHANGED = N_(
    '"%(field)s" must keep the type, identifier flag, validation and answer codes it has in '
    "the shipped form: consents are recorded by it"
)
NOT_IN_VAULT = N_(
    '"%(field)s" is marked Identifier? = y, but the identity vault keeps only %(fields)s'
)


@lru_cache(maxsize=1)
def shipped() -> FormSpec:
    name, version = registry.DEFAULT
    return dictionary.parse(registry.shipped_text(name), version=version)


def _compatible(new: FieldSpec, old: FieldSpec) -> bool:
    if (new.type, new.identifier, new.validation) != (old.type, old.identifier, old.validation):
        return False
    codes, known = set(new.codes), set(old.codes)
    if new.name in SAME_CODES:
        return codes == known
    if new.name in KNOWN_CODES:
        return bool(codes) and codes <= known
    return True


def problems(spec: FormSpec) -> list[Problem]:
    """Why ``spec`` cannot be a version of the consent instrument (none: it can)."""
    if spec.name != capture.FORM:
        return []
    base, found = shipped(), []
    names = {field.name for field in spec.fields}
    for name in REQUIRED:
        if name not in names:
            found.append(Problem(None, None, Message(MISSING, {"field": name})))
    for field in spec.fields:
        if field.name in (*REQUIRED, *OPTIONAL):
            if not _compatible(field, base.field(field.name)):
                found.append(Problem(field.row, None, Message(CHANGED, {"field": field.name})))
        elif field.identifier and field.name not in vault.FIELDS:
            held = ", ".join(vault.FIELDS)
            text = Message(NOT_IN_VAULT, {"field": field.name, "fields": held})
            found.append(Problem(field.row, None, text))
    return found


def check(spec: FormSpec) -> None:
    """Refuse ``spec`` (``DictionaryError``, every problem) unless it may be published."""
    found = problems(spec)
    if found:
        raise DictionaryError(found)


def publish(session: Session, csv_text: str, *, version: str, actor: str) -> Instrument:
    """``forms.registry.publish``, the checks above applied to the form it parses."""
    return registry.publish(session, csv_text, version=version, actor=actor, check=check)
