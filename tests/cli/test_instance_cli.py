"""``cohort init`` and ``cohort audit verify`` as an operator uses them."""

import stat

import pytest
from sqlalchemy import text

from cohort.db import make_engine


def test_init_creates_instance_and_is_safe_to_rerun(cli, tmp_path):
    first = cli("init")
    assert first.returncode == 0, first.stderr
    assert "new keys generated" in first.stdout
    key_files = [p for p in (tmp_path / "var" / "keys").rglob("*") if p.is_file()]
    before = {p: p.read_bytes() for p in key_files}
    second = cli("init")
    assert second.returncode == 0 and "existing keys kept" in second.stdout
    assert {p: p.read_bytes() for p in key_files} == before
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in key_files)
    assert (tmp_path / "var" / "research.duckdb").exists()


def test_init_output_never_contains_key_material(cli, tmp_path):
    out = cli("init")
    for p in (tmp_path / "var" / "keys").rglob("*.key"):
        assert p.read_text().strip() not in out.stdout + out.stderr


def test_audit_verify_passes_then_names_the_tampered_event(cli, tmp_path):
    cli("init")
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "intact: 1 events" in ok.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'cohort.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE auditevent SET actor = 'mallory' WHERE seq = 1"))
    engine.dispose()
    bad = cli("audit", "verify")
    assert bad.returncode == 1
    assert "broken at event 1" in bad.stderr


def test_commands_refuse_an_uninitialised_instance(cli):
    result = cli("audit", "verify")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cohort init" in result.stderr


@pytest.mark.parametrize(
    "args", [("audit", "verif"), ("init", "--bogus"), ("serve", "--port", "notaport")]
)
def test_bad_arguments_give_one_line_and_exit_2(cli, args):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("cohort: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_every_command_has_help(cli):
    for args in (("--help",), ("init", "--help"), ("audit", "verify", "--help")):
        result = cli(*args)
        assert result.returncode == 0 and "Usage" in result.stdout


def test_demo_seeds_once_and_prints_the_same_login_for_every_role(cli):
    first = cli("demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    for role in ("midwife", "data_manager", "researcher", "governance", "admin"):
        assert role in first.stdout
    second = cli("demo", "--no-serve")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
