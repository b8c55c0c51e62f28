"""``cohort projects`` as an operator uses it: register, staff, list, change the approval,
and extracts and aggregate queries made for a researcher on the project; bad input is one
line on stderr, exit 2, nothing changed."""

import pytest

from cohort.config import Settings
from cohort.db import session_scope
from cohort.instance import open_instance
from cohort.models import Consent, Participant, Site, User

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


def test_an_edit_changes_the_approval_and_bad_ones_exit_2(ready):
    ready(*REGISTER)
    done = ready("projects", "edit", "BIB-2026-01", "--until", "2031-01-31", "--aggregates-only")
    assert done.returncode == 0 and "project BIB-2026-01 changed" in done.stdout
    assert ready("projects", "list").stdout.split("\t")[1:3] == [
        "2026-01-01..2031-01-31",
        "aggregates",
    ]
    for args, words in [
        (("--granularity", "week"), "date granularity must be one of"),
        (("--aggregates-only",), "nothing to change"),
        (("--until", "2020-01-01"), "must end on or after"),
    ]:
        refused = ready("projects", "edit", "BIB-2026-01", *args)
        assert refused.returncode == 2 and words in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1


@pytest.fixture
def staffed(ready, tmp_path):
    """The project registered with rita on it, and 13 participants: 10 aged 25 to 29."""
    ready(*REGISTER)
    ready("projects", "add-researcher", "BIB-2026-01", "rita")
    instance = open_instance(Settings(data_dir=tmp_path / "var"))
    with session_scope(instance.engine) as s:
        site = Site(code="BRD", name="Bradford")
        s.add(site)
        s.flush()
        staff = s.query(User).first()
        for i, band in enumerate(["25_29"] * 10 + ["30_34"] * 3):
            p = Participant(study_id=f"BB-{i:04d}-7777", site_id=site.id)
            s.add(p)
            s.flush()
            s.add(
                Consent(
                    participant_id=p.id,
                    site_id=site.id,
                    recorded_by=staff.id,
                    form_name="babi_consent",
                    form_version="1.0",
                    language="en",
                    age_band=band,
                    items={"link_mother_health": True},
                )
            )
    instance.engine.dispose()
    return ready


def test_extracts_are_made_listed_and_rerun_for_a_researcher(staffed):
    made = staffed("projects", "extract", "BIB-2026-01", "--as", "rita",
                   "--variable", "consent.age_band")  # fmt: skip
    assert made.returncode == 0 and made.stdout.startswith("extract 1 made"), made.stderr
    again = staffed("projects", "rerun", "1", "--as", "rita")
    assert again.returncode == 0 and "extract 2 made from extract 1" in again.stdout
    listed = [
        line.split("\t")
        for line in staffed("projects", "extracts", "bib-2026-01").stdout.splitlines()
    ]
    assert [(row[0], row[2], row[3], row[4]) for row in listed] == [
        ("2", "rita", "13", "current"),
        ("1", "rita", "13", "current"),
    ]


def test_a_query_prints_a_table_or_csv_after_disclosure_control(staffed):
    asked = ("projects", "query", "BIB-2026-01", "--as", "rita", "--dataset", "consent",
             "--group-by", "age_band")  # fmt: skip
    table = staffed(*asked)
    assert table.returncode == 0, table.stderr
    # 30_34 (3) is suppressed, and 25_29 (10) with it: the total of 13 would give it back.
    assert table.stdout == "age_band\tpeople\n25_29\tsuppressed\n30_34\tsuppressed\n"
    assert staffed(*asked, "--csv").stdout == (
        "age_band,people\n25_29,suppressed\n30_34,suppressed\n"
    )
    everyone = staffed("projects", "query", "BIB-2026-01", "--as", "rita", "--dataset", "consent")
    assert everyone.stdout == "people\n15\n"


BAD_REQUESTS = [
    (("query", "BIB-2026-01", "--as", "rita", "--dataset", "gp_registrations"),
     "not approved for dataset"),
    (("query", "BIB-2026-01", "--as", "rita", "--dataset", "consent", "--where", "site"),
     "--where must be written variable=value"),
    (("query", "BIB-2026-01", "--as", "nobody", "--dataset", "consent"),
     "there is no user called 'nobody'"),
    (("extract", "BIB-2026-01", "--as", "rita", "--variable", "maternity.Booking_Date"),
     "maternity.Booking_Date is not an approved variable"),
    (("extract", "NO-SUCH", "--as", "rita"), "there is no project"),
    (("rerun", "99", "--as", "rita"), "there is no extract 99"),
]  # fmt: skip


def test_bad_extract_and_query_requests_say_one_line_and_exit_2(staffed):
    for args, words in BAD_REQUESTS:  # one world for all: each command is a process
        done = staffed("projects", *args)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert staffed("projects", "extracts", "BIB-2026-01").stdout == ""
