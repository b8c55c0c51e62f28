"""Sites: codes normalised, names required, duplicates refused, every addition audited."""

import pytest
from sqlmodel import select

from cohort import sites
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict, NotFound
from cohort.i18n import Message
from cohort.models import AuditEvent


@pytest.fixture
def db(engine):
    with session_scope(engine) as session:
        yield session


def test_add_list_and_get(db):
    sites.add_site(db, " rae ", "  Bradford   Royal Infirmary ", actor="ada")
    sites.add_site(db, "AIRE", "Airedale", actor="ada")
    assert [(s.code, s.name) for s in sites.list_sites(db)] == [
        ("AIRE", "Airedale"),
        ("RAE", "Bradford Royal Infirmary"),
    ]
    assert sites.get_site(db, "rae").name == "Bradford Royal Infirmary"
    db.commit()  # events join the chain when their transaction commits
    (event, _) = db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert event.action == "site.add" and event.actor == "ada"
    assert event.detail == {"code": "RAE", "name": "Bradford Royal Infirmary"}


@pytest.mark.parametrize(
    ("code", "name", "field", "words"),
    [
        ("R", "Short code", "code", "2 to 16"),
        ("RAE!", "Punctuation", "code", "letters, digits or dashes"),
        ("A" * 17, "Too long", "code", "2 to 16"),
        ("RAE", "   ", "name", "missing"),
        ("RAE", "x" * 201, "name", "at most 200"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_added(db, code, name, field, words):
    with pytest.raises(CohortError) as exc:
        sites.add_site(db, code, name, actor="ada")
    assert exc.value.field == field and words in exc.value.message
    assert sites.list_sites(db) == []


def test_duplicate_code_is_a_conflict(db):
    sites.add_site(db, "RAE", "Bradford", actor="ada")
    with pytest.raises(Conflict, match="already exists"):
        sites.add_site(db, "rae", "Bradford again", actor="ada")


def test_unknown_code_is_not_found(db):
    with pytest.raises(NotFound, match="NOPE"):
        sites.get_site(db, "NOPE")


@pytest.mark.parametrize(
    ("code", "name", "refusal"),
    [
        ("rae", "Again", Message(sites.CODE_TAKEN, {"code": "RAE"})),
        ("AIRE", "x" * 201, Message(sites.NAME_TOO_LONG, {"max": 200})),
    ],
)
def test_a_refusal_keeps_its_values_apart_from_its_text(db, code, name, refusal):
    """So a page translates the one message and puts the values in: the code as typed."""
    sites.add_site(db, "RAE", "Bradford", actor="ada")
    with pytest.raises(CohortError) as exc:
        sites.add_site(db, code, name, actor="ada")
    assert exc.value.text == refusal
    assert exc.value.message == str(refusal)  # the CLI and the API: English
