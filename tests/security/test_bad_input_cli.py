"""Hostile and malformed input to the ``cohort`` commands other than ``forms import``
(see test_bad_input.py), on SQLite and PostgreSQL: staff accounts and sites with NUL
bytes, 10 MB or over-long values; consent imports, form translations and backups given
traversal paths, files that are not UTF-8 or not files; linkage runs of a source that is
not there. Each is refused with one line on stderr and exit code 2, changes nothing (row
counts and the audit chain's head as before) and gives nothing away: no traceback, no
echo of a 10 MB value, nothing of a file it was pointed at.

Argument vectors cannot carry NUL bytes or 10 MB values from a shell; the commands are
run in-process, so these cases test the checks behind the arguments, which the web and
API forms share.
"""

import io
import sys

import pytest

from tests.in_process_cli import run_cohort
from tests.security.hostile import TEN_MB, instance_per_backend, state
from tests.web.conftest import SITE, add_user

PASSWORD = "a long enough passphrase 42\n"
TRAVERSAL = "../../../../../../../../etc/passwd"
LATIN1_CSV = "record_id,family_name\nOLD-1,Mu\xf1oz\n".encode("latin-1")


def user(username: str, full_name: str = "A", role: str = "data_manager", *more: str) -> list:
    return ["user", "add", username, "--role", role, "--name", full_name, *more, "--password-stdin"]


def consents(path: str) -> list:
    return ["consents", "import", path, "--site", SITE, "--form-version", "1.0", "--by", "mw"]


TRANSLATIONS = ["forms", "translations", "import"]
# (case, arguments after 'cohort', files to write first: name -> bytes). "{tmp}" in an
# argument is the case's own directory.
CASES = [
    ("user: NUL byte in the name", user("nul", "Ai\x00sha"), {}),
    ("user: 10 MB name", user("big", TEN_MB), {}),
    ("user: NUL byte in the username", user("a\x00b"), {}),
    ("user: path traversal as the username", user(TRAVERSAL), {}),
    ("user: 10 MB username", user(TEN_MB), {}),
    ("user: unknown role", user("x", "A", "root"), {}),
    ("user: unknown site", user("x", "A", "midwife", "--site", "../x"), {}),
    ("site: NUL byte in the code", ["site", "add", "RA\x00E", "Bradford"], {}),
    ("site: 10 MB name", ["site", "add", "BIG", TEN_MB], {}),
    ("site: NUL byte in the name", ["site", "add", "NUL", "Brad\x00ford"], {}),
    ("site: over-long code", ["site", "add", "X" * 200, "Bradford"], {}),
    ("site: path traversal as the code", ["site", "add", TRAVERSAL, "Bradford"], {}),
    ("consents import: a traversal path to a system file", consents("{tmp}/" + TRAVERSAL), {}),
    ("consents import: not UTF-8", consents("{tmp}/old.csv"), {"old.csv": LATIN1_CSV}),
    ("consents import: a directory", consents("{tmp}"), {}),
    ("consents import: no such file", consents("{tmp}/none.csv"), {}),
    ("consents import: 10 MB of one cell", consents("{tmp}/big.csv"), {"big.csv": TEN_MB.encode()}),
    ("link run: unknown source", ["link", "run", "nosuch"], {}),
    ("link run: path traversal as the source", ["link", "run", TRAVERSAL], {}),
    ("link run: NUL byte in the source", ["link", "run", "mater\x00nity"], {}),
    (
        "translations import: not UTF-8",
        [*TRANSLATIONS, "{tmp}/ur.po"],
        {"ur.po": 'msgid "Yes"\nmsgstr "caf\xe9"\n'.encode("latin-1")},
    ),
    (
        "translations import: NUL bytes",
        [*TRANSLATIONS, "{tmp}/ur.po"],
        {"ur.po": b'msgid "Yes"\x00\nmsgstr "x"\n'},
    ),
    ("translations import: 10 MB", [*TRANSLATIONS, "{tmp}/ur.po"], {"ur.po": TEN_MB.encode()}),
    ("translations import: a system file", [*TRANSLATIONS, "{tmp}/" + TRAVERSAL], {}),
    ("translations import: no such file", [*TRANSLATIONS, "{tmp}/none.po"], {}),
    ("restore: no such directory", ["restore", "{tmp}/none"], {}),
    ("restore: a system file", ["restore", "{tmp}/" + TRAVERSAL], {}),
    ("restore: an empty directory", ["restore", "{tmp}"], {}),
    ("backup: into a system file", ["backup", "{tmp}/" + TRAVERSAL], {}),
    ("backup: into a directory that exists", ["backup", "{tmp}"], {}),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def instance(request, tmp_path_factory):
    """One instance per backend with a site and its midwife; every case leaves it as it
    found it."""
    instance = instance_per_backend(request, tmp_path_factory, "bad-cli")
    add_user(instance, "mw", "midwife")
    yield instance
    instance.engine.dispose()


@pytest.mark.parametrize(("case", "args", "files"), CASES, ids=[c[0] for c in CASES])
def test_a_command_refuses_hostile_input_and_changes_nothing(
    instance, case, args, files, tmp_path, monkeypatch, capsys
):
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    monkeypatch.setenv("COHORT_DATA_DIR", str(instance.settings.data_dir))
    monkeypatch.setenv("COHORT_DATABASE_URL", instance.settings.db_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD * 2))
    before = state(instance)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run_cohort(monkeypatch, capsys, *args)
    assert code == 2, (case, code, out[:300], err[:300])
    assert len(err.strip().splitlines()) == 1, (case, err[:500])
    assert "Traceback" not in out + err and len(out + err) < 2_000, case
    assert "root:" not in out + err, case  # nothing of /etc/passwd
    assert state(instance) == before, case
