"""The postcode-to-IMD lookup: loaded whole or refused naming the row and column; a
consent takes her postcode's decile at capture, or when a lookup is loaded later (from
the vault, in the identity zone); and her postcode is stored nowhere but the vault."""

from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlmodel import Session, select

from cohort import capture, imd, imd_backfill
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.models import Consent, Decline, ImdPostcode
from tests.consent_world import CONSENT, DECLINE, token

GOOD = "pcds,lsoa11,imd_decile\nBD5 0NA,E01010574,1\nbd9 4qt,E01010700,10\n LS1  4AP ,E01033010,6\n"


def written(tmp_path: Path, text: str, name: str = "imd.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(world, path: Path):
    with session_scope(world.engine) as s:
        loaded = imd.load(s, path, actor="test")
        imd_backfill.backfill(s, world.keys)
        return loaded


def lookup(world) -> dict[str, int]:
    with Session(world.engine) as s:
        return imd.deciles(s)


def record(world, answers: dict) -> dict:
    with session_scope(world.engine) as s:
        done = capture.record_answers(
            s, world.keys, world.spec, answers, user=world.midwife, token=token()
        )
        return done.result


def deciles(world) -> list[int | None]:
    with Session(world.engine) as s:
        return list(s.exec(select(Consent.imd_decile).order_by(Consent.id)).all())


def test_a_lookup_loads_postcodes_spelt_as_the_consent_form_spells_them(world, tmp_path):
    loaded = load(world, written(tmp_path, GOOD))
    assert lookup(world) == {"BD5 0NA": 1, "BD9 4QT": 10, "LS1 4AP": 6}
    assert (loaded.rows, loaded.file_name, len(loaded.sha256)) == (3, "imd.csv", 64)
    with Session(world.engine) as s:
        assert imd.current(s).sha256 == loaded.sha256


def test_a_new_lookup_replaces_the_old_one_whole(world, tmp_path):
    load(world, written(tmp_path, GOOD))
    load(world, written(tmp_path, "postcode,imd_decile\nBD1 1AA,3\n", "new.csv"))
    assert lookup(world) == {"BD1 1AA": 3}
    with Session(world.engine) as s:
        assert imd.current(s).file_name == "new.csv"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pcd7,decile\nBD5 0NA,1\n", "the header has no postcode or pcds column"),
        ("postcode,rank\nBD5 0NA,1\n", "the header has no imd_decile column"),
        ("postcode,imd_decile\nBD5 0NA,1\nBD5,2\n", "line 3, column postcode: 'BD5' is no UK"),
        ("postcode,imd_decile\nBD5 0NA,11\n", "line 2, column imd_decile: '11' is no decile"),
        ("postcode,imd_decile\nBD5 0NA,\n", "line 2, column imd_decile: '' is no decile"),
        ("postcode,imd_decile\nBD5 0NA,1\nbd50na,2\n", "line 3, column postcode: BD5 0NA is"),
        ("postcode,imd_decile\n", "no postcodes in the file"),
    ],
)
def test_a_bad_file_is_refused_naming_where_and_changes_nothing(world, tmp_path, text, message):
    load(world, written(tmp_path, GOOD))
    with pytest.raises(CohortError, match=message) as refused:
        load(world, written(tmp_path, text, "bad.csv"))
    assert str(refused.value).startswith("bad.csv: ")
    assert str(refused.value).endswith("nothing was loaded")
    assert lookup(world) == {"BD5 0NA": 1, "BD9 4QT": 10, "LS1 4AP": 6}


def test_a_consent_takes_her_postcodes_decile_when_she_is_recorded(world, tmp_path):
    load(world, written(tmp_path, GOOD))
    record(world, CONSENT)  # bd5 0na: decile 1
    record(world, {**CONSENT, "nhs_number": "401 023 2137", "postcode": "WF1 1AA"})
    assert deciles(world) == [1, None]  # a postcode the lookup does not list: not known


def test_with_no_lookup_a_consent_has_no_decile(world):
    record(world, CONSENT)
    assert deciles(world) == [None]


def test_loading_a_lookup_later_sets_the_deciles_of_women_already_enrolled(world, tmp_path):
    record(world, CONSENT)
    record(world, {**CONSENT, "nhs_number": "401 023 2137", "postcode": "LS1 4AP"})
    load(world, written(tmp_path, GOOD))
    assert deciles(world) == [1, 6]
    load(world, written(tmp_path, "postcode,imd_decile\nLS1 4AP,2\n", "new.csv"))
    assert deciles(world) == [None, 2]  # a decile the new lookup no longer lists goes


def test_a_decline_keeps_no_decile_and_no_postcode(world, tmp_path):
    load(world, written(tmp_path, GOOD))
    record(world, DECLINE)
    with Session(world.engine) as s:
        assert s.exec(select(Decline.imd_decile)).all() == [None]


def test_no_womans_postcode_is_stored_outside_the_vault(world, tmp_path):
    """Her postcode is in the vault (encrypted) and, as a published area's, in the lookup
    itself; no consent, decline, count or audit row holds it in any spelling."""
    load(world, written(tmp_path, GOOD))
    record(world, CONSENT)
    record(world, {**CONSENT, "nhs_number": "401 023 2137", "postcode": "LS1 4AP"})
    record(world, DECLINE)
    load(world, written(tmp_path, GOOD, "again.csv"))
    tables = MetaData()
    tables.reflect(world.engine)
    with world.engine.connect() as conn:
        stored = " ".join(
            str(value).upper().replace(" ", "")
            for table in tables.sorted_tables
            if table.name not in ("identity", ImdPostcode.__tablename__)
            for row in conn.execute(select(table))
            for value in row
        )
    assert "BD50NA" not in stored and "LS14AP" not in stored
