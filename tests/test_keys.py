"""Keys: generated once at mode 0600, loaded from files or the environment, never shown."""

import base64
import os
import stat

import pytest

from cohort.keys import KeyProblem, init_keys, load_keys, new_vault_key


def _b64(n: int = 32) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def test_init_creates_every_key_at_mode_0600(tmp_path):
    assert init_keys(tmp_path) is True
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"lookup.key", "pseudonym.key", "session.key", "current"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)


def test_init_never_overwrites_existing_keys(tmp_path):
    init_keys(tmp_path)
    before = load_keys(tmp_path)
    assert init_keys(tmp_path) is False
    assert load_keys(tmp_path) == before


def test_the_three_secrets_are_independent(tmp_path):
    init_keys(tmp_path)
    keys = load_keys(tmp_path)
    values = [keys.current_vault_key, keys.lookup, keys.pseudonym, keys.session]
    assert len(set(values)) == 4 and all(len(v) == 32 for v in values)


def test_new_vault_key_becomes_current_and_old_keys_stay_readable(tmp_path):
    init_keys(tmp_path)
    old = load_keys(tmp_path).current_vault_id
    new = new_vault_key(tmp_path)
    keys = load_keys(tmp_path)
    assert keys.current_vault_id == new != old
    assert set(keys.vault) == {old, new}


def test_key_material_never_appears_in_repr(tmp_path):
    init_keys(tmp_path)
    keys = load_keys(tmp_path)
    shown = repr(keys)
    for secret in (keys.current_vault_key, keys.lookup, keys.pseudonym, keys.session):
        assert base64.b64encode(secret).decode() not in shown
        assert repr(secret) not in shown


def test_keys_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COHORT_VAULT_KEYS", f"kenv1:{_b64()},kold:{_b64()}")
    for name in ("LOOKUP", "PSEUDONYM", "SESSION"):
        monkeypatch.setenv(f"COHORT_{name}_KEY", _b64())
    keys = load_keys(tmp_path / "absent")
    assert keys.current_vault_id == "kenv1"
    assert set(keys.vault) == {"kenv1", "kold"}


BAD = [
    ("missing vault", lambda d: (d / "vault" / "current").unlink(), "no vault key found"),
    ("missing lookup", lambda d: (d / "lookup.key").unlink(), "lookup.key is missing"),
    ("not base64", lambda d: (d / "session.key").write_text("not base64!"), "not valid base64"),
    ("short key", lambda d: (d / "pseudonym.key").write_text(_b64(16)), "256-bit"),
]


@pytest.mark.parametrize(("case", "damage", "message"), BAD, ids=[b[0] for b in BAD])
def test_damaged_key_directory_is_refused_with_a_clear_message(tmp_path, case, damage, message):
    init_keys(tmp_path)
    damage(tmp_path)
    with pytest.raises(KeyProblem, match=message):
        load_keys(tmp_path)


@pytest.mark.parametrize(
    "value",
    ["nocolon", f"bad id!:{_b64()}", f"k1:{_b64(8)}", "k1:%%%"],
    ids=["no colon", "bad id", "short key", "not base64"],
)
def test_malformed_env_vault_keys_are_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("COHORT_VAULT_KEYS", value)
    with pytest.raises(KeyProblem, match="COHORT_VAULT_KEYS"):
        load_keys(tmp_path)
