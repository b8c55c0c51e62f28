"""``cohort keys rotate`` as an operator runs it: counts and key ids out, never key material."""

from datetime import date

import pytest
from sqlmodel import Session, select

from cohort import vault
from cohort.config import Settings
from cohort.db import make_engine, session_scope
from cohort.key_rotation import rotate
from cohort.keys import load_keys
from cohort.models import Identity, Site

PEOPLE = [
    vault.IdentityFields(
        nhs_number=nhs,
        given_name="Amina",
        family_name="Hussain",
        date_of_birth=date(1994, 3, 17),
        postcode="BD5 0NA",
    )
    for nhs in ("9434765919", "4010232137", "4857773457")
]


@pytest.fixture
def instance(cli, tmp_path, monkeypatch):
    """An initialised instance with three enrolled participants; yields its engine."""
    monkeypatch.delenv("COHORT_VAULT_KEYS", raising=False)
    assert cli("init").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'cohort.db'}")
    keys = load_keys(tmp_path / "var" / "keys")
    with session_scope(engine) as session:
        site = Site(code="BRI", name="Bradford Royal Infirmary")
        session.add(site)
        session.flush()
        for person in PEOPLE:
            vault.enrol(session, keys, site.id, person, actor="midwife1")
    yield engine
    engine.dispose()


def _key_material(tmp_path) -> list[str]:
    return [p.read_text().strip() for p in (tmp_path / "var" / "keys").rglob("*.key")]


def _state(engine, tmp_path) -> tuple[set[str], list[vault.IdentityFields]]:
    keys = load_keys(tmp_path / "var" / "keys")
    with Session(engine) as session:
        rows = session.exec(select(Identity).order_by(Identity.id)).all()
        identities = [vault.read_identity(session, keys, r.participant_id) for r in rows]
    return {r.key_id for r in rows}, identities


def test_rotate_reports_counts_and_key_ids_but_no_key_material(cli, instance, tmp_path):
    old_key = load_keys(tmp_path / "var" / "keys").current_vault_id
    _, before = _state(instance, tmp_path)
    result = cli("keys", "rotate")
    assert result.returncode == 0, result.stderr
    new_key = load_keys(tmp_path / "var" / "keys").current_vault_id
    assert "3 identity rows re-encrypted" in result.stdout
    assert f"from {old_key} to {new_key}" in result.stdout
    for secret in _key_material(tmp_path):
        assert secret not in result.stdout + result.stderr
    assert _state(instance, tmp_path) == ({new_key}, before)
    assert "intact" in cli("audit", "verify").stdout


def test_rotate_finishes_a_rotation_that_was_interrupted(cli, instance, tmp_path):
    _, before = _state(instance, tmp_path)

    def crash(rows_done: int) -> None:
        raise KeyboardInterrupt

    settings = Settings(data_dir=tmp_path / "var")
    with pytest.raises(KeyboardInterrupt):
        rotate(instance, settings, batch_size=1, after_batch=crash)
    result = cli("keys", "rotate", "--batch-size", "1")
    assert result.returncode == 0, result.stderr
    assert "resumed and finished: 2 identity rows re-encrypted in this run (3 in all)" in (
        result.stdout
    )
    new_key = load_keys(tmp_path / "var" / "keys").current_vault_id
    assert _state(instance, tmp_path) == ({new_key}, before)


def test_rotate_is_refused_with_keys_from_the_environment(cli, instance, tmp_path):
    key_files = sorted((tmp_path / "var" / "keys" / "vault").glob("*.key"))
    env_keys = ",".join(f"{p.stem}:{p.read_text().strip()}" for p in key_files)
    result = cli("keys", "rotate", extra_env={"COHORT_VAULT_KEYS": env_keys})
    assert result.returncode == 2
    assert result.stderr.startswith("cohort: ") and result.stderr.count("\n") == 1
    assert "COHORT_VAULT_KEYS" in result.stderr and "Traceback" not in result.stderr
    assert sorted((tmp_path / "var" / "keys" / "vault").glob("*.key")) == key_files
    for secret in _key_material(tmp_path):
        assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "rotate", "--batch-size", "0"),
        ("keys", "rotate", "--batch-size", "many"),
        ("keys", "rotate", "--bogus"),
        ("keys", "spin"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("cohort: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_rotate_refuses_an_uninitialised_instance(cli):
    result = cli("keys", "rotate")
    assert result.returncode == 2 and "cohort init" in result.stderr


def test_keys_commands_have_help(cli):
    for args in (("keys", "--help"), ("keys", "rotate", "--help")):
        result = cli(*args)
        assert result.returncode == 0 and "Usage" in result.stdout
