"""REDCap-form API tokens: 32 upper-case hex characters (what PyCap and REDCapR check),
kept as a hash like every token, and issued by ``cohort user token --redcap``."""

import hashlib
import re

from sqlmodel import select

from cohort.auth import tokens
from cohort.models import ApiToken
from tests.in_process_cli import run_cohort
from tests.web.conftest import add_user, make_instance

REDCAP_FORM = re.compile(r"[0-9A-F]{32}")


def test_a_redcap_token_has_redcaps_form_and_only_its_hash_is_kept(db, make_user):
    ada = make_user("ada")
    token = tokens.issue_token(db, ada, "REDCapR", actor="ada", redcap=True)
    assert REDCAP_FORM.fullmatch(token)
    assert tokens.user_for_token(db, token) is ada
    (row,) = db.exec(select(ApiToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token != tokens.issue_token(db, ada, "PyCap", actor="ada", redcap=True)


def test_the_command_line_issues_one(db_url, tmp_path, monkeypatch, capsys):
    instance = make_instance(tmp_path / "var", db_url)
    add_user(instance, "dm", "data_manager")
    instance.engine.dispose()
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COHORT_DATABASE_URL", db_url)
    code, out, err = run_cohort(
        monkeypatch, capsys, "user", "token", "dm", "--label", "R", "--redcap"
    )
    assert code == 0, err
    assert REDCAP_FORM.fullmatch(out.strip())
