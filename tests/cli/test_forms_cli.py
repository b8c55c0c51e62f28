"""``cohort forms`` as a data manager uses it: import a dictionary as a new version, export
one byte for byte, list them; bad input is one line on stderr, exit 2, nothing changed."""

import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from cohort.config import Settings
from cohort.db import make_engine
from cohort.instance import initialise
from forms import registry
from tests.forms.conftest import SHIPPED, dictionary_csv

SURVEY = dictionary_csv({"form_name": "survey", "field_name": "q"})


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'cohort.db'}"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One instance made by ``initialise`` (what ``cohort init`` runs), copied per test."""
    data_dir = tmp_path_factory.mktemp("template") / "var"
    initialise(Settings(data_dir=data_dir, key_dir=None, database_url=_sqlite_url(data_dir)))
    return data_dir


@pytest.fixture
def initialised(cli, tmp_path, template):
    shutil.copytree(template, tmp_path / "var")
    return cli


def _published(data_dir: Path) -> list[tuple[str, str, str]]:
    engine = make_engine(_sqlite_url(data_dir))
    try:
        with Session(engine) as s:
            return [(i.name, i.version, i.sha256) for i in registry.versions(s)]
    finally:
        engine.dispose()


def _one_line_refusal(result, *fragments: str) -> None:
    assert result.returncode == 2
    assert result.stderr.startswith("cohort: ") and result.stderr.count("\n") == 1
    assert all(fragment in result.stderr for fragment in fragments), result.stderr


def test_init_installs_babi_consent_which_exports_as_shipped(cli, tmp_path):
    assert cli("init").returncode == 0
    listed = cli("forms", "list")
    assert listed.stdout.split("\t")[:2] == ["babi_consent", "1.0"]
    assert listed.stdout.rstrip().endswith("system\tcurrent")
    out = tmp_path / "babi.csv"
    assert cli("forms", "export", "babi_consent", "--out", str(out)).returncode == 0
    assert out.read_bytes() == SHIPPED.read_bytes()


def test_an_imported_version_becomes_current_and_the_old_one_stays(initialised, tmp_path):
    changed = tmp_path / "babi-1.1.csv"
    changed.write_bytes(SHIPPED.read_bytes().replace(b"Her age", b"Her age band"))
    imported = initialised("forms", "import", str(changed), "--version", "1.1")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("babi_consent version 1.1 published")
    lines = initialised("forms", "list").stdout.splitlines()
    assert [line.split("\t")[1] for line in lines] == ["1.0", "1.1"]
    assert lines[1].endswith("cli\tcurrent")
    assert initialised("forms", "export", "babi_consent").stdout.encode() == changed.read_bytes()
    old = initialised("forms", "export", "babi_consent", "--version", "1.0")
    assert old.stdout.encode() == SHIPPED.read_bytes()


@pytest.mark.parametrize(
    ("content", "version", "fragments"),
    [
        (
            SURVEY.replace("q,survey,,text", "Q,survey,,slider2").encode(),
            "1",
            ('row 2, column "Variable / Field Name"', "(and 1 more)"),
        ),
        (b"", "1", ("the file is empty",)),
        (SURVEY.replace("A question", "Zi\u0119cik").encode("cp1250"), "1", ("not UTF-8",)),
        (SHIPPED.read_bytes() + b"extra,babi_consent,,text,Extra\n", "1.0", ("different content",)),
        (SURVEY.encode(), "one two", ("version",)),
    ],
    ids=["malformed", "empty", "not utf-8", "version taken", "bad version"],
)
def test_a_refused_import_is_one_line_and_changes_nothing(
    initialised, template, tmp_path, content, version, fragments
):
    upload = tmp_path / "upload.csv"
    upload.write_bytes(content)
    _one_line_refusal(initialised("forms", "import", str(upload), "--version", version), *fragments)
    assert _published(tmp_path / "var") == _published(template)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("forms", "import", "missing.csv", "--version", "1"), ("cannot read missing.csv",)),
        (("forms", "import", str(SHIPPED)), ("--version",)),
        (("forms", "export", "nothing"), ("no instrument nothing is published",)),
        (("forms", "export", "babi_consent", "--version", "9"), ("babi_consent version 9",)),
        (("forms", "export", "babi_consent", "--out", "/no/such/dir/x.csv"), ("cannot write",)),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(initialised, args, fragments):
    _one_line_refusal(initialised(*args), *fragments)


def test_every_forms_command_has_help(cli):
    for command in ("import", "export", "list", "translations template", "translations import"):
        result = cli("forms", *command.split(), "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


def test_a_versions_translations_go_out_as_a_template_and_come_back(initialised, tmp_path):
    changed = tmp_path / "babi-1.1.csv"
    changed.write_bytes(SHIPPED.read_bytes().replace(b"Her age,", b"Her age on the day,"))
    assert initialised("forms", "import", str(changed), "--version", "1.1").returncode == 0
    po = tmp_path / "ur.po"
    made = initialised(
        "forms", "translations", "template", "babi_consent", "--language", "ur", "--out", str(po)
    )
    assert made.returncode == 0, made.stderr
    blank = b'msgid "Her age on the day"\nmsgstr ""'
    assert blank in po.read_bytes()
    po.write_bytes(
        po.read_bytes().replace(blank, 'msgid "Her age on the day"\nmsgstr "عمر"'.encode())
    )
    taken = initialised("forms", "translations", "import", str(po))
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.startswith("babi_consent version 1.1, ur: ")
    done, of = re.search(r"(\d+) of (\d+) texts now translated", taken.stdout).groups()
    assert done == of
    again = initialised("forms", "translations", "template", "babi_consent", "--language", "ur")
    assert 'msgstr "عمر"' in again.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("forms", "translations", "template", "babi_consent", "--language", "en"), ("is en",)),
        (
            (
                "forms",
                "translations",
                "template",
                "babi_consent",
                "--language",
                "ur",
                "--version",
                "9",
            ),
            ("babi_consent version 9",),
        ),
        (("forms", "translations", "import", "missing.po"), ("cannot read missing.po",)),
        (("forms", "translations", "import", str(SHIPPED)), ("not a gettext PO file",)),
    ],
)
def test_bad_translation_arguments_give_one_line_and_exit_2(initialised, args, fragments):
    _one_line_refusal(initialised(*args), *fragments)
