"""Published instrument versions, on SQLite and PostgreSQL: parsed before anything is
stored, never changed once published, old versions still loadable, exported byte for byte."""

import pytest
from sqlmodel import Session, delete, func, select

from cohort import audit
from cohort.config import Settings
from cohort.db import make_engine, session_scope
from cohort.errors import CohortError, Conflict, NotFound
from cohort.instance import initialise
from cohort.models import AuditEvent, Instrument
from forms import registry
from forms.dictionary import DictionaryError
from tests.forms.conftest import SHIPPED, dictionary_csv

# As Excel saves it: a byte-order mark, CRLF line ends, a label beyond ASCII.
SURVEY_1 = "\ufeff" + dictionary_csv(
    {"form_name": "survey", "field_name": "q", "field_label": "Zięcik, ile masz lat?"}
).replace("\n", "\r\n")
SURVEY_2 = dictionary_csv(
    {"form_name": "survey", "field_name": "q", "field_label": "Wiek"},
    {"form_name": "survey", "field_name": "r"},
)


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _publish(engine, text: str, version: str) -> Instrument:
    with session_scope(engine) as s:
        return registry.publish(s, text, version=version, actor="dm")


def test_a_published_version_exports_byte_for_byte_and_loads(engine):
    _publish(engine, SURVEY_1, "1")
    with Session(engine) as s:
        assert registry.export(s, "survey").encode() == SURVEY_1.encode()
        spec = registry.get(s, "survey", "1")
    assert (spec.name, spec.version, spec.field("q").label) == (
        "survey",
        "1",
        "Zięcik, ile masz lat?",
    )


def test_publishing_is_audited_with_the_dictionarys_hash(engine):
    instrument = _publish(engine, SURVEY_1, "1")
    with Session(engine) as s:
        event = s.exec(select(AuditEvent)).one()
        assert audit.verify(s).ok
    assert (event.action, event.actor) == ("instrument.publish", "dm")
    assert event.detail == {"name": "survey", "version": "1", "sha256": instrument.sha256}


def test_publishing_the_same_text_again_changes_nothing(engine):
    first = _publish(engine, SURVEY_1, "1")
    again = _publish(engine, SURVEY_1, "1")
    assert again.id == first.id
    assert (_count(engine, Instrument), _count(engine, AuditEvent)) == (1, 1)


def test_a_version_never_changes_once_published(engine):
    _publish(engine, SURVEY_1, "1")
    with pytest.raises(Conflict, match="already published with different content"):
        _publish(engine, SURVEY_2, "1")
    with Session(engine) as s:
        assert registry.export(s, "survey", "1") == SURVEY_1
    assert (_count(engine, Instrument), _count(engine, AuditEvent)) == (1, 1)


def test_the_current_version_is_the_last_published_and_old_ones_keep_their_meaning(engine):
    _publish(engine, SURVEY_1, "1")
    _publish(engine, SURVEY_2, "1.1")
    with Session(engine) as s:
        current = registry.current(s, "survey")
        old = registry.get(s, "survey", "1")
        assert registry.export(s, "survey") == SURVEY_2
        listed = [(i.name, i.version) for i in registry.versions(s)]
    assert (current.version, [f.name for f in current.fields]) == ("1.1", ["q", "r"])
    assert (old.version, old.field("q").label) == ("1", "Zięcik, ile masz lat?")
    assert listed == [("survey", "1"), ("survey", "1.1")]


@pytest.mark.parametrize(
    ("text", "version", "refusal", "message"),
    [
        (SURVEY_1.replace("text", "slider2"), "1", DictionaryError, 'unknown field type "slider2"'),
        ("", "1", DictionaryError, "the file is empty"),
        (SURVEY_1, "", CohortError, "must be 1 to 16 letters"),
        (SURVEY_1, "1.0 beta", CohortError, "must be 1 to 16 letters"),
        (SURVEY_1, "v" * 17, CohortError, "must be 1 to 16 letters"),
    ],
)
def test_a_refused_publication_stores_nothing(engine, text, version, refusal, message):
    with pytest.raises(refusal, match=message):
        _publish(engine, text, version)
    assert (_count(engine, Instrument), _count(engine, AuditEvent)) == (0, 0)


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        (lambda s: registry.current(s, "nothing"), "no instrument nothing is published"),
        (lambda s: registry.get(s, "survey", "9"), "no instrument survey version 9"),
        (lambda s: registry.export(s, "survey", "9"), "no instrument survey version 9"),
    ],
)
def test_unknown_forms_and_versions_are_not_found(engine, lookup, message):
    _publish(engine, SURVEY_1, "1")
    with Session(engine) as s, pytest.raises(NotFound, match=message):
        lookup(s)


def test_the_shipped_instrument_is_installed_once_and_not_as_anyones_action(engine):
    for _ in range(2):
        with session_scope(engine) as s:
            registry.ensure_default(s)
    with Session(engine) as s:
        installed = s.exec(select(Instrument)).one()
        assert registry.export(s, "babi_consent").encode() == SHIPPED.read_bytes()
    assert (installed.version, installed.published_by) == ("1.0", "system")
    assert _count(engine, AuditEvent) == 0


def test_the_shipped_instrument_never_displaces_a_version_published_since(engine):
    with session_scope(engine) as s:
        registry.ensure_default(s)
    newer = SHIPPED.read_bytes().decode().replace("Her age", "Her age band")
    _publish(engine, newer, "1.1")
    with session_scope(engine) as s:
        s.exec(delete(Instrument).where(Instrument.version == "1.0"))
    with session_scope(engine) as s:
        registry.ensure_default(s)
    with Session(engine) as s:
        assert registry.current(s, "babi_consent").version == "1.1"
    assert _count(engine, Instrument) == 1


def test_initialising_an_instance_installs_the_shipped_instrument(db_url, tmp_path):
    initialise(Settings(data_dir=tmp_path / "var", database_url=db_url))
    initialise(Settings(data_dir=tmp_path / "var", database_url=db_url))
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            assert registry.current(s, "babi_consent").version == "1.0"
        assert _count(engine, Instrument) == 1
    finally:
        engine.dispose()
