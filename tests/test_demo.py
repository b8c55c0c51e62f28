"""The demo seed: a network with one login per role and synthetic answers, seeded once,
and after seeding no identifier of any seeded mother is readable in the database."""

from datetime import date

import pytest
from sqlalchemy import MetaData
from sqlmodel import Session, func, select

from cohort import audit, demo, imd, synth
from cohort.config import Settings
from cohort.instance import initialise, open_instance
from cohort.models import Consent, Decline, ImdPostcode, Participant, Site, User

TODAY = date(2026, 11, 22)


@pytest.fixture
def seeded(db_url, tmp_path):
    settings = Settings(data_dir=tmp_path / "var", database_url=db_url)
    initialise(settings)
    inst = open_instance(settings)
    logins = demo.seed(inst, today=TODAY)
    yield inst, logins
    inst.engine.dispose()


def _counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Site, User, Participant, Consent, Decline)
        }


def test_seed_gives_one_login_per_role_and_a_realistic_consent_rate(seeded):
    inst, logins = seeded
    assert {x.role for x in logins} == {
        "midwife",
        "data_manager",
        "researcher",
        "governance",
        "admin",
    }
    counts = _counts(inst.engine)
    assert counts["Site"] == len(demo.SITES)
    assert counts["Consent"] + counts["Decline"] == demo.MOTHERS
    assert 0.7 < counts["Consent"] / demo.MOTHERS < 0.9
    with Session(inst.engine) as s:
        assert audit.verify(s).ok


def test_every_seeded_consent_has_its_postcodes_synthetic_imd_decile(seeded):
    inst, _ = seeded
    with Session(inst.engine) as s:
        deciles = s.exec(select(Consent.imd_decile)).all()
        assert imd.current(s).rows == len(synth.imd_deciles())
    assert deciles and all(d in range(1, 11) for d in deciles)
    assert len(set(deciles)) > 3


def test_reseeding_changes_nothing_and_returns_the_same_logins(seeded):
    inst, logins = seeded
    before = _counts(inst.engine)
    assert demo.seed(inst, today=TODAY) == logins
    assert _counts(inst.engine) == before


def _identifiers() -> tuple[set[str], set[str]]:
    """Substrings that must never appear anywhere, and values no column may equal."""
    mothers = synth.mothers(demo.SEED, demo.MOTHERS, today=TODAY)
    substrings = set()
    exact = set()
    for m in mothers:
        n = m.nhs_number
        substrings |= {n, f"{n[:3]} {n[3:6]} {n[6:]}", m.postcode, m.address}
        substrings.add(f"{m.given_name} {m.family_name}")
        substrings.add(m.date_of_birth.isoformat())
        exact |= {m.given_name, m.family_name, m.postcode.replace(" ", "")}
    return substrings, exact


def _all_values(engine) -> list[str]:
    """Every value but the deprivation lookup's, which lists every postcode of the district
    (a published area statistic, identifying no one)."""
    values = []
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        for table in tables.sorted_tables:
            if table.name == ImdPostcode.__tablename__:
                continue
            for row in conn.execute(select(table)):
                values += [str(v) for v in row if v is not None]
    return values


def test_no_seeded_identifier_is_stored_in_plain_text(seeded):
    inst, _ = seeded
    substrings, exact = _identifiers()
    values = _all_values(inst.engine)
    assert not exact & set(values)
    blob = "\n".join(values)
    leaked = [s for s in substrings if s in blob]
    assert not leaked, f"{len(leaked)} identifiers readable, e.g. {leaked[:1]}"
    if inst.settings.is_sqlite:
        inst.engine.dispose()
        files = list(inst.settings.data_dir.glob("cohort.db*"))
        raw = b"".join(p.read_bytes() for p in files).decode("utf-8", "replace")
        postcodes = {m.postcode for m in synth.mothers(demo.SEED, demo.MOTHERS, today=TODAY)}
        leaked = [s for s in substrings - postcodes if s in raw]  # the lookup lists them all
        assert not leaked, f"{len(leaked)} identifiers in the SQLite files, e.g. {leaked[:1]}"
