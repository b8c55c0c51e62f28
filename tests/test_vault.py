"""The identity vault: identifiers go in encrypted, come out unchanged, and nowhere else.

Each test runs on SQLite and on PostgreSQL (the ``engine`` fixture).
"""

import dataclasses
import re
import traceback
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from cohort import audit, vault
from cohort.db import session_scope
from cohort.errors import CohortError, Conflict, NotFound
from cohort.keys import init_keys, load_keys
from cohort.models import AuditEvent, Identity, Participant, Site
from cohort.study_id import is_valid_study_id

AMINA = vault.IdentityFields(
    nhs_number="943 476 5919",
    given_name="Amina",
    family_name="Hussain",
    date_of_birth=date(1994, 3, 17),
    postcode="BD5 0NA",
    address="12 Little Horton Lane, Bradford",
)
ZOE = vault.IdentityFields(
    nhs_number="4010232137",
    given_name="Zoë",
    family_name="O'Brien-Łukasik",
    date_of_birth=date(2001, 12, 31),
    postcode="BD9 6RJ",
)
NASREEN = vault.IdentityFields(
    nhs_number="485-777-3457",
    given_name="نسرین",
    family_name="اختر",
    date_of_birth=date(1988, 7, 4),
    postcode="BD3 9HE",
    address="Flat 2\n40 Leeds Road",
)
PEOPLE = [AMINA, ZOE, NASREEN]


@pytest.fixture
def keys(tmp_path: Path):
    init_keys(tmp_path / "keys")
    return load_keys(tmp_path / "keys")


@pytest.fixture
def site_id(engine) -> int:
    with session_scope(engine) as session:
        site = Site(code="BRI", name="Bradford Royal Infirmary")
        session.add(site)
        session.flush()
        return site.id


def _enrol(engine, keys, site_id, fields) -> Participant:
    with session_scope(engine) as session:
        return vault.enrol(session, keys, site_id, fields, actor="midwife1")


def _read(engine, keys, participant_id) -> vault.IdentityFields:
    with Session(engine) as session:
        return vault.read_identity(session, keys, participant_id)


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize("person", PEOPLE, ids=["with-address", "no-address", "arabic-script"])
def test_enrolled_identity_reads_back_unchanged_with_nhs_number_normalised(
    engine, keys, site_id, person
):
    participant = _enrol(engine, keys, site_id, person)
    expected = dataclasses.replace(person, nhs_number=re.sub(r"\D", "", person.nhs_number))
    assert _read(engine, keys, participant.id) == expected
    assert is_valid_study_id(participant.study_id)


def test_every_ciphertext_carries_the_key_id_it_was_made_with(engine, keys, site_id):
    participant = _enrol(engine, keys, site_id, AMINA)
    with Session(engine) as session:
        row = session.exec(select(Identity).where(Identity.participant_id == participant.id)).one()
    assert row.key_id == keys.current_vault_id
    for name in vault.FIELDS:
        assert getattr(row, name).startswith(f"v1.{keys.current_vault_id}.")


def test_the_same_value_never_encrypts_to_the_same_ciphertext(keys):
    first = vault.encrypt(keys, 1, "given_name", "Amina")
    assert first != vault.encrypt(keys, 1, "given_name", "Amina")
    assert vault.decrypt(keys, 1, "given_name", first) == "Amina"


@pytest.mark.parametrize("typed", ["9434765919", "943 476 5919", "943-476-5919", " 9434765919 "])
def test_a_participant_is_found_by_nhs_number_however_it_is_typed(engine, keys, site_id, typed):
    enrolled = _enrol(engine, keys, site_id, AMINA)
    _enrol(engine, keys, site_id, ZOE)
    with Session(engine) as session:
        found = vault.find_participant(session, keys, typed)
    assert found is not None and found.study_id == enrolled.study_id


def test_an_unknown_nhs_number_finds_nobody(engine, keys, site_id):
    _enrol(engine, keys, site_id, AMINA)
    with Session(engine) as session:
        assert vault.find_participant(session, keys, ZOE.nhs_number) is None


def test_looking_up_an_invalid_nhs_number_says_why(engine, keys):
    with Session(engine) as session, pytest.raises(CohortError) as caught:
        vault.find_participant(session, keys, "9434765918")
    assert caught.value.field == "nhs_number"


def test_blind_index_is_keyed_and_reveals_nothing(keys, tmp_path):
    init_keys(tmp_path / "other")
    other = load_keys(tmp_path / "other")
    index = vault.blind_index(keys, "943 476 5919")
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    assert index == vault.blind_index(keys, "9434765919")
    assert index != vault.blind_index(other, "9434765919")
    assert index != vault.blind_index(keys, "4010232137")


@pytest.mark.parametrize("typed", ["9434765919", "943-476-5919"])
def test_enrolling_the_same_nhs_number_twice_is_refused_and_creates_nothing(
    engine, keys, site_id, typed
):
    _enrol(engine, keys, site_id, AMINA)
    again = dataclasses.replace(ZOE, nhs_number=typed)
    with pytest.raises(Conflict) as caught:
        _enrol(engine, keys, site_id, again)
    assert caught.value.field == "nhs_number" and "already enrolled" in caught.value.message
    assert _count(engine, Participant) == _count(engine, Identity) == 1


def test_storing_a_second_identity_with_a_held_nhs_number_is_refused(engine, keys, site_id):
    _enrol(engine, keys, site_id, AMINA)
    with session_scope(engine) as session:
        other = Participant(study_id="BB-0000-0000", site_id=site_id)
        session.add(other)
        session.flush()
        with pytest.raises(Conflict):
            vault.store_identity(session, keys, other.id, AMINA)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nhs_number": "1111111111"}, "nhs_number"),
        ({"nhs_number": "94347659"}, "nhs_number"),
        ({"given_name": "  "}, "given_name"),
        ({"family_name": ""}, "family_name"),
        ({"postcode": ""}, "postcode"),
    ],
)
def test_bad_identity_is_refused_naming_the_field_and_creates_nothing(
    engine, keys, site_id, change, field
):
    with pytest.raises(CohortError) as caught:
        _enrol(engine, keys, site_id, dataclasses.replace(AMINA, **change))
    assert caught.value.field == field
    assert _count(engine, Participant) == _count(engine, Identity) == 0


def test_the_database_holds_no_identifier_in_plaintext(engine, keys, site_id):
    for person in PEOPLE:
        _enrol(engine, keys, site_id, person)
    with Session(engine) as session:
        view = vault.view_identity(
            session, keys, session.exec(select(Participant)).first(), actor="dm1"
        )
        assert view.given_name in {p.given_name for p in PEOPLE}
        session.commit()
    with engine.connect() as conn:
        dumped = " ".join(
            str(row)
            for table in ("identity", "participant", "auditevent")
            for row in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        )
    raw = dumped.encode()
    if engine.url.get_backend_name() == "sqlite":
        engine.dispose()
        db_file = Path(engine.url.database)
        raw += b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    for person in PEOPLE:
        secrets_in_clear = [
            re.sub(r"\D", "", person.nhs_number),
            person.given_name,
            person.family_name,
            person.postcode,
            person.date_of_birth.isoformat(),
        ]
        for value in secrets_in_clear:
            assert value.encode() not in raw, value
            assert value.encode("utf-16-le") not in raw, value


def _tamper(engine, sql: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


TAMPERING = [
    # what an attacker (or a bad migration) does           field that fails to open
    (
        "flip one character of a ciphertext",
        "UPDATE identity SET given_name = "
        "substr(given_name, 1, length(given_name) - 4) || 'AAA=' WHERE participant_id = :a",
        "given_name",
    ),
    (
        "swap two columns of one row",
        "UPDATE identity SET given_name = family_name, family_name = given_name "
        "WHERE participant_id = :a",
        "given_name",
    ),
    (
        "move a ciphertext from another participant's row",
        "UPDATE identity SET nhs_number = "
        "(SELECT nhs_number FROM identity WHERE participant_id = :b) WHERE participant_id = :a",
        "nhs_number",
    ),
    (
        "relabel a ciphertext with another key id",
        "UPDATE identity SET postcode = 'v1.kdeadbeef.' || "
        "substr(postcode, length('v1.') + length(key_id) + 2) WHERE participant_id = :a",
        "postcode",
    ),
    (
        "replace a ciphertext with plain text",
        "UPDATE identity SET family_name = 'Smith' WHERE participant_id = :a",
        "family_name",
    ),
]


@pytest.mark.parametrize(("how", "sql", "field"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_an_altered_or_moved_ciphertext_is_refused_with_a_clear_error(
    engine, keys, site_id, how, sql, field
):
    a = _enrol(engine, keys, site_id, AMINA)
    b = _enrol(engine, keys, site_id, ZOE)
    _tamper(engine, sql, a=a.id, b=b.id)
    with pytest.raises(vault.VaultError) as caught:
        _read(engine, keys, a.id)
    error = caught.value
    assert isinstance(error, CohortError)
    assert f"the {field} of participant row {a.id}" in error.message
    assert "InvalidTag" not in "".join(traceback.format_exception(error))
    for value in (AMINA.given_name, AMINA.family_name, ZOE.nhs_number, "Smith"):
        assert value not in error.message
    assert _read(engine, keys, b.id).nhs_number == ZOE.nhs_number


def test_reading_a_participant_without_identity_is_not_found(engine, keys):
    with Session(engine) as session, pytest.raises(NotFound):
        vault.read_identity(session, keys, 12345)


def test_enrolment_is_audited_with_the_study_id_and_no_identifier(engine, keys, site_id):
    participant = _enrol(engine, keys, site_id, AMINA)
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "participant.enrol")
        ).one()
        assert audit.verify(session).ok
    assert (event.actor, event.participant) == ("midwife1", participant.study_id)
    assert event.detail == {"site_id": site_id}


def test_viewing_an_identity_is_audited_in_the_same_transaction(engine, keys, site_id):
    participant = _enrol(engine, keys, site_id, AMINA)
    with session_scope(engine) as session:
        fields = vault.view_identity(session, keys, participant, actor="dm1", source="web")
    assert fields.family_name == AMINA.family_name
    with Session(engine) as session:
        views = session.exec(select(AuditEvent).where(AuditEvent.action == "identity.view")).all()
    assert [(e.actor, e.participant, e.source) for e in views] == [
        ("dm1", participant.study_id, "web")
    ]
    assert AMINA.family_name not in str(views[0].detail)
