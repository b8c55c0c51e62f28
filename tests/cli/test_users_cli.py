"""``cohort user ...`` as an operator uses it: add, list, disable, token."""

import pytest

from cohort.auth import tokens
from cohort.db import make_engine, session_scope

PASSWORD = "correct horse battery staple\n"


@pytest.fixture
def ready(cli):
    assert cli("init").returncode == 0
    assert cli("site", "add", "RAE", "Bradford Royal Infirmary").returncode == 0
    return cli


def _add(cli, *args):
    return cli("user", "add", *args, "--password-stdin", input=PASSWORD)


def test_add_list_and_disable(ready):
    added = _add(ready, "mia", "--role", "midwife", "--site", "rae", "--name", "Mia Khan")
    assert added.returncode == 0 and "user mia added (midwife)" in added.stdout
    _add(ready, "ada", "--role", "admin", "--name", "Ada Admin")
    assert ready("user", "list").stdout.splitlines() == [
        "ada\tadmin\t-\tactive\tAda Admin",
        "mia\tmidwife\tRAE\tactive\tMia Khan",
    ]
    assert ready("user", "disable", "mia").stdout.strip() == "user mia disabled"
    assert "mia\tmidwife\tRAE\tdisabled" in ready("user", "list").stdout


def test_token_is_printed_once_and_works(ready, tmp_path):
    _add(ready, "ada", "--role", "admin", "--name", "Ada Admin")
    result = ready("user", "token", "ada", "--label", "nightly job")
    assert result.returncode == 0
    token = result.stdout.strip()
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'cohort.db'}")
    with session_scope(engine) as db:
        assert tokens.user_for_token(db, token).username == "ada"
    engine.dispose()


BAD = [
    (("user", "add", "x1", "--role", "boss", "--name", "X"), PASSWORD, "unknown role"),
    (("user", "add", "x1", "--role", "midwife", "--name", "X"), PASSWORD, "site"),
    (("user", "add", "x1", "--role", "admin", "--name", "X"), "short\n", "at least 12"),
    (("user", "add", "ada", "--role", "admin", "--name", "X"), PASSWORD, "already taken"),
    (("user", "add", "x1", "--name", "X"), PASSWORD, "--role"),
    (("user", "disable", "ghost"), None, "no user called"),
    (("user", "token", "ghost", "--label", "x"), None, "no user called"),
]


def test_bad_arguments_say_one_line_exit_2_and_change_nothing(ready):
    _add(ready, "ada", "--role", "admin", "--name", "Ada Admin")
    before = ready("user", "list").stdout
    for args, stdin, words in BAD:
        extra = ("--password-stdin",) if args[1] == "add" else ()
        result = ready(*args, *extra, input=stdin)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert ready("user", "list").stdout == before
