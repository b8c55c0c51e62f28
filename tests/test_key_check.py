"""The check at start: the keys in use open a stored identity and reproduce its blind
index, or the service refuses to start, saying which key and what to do, never the key.

Each test runs on SQLite and on PostgreSQL (the ``db_url`` fixture)."""

import base64
import secrets
from pathlib import Path

import pytest
from sqlmodel import select

from cohort import vault
from cohort.config import Settings
from cohort.db import session_scope
from cohort.key_check import check_keys
from cohort.keys import KeyProblem, init_keys, new_vault_key
from cohort.models import Site
from cohort.web.app import create_app
from tests.reliability.conftest import opened
from tests.test_vault import AMINA, ZOE  # the vault specs' women

RESTORE = "restore the keys this database was written with"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """A migrated database with one site and a fresh key directory, nobody enrolled."""
    cfg = Settings(data_dir=tmp_path / "data", database_url=db_url)
    init_keys(cfg.keys_path)
    with opened(cfg) as inst, session_scope(inst.engine) as session:
        session.add(Site(code="BRD", name="Bradford"))
    return cfg


def enrol(settings: Settings, fields: vault.IdentityFields) -> None:
    with opened(settings) as inst, session_scope(inst.engine) as session:
        site_id = session.exec(select(Site.id)).one()
        vault.enrol(session, inst.keys, site_id, fields, actor="midwife1")


def vault_key_file(settings: Settings) -> Path:
    vault_dir = settings.keys_path / "vault"
    return vault_dir / f"{(vault_dir / 'current').read_text().strip()}.key"


def replace_with_another_valid_key(path: Path) -> bytes:
    """Write a freshly generated 256-bit key over ``path``; returns the key written."""
    key = secrets.token_bytes(32)
    path.write_bytes(base64.b64encode(key) + b"\n")
    return key


def refusal(settings: Settings) -> str:
    with opened(settings) as inst, pytest.raises(KeyProblem) as refused:
        check_keys(inst)
    return refused.value.message


def test_with_nobody_enrolled_there_is_nothing_to_check(settings):
    replace_with_another_valid_key(settings.keys_path / "lookup.key")
    with opened(settings) as inst:
        check_keys(inst)


def test_the_keys_the_identities_were_written_with_pass(settings):
    enrol(settings, AMINA)
    enrol(settings, ZOE)
    with opened(settings) as inst:
        check_keys(inst)


def test_a_vault_key_replaced_by_another_valid_key_is_refused(settings):
    enrol(settings, AMINA)
    key_file = vault_key_file(settings)
    wrong = replace_with_another_valid_key(key_file)

    message = refusal(settings)
    assert message.startswith(f"the keys in {settings.keys_path} do not open the stored identities")
    assert f"vault key {key_file.stem} does not decrypt participant row" in message
    assert message.endswith(RESTORE)
    assert base64.b64encode(wrong).decode() not in message


def test_a_lookup_key_replaced_by_another_valid_key_is_refused(settings):
    enrol(settings, AMINA)
    wrong = replace_with_another_valid_key(settings.keys_path / "lookup.key")

    message = refusal(settings)
    assert message.startswith(f"the keys in {settings.keys_path} do not open the stored identities")
    assert "the lookup key does not give participant row" in message
    assert "duplicates of those enrolled would be missed" in message
    assert base64.b64encode(wrong).decode() not in message


@pytest.mark.parametrize("replaced", ["older", "current"])
def test_every_vault_key_in_use_is_checked(settings, replaced):
    """After a new vault key, rows not yet rotated stay under the older one, new rows go
    under the current one: both must be right."""
    enrol(settings, AMINA)
    older = vault_key_file(settings)
    new_vault_key(settings.keys_path)
    enrol(settings, ZOE)
    key_file = older if replaced == "older" else vault_key_file(settings)
    replace_with_another_valid_key(key_file)

    assert f"vault key {key_file.stem} does not decrypt participant row" in refusal(settings)


def test_keys_from_the_environment_are_named_by_their_variable(settings, monkeypatch):
    enrol(settings, AMINA)
    wrong = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("COHORT_LOOKUP_KEY", wrong)

    message = refusal(settings)
    assert message.startswith("the keys in COHORT_LOOKUP_KEY do not open the stored identities")
    assert wrong not in message


def test_the_app_refuses_to_start_on_the_configured_instance_with_a_wrong_key(
    settings, monkeypatch
):
    enrol(settings, AMINA)
    monkeypatch.setenv("COHORT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COHORT_DATABASE_URL", settings.db_url)
    replace_with_another_valid_key(settings.keys_path / "lookup.key")

    with pytest.raises(KeyProblem, match="do not open the stored identities"):
        create_app()
