"""``cohort projects`` as an operator uses it: register, staff, list; bad input is one line
on stderr, exit 2, nothing changed."""

import pytest

REGISTER = (
    "projects", "register", "bib-2026-01", "--title", "Early years", "--lead", "Dr Lead",
    "--reference", "REC 1", "--from", "2026-01-01", "--until", "2030-12-31",
    "--variable", "consent", "--variable", "maternity.Parity", "--granularity", "year",
    "--row-level",
)  # fmt: skip


@pytest.fixture
def ready(cli):
    assert cli("init").returncode == 0
    made = cli("user", "add", "rita", "--role", "researcher", "--name", "Rita Example",
               "--password-stdin", input="correct horse battery staple\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    return cli


def test_register_add_researcher_and_list(ready):
    done = ready(*REGISTER)
    assert done.returncode == 0 and "project BIB-2026-01 registered" in done.stdout
    assert ready("projects", "add-researcher", "BIB-2026-01", "rita").returncode == 0
    listed = ready("projects", "list").stdout.splitlines()
    assert listed == ["BIB-2026-01\t2026-01-01..2030-12-31\trow-level\tEarly years"]
    assert ready("projects", "remove-researcher", "BIB-2026-01", "rita").returncode == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "1 Jan"), "--from must be a date"),
        (("--variable", "nosuch"), "there is no dataset 'nosuch'"),
        (("--granularity", "week"), "date granularity must be one of"),
    ],
)
def test_bad_registrations_say_one_line_and_exit_2(ready, args, words):
    done = ready(*REGISTER, *args)
    assert done.returncode == 2 and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert ready("projects", "list").stdout == ""
