"""``cohort consents import``: earlier consents from a CSV in REDCap's flat shape, row by
row through the capture path, on SQLite and PostgreSQL. Good rows are recorded; bad NHS
numbers, impossible dates, formula and control characters are rejected row by row with
reasons that carry no value; duplicates and women already in the cohort are reported as
such; a file refused whole changes nothing; importing again adds nothing."""

import csv
import io
from datetime import date

import pytest
from sqlmodel import Session, func, select

from cohort import synth
from cohort.models import AuditEvent, Consent, Decline, Participant
from tests.in_process_cli import run_cohort
from tests.interop.redcap_world import SITE, consent_answers, make_redcap_world

ITEMS = ["link_mother_health", "link_baby_health", "link_council", "contact"]
COLUMNS = [
    "study_id",
    "discussion_language",
    "interpreter_used",
    "leaflet_given",
    "leaflet_language",
    "outcome",
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    *(f"consent_items___{item}" for item in ITEMS),
    "ethnicity",
    "age_band",
]
BAD_NHS_NUMBER = "9434765918"  # a wrong check digit
DECLINED = {
    "study_id": "OLD-77",
    "discussion_language": "pl",
    "interpreter_used": "1",
    "leaflet_given": "0",
    "outcome": "0",
    "age_band": "25_29",
}


def flat(answers: dict, record_id: str) -> dict:
    ticked = answers.pop("consent_items", [])
    boxes = {f"consent_items___{item}": "1" if item in ticked else "0" for item in ITEMS}
    return {"study_id": record_id, **answers, **boxes}


def write(path, rows: list[dict]) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture
def backfill(db_url, tmp_path, monkeypatch, capsys):
    """(run: args -> (code, out, err), count: model -> rows, the file's rows)."""
    world = make_redcap_world(tmp_path / "var", db_url, at_site=1, elsewhere=0)
    world.instance.engine.dispose()
    monkeypatch.setenv("COHORT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COHORT_DATABASE_URL", db_url)
    enrolled, first, second, third = synth.mothers(seed=7, n=1) + synth.mothers(seed=99, n=3)
    rows = [
        flat(consent_answers(first), "OLD-1"),  # row 2: good
        flat({**consent_answers(second), "nhs_number": BAD_NHS_NUMBER}, "OLD-2"),  # 3
        flat(consent_answers(first), "OLD-1"),  # row 4: the same woman again
        flat(consent_answers(enrolled), "OLD-3"),  # row 5: already in the cohort
        dict(DECLINED),  # row 6: a decline
        flat({**consent_answers(third), "date_of_birth": "1990-02-30"}, "OLD-4"),  # 7
        flat({**consent_answers(third), "given_name": "=HYPERLINK(1)"}, "OLD-5"),  # 8
        flat({**consent_answers(third), "family_name": "Smi\x00th"}, "OLD-6"),  # 9
    ]

    def run(*args: str):
        return run_cohort(monkeypatch, capsys, "consents", "import", *args)

    def count(model) -> int:
        with Session(world.instance.engine) as s:
            return s.exec(select(func.count()).select_from(model)).one()

    return run, count, rows, world


def test_good_rows_are_recorded_and_each_other_row_says_why(backfill, tmp_path):
    run, count, rows, _ = backfill
    write(tmp_path / "old.csv", rows)
    code, out, err = run(
        str(tmp_path / "old.csv"), "--site", SITE, "--form-version", "1.0", "--by", "mw"
    )
    assert code == 1, err  # some rows rejected, the rest recorded
    lines = out.splitlines()
    assert lines[0].startswith("row 3: rejected: nhs_number:")
    assert lines[1] == "row 4: duplicate: the same woman as row 2"
    assert lines[2].startswith("row 5: already in the cohort: study ID BB-")
    assert lines[3].startswith("row 7: rejected: date_of_birth:")
    assert lines[4].startswith("row 8: rejected: given_name:") and "formula" in lines[4]
    assert lines[5].startswith("row 9: rejected: family_name:") and "control" in lines[5]
    assert lines[-1] == (
        "2 accepted, 0 already imported, 1 already in the cohort, 1 duplicate, 4 rejected"
    )
    assert BAD_NHS_NUMBER not in out and "HYPERLINK" not in out
    assert count(Participant) == 2 and count(Decline) == 1 and count(Consent) == 2


def test_importing_again_adds_nothing(backfill, tmp_path):
    run, count, rows, _ = backfill
    write(tmp_path / "old.csv", rows)
    args = (str(tmp_path / "old.csv"), "--site", SITE, "--form-version", "1.0", "--by", "mw")
    run(*args)
    audited = count(AuditEvent)
    code, out, _ = run(*args)
    assert code == 1
    assert out.splitlines()[-1] == (
        "0 accepted, 2 already imported, 1 already in the cohort, 1 duplicate, 4 rejected"
    )
    assert count(Participant) == 2 and count(Decline) == 1
    assert count(AuditEvent) == audited + 1  # the import itself, rows and reasons


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"study_id,no_such_field\nA,1\n", "not in the project: no_such_field"),
        ("study_id,given_name\nA,Zoë\n".encode("latin-1"), "not UTF-8"),
        (b"study_id,given_name\nA," + b"x" * 10_000_000 + b"\n", "field larger than"),
        (b"study_id,given_name\n", "no records"),
    ],
)
def test_a_file_refused_whole_changes_nothing(backfill, tmp_path, content, problem):
    run, count, _, _ = backfill
    (tmp_path / "bad.csv").write_bytes(content)
    code, _, err = run(
        str(tmp_path / "bad.csv"), "--site", SITE, "--form-version", "1.0", "--by", "mw"
    )
    assert code == 2 and problem in err and len(err.splitlines()) == 1
    assert count(Participant) == 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--site", "LDS", "--form-version", "1.0", "--by", "mw"], "not a midwife at LDS"),
        (["--site", SITE, "--form-version", "9.9", "--by", "mw"], "no instrument"),
        (["--site", SITE, "--form-version", "1.0", "--by", "dm"], "not a midwife"),
    ],
)
def test_the_site_version_and_midwife_are_checked(backfill, tmp_path, options, problem):
    run, count, rows, _ = backfill
    write(tmp_path / "old.csv", rows)
    code, _, err = run(str(tmp_path / "old.csv"), *options)
    assert code == 2 and problem in err
    assert count(Participant) == 1


def test_a_consent_date_column_dates_each_record(backfill, tmp_path):
    run, _, rows, world = backfill
    (woman,) = synth.mothers(seed=5, n=1, today=date(2024, 11, 5))  # her age on the day
    dated = [
        {**flat(consent_answers(woman), "OLD-8"), "consent_date": "2024-11-05"},  # row 2
        {**DECLINED, "consent_date": "2024-11-06 09:40"},  # row 3
        {**rows[7], "family_name": "Smith", "consent_date": "2099-01-01"},  # row 4: future
    ]
    out_file = io.StringIO()
    writer = csv.DictWriter(out_file, fieldnames=[*COLUMNS, "consent_date"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(dated)
    (tmp_path / "dated.csv").write_text(out_file.getvalue(), encoding="utf-8")
    code, out, err = run(
        str(tmp_path / "dated.csv"), "--site", SITE, "--form-version", "1.0", "--by", "mw"
    )
    assert code == 1, err
    assert out.splitlines()[0].startswith("row 4: rejected: consent_date:")
    assert "2099" not in out
    with Session(world.instance.engine) as s:
        days = {
            row.recorded_at.date().isoformat()
            for model in (Consent, Decline)
            for row in s.exec(select(model))
        }
    assert {"2024-11-05", "2024-11-06"} <= days
