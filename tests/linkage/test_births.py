"""All births in a maternity file, counted for the representativeness page: every valid
row (members or not) by month of booking, age band and ethnicity, the consent form's
codes; a file counts once however often it is run or delivered, and the counts hold no
identifier."""

import dataclasses
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect
from sqlmodel import Session, func, select

from cohort import imd
from cohort.age_bands import band_of
from cohort.models import BirthCount, LinkageRun
from forms.dictionary import parse
from linkage_jobs import births, runner, store
from linkage_jobs.ethnic_category import NHS_TO_ONS_2021, ons_2021
from linkage_jobs.spec import BirthsSpec, SpecProblem, load_spec, load_specs
from tests.linkage.linkage_world import LinkageWorld, world_fixture

MATERNITY = load_specs()["maternity"]
BANDS = ("16_19", "20_24", "25_29", "30_34", "35_39", "40_50")
ONS_CODES = frozenset(NHS_TO_ONS_2021.values())


def mothers(ages: list[int], booked: str, ethnicity: str | None = None) -> pd.DataFrame:
    """Validated rows (as ``validate_file`` returns them) of women of ``ages`` on ``booked``."""
    day = pd.Timestamp(booked)
    return pd.DataFrame(
        {
            "date_of_birth": [f"{day.year - age}-{day.month:02d}-{day.day:02d}" for age in ages],
            "Booking_Date": pd.Series([day] * len(ages), dtype="datetime64[s]"),
            "Ethnic_Category": pd.Series([ethnicity] * len(ages), dtype="string"),
        }
    )


def as_dict(counted: pd.DataFrame) -> dict[tuple[str, str, str], int]:
    """Births by month, age band and ethnicity, whatever their deciles."""
    summed = counted.groupby(["month", "age_band", "ethnicity"]).births.sum()
    return {key: int(n) for key, n in summed.items()}


def by_decile(counted: pd.DataFrame) -> dict[str, int]:
    return {key: int(n) for key, n in counted.groupby("imd_decile").births.sum().items()}


LOOKUP = {"BD1 1AA": 1, "BD9 4QT": 10}


def test_births_are_counted_by_the_decile_their_postcode_has_in_the_lookup():
    rows = mothers([27] * 6, "2026-03-10", "A").assign(
        postcode=["BD1 1AA", "bd11aa", " BD1  1AA ", "BD9 4QT", "LS1 4AP", None]
    )
    assert by_decile(births.count(rows, MATERNITY, LOOKUP)) == {"1": 3, "10": 1, "": 2}


def test_with_no_lookup_loaded_every_birth_is_of_decile_not_known():
    rows = mothers([27] * 3, "2026-03-10", "A").assign(postcode="BD1 1AA")
    assert by_decile(births.count(rows, MATERNITY)) == {"": 3}
    assert by_decile(births.count(rows, MATERNITY, {})) == {"": 3}


def test_exactly_n_births_of_each_band_in_march_are_counted_as_such():
    ages = [17, 22, 27, 32, 37, 45]
    rows = pd.concat([mothers(ages * 3, "2026-03-10", "J"), mothers([27] * 2, "2026-04-01", "A")])
    assert as_dict(births.count(rows.reset_index(drop=True), MATERNITY)) == {
        **{("2026-03", band, "pakistani"): 3 for band in BANDS},
        ("2026-04", "25_29", "white_british"): 2,
    }


def test_age_is_taken_on_the_booking_day():
    day_before_30th = mothers([30], "2026-03-10").assign(date_of_birth="1996-03-11")
    on_30th = mothers([30], "2026-03-10")
    rows = pd.concat([day_before_30th, on_30th]).reset_index(drop=True)
    assert as_dict(births.count(rows, MATERNITY)) == {
        ("2026-03", "25_29", ""): 1,
        ("2026-03", "30_34", ""): 1,
    }


def test_ages_outside_the_cohort_and_unknown_values_are_counted_as_not_known():
    rows = pd.concat(
        [
            mothers([15, 51], "2026-03-10", "99"),
            mothers([27], "2026-03-10", None).assign(date_of_birth=None),
            mothers([27], "2026-03-10", "Z"),
        ]
    ).reset_index(drop=True)
    assert as_dict(births.count(rows, MATERNITY)) == {
        ("2026-03", "", ""): 3,
        ("2026-03", "25_29", "not_stated"): 1,
    }


def test_a_row_without_a_booking_date_is_in_no_month():
    rows = mothers([27, 27], "2026-03-10", "A")
    rows.loc[0, "Booking_Date"] = pd.NaT
    assert as_dict(births.count(rows, MATERNITY)) == {("2026-03", "25_29", "white_british"): 1}


@pytest.mark.parametrize(
    ("nhs", "ons"),
    [
        ("A", "white_british"),
        ("J", "pakistani"),
        ("K", "bangladeshi"),
        ("R", "chinese"),  # Other ethnic groups in 2001, Asian in 2021
        ("C", "other_white"),  # includes Gypsy, Irish Traveller and Roma
        ("S", "other_ethnic_group"),  # includes Arab
        ("JA", "pakistani"),  # a local second character groups with its national code
        (" h ", "indian"),
        ("Z", "not_stated"),
        ("99", None),
        ("", None),
        (None, None),
        ("Q", None),
    ],
)
def test_nhs_ethnic_categories_map_to_the_consent_forms_codes(nhs, ons):
    assert ons_2021(nhs) == ons


def test_every_mapped_code_is_a_choice_of_the_consent_form():
    form = parse(Path("forms/instruments/babi_consent.csv").read_bytes(), version="1.0")
    assert set(form.field("ethnicity").codes) >= ONS_CODES
    assert {band_of(age) for age in range(16, 51)} == set(form.field("age_band").codes)


@pytest.mark.parametrize(
    ("births_table", "problem"),
    [
        ('date = "Delivery_Mode"', "births.date: Delivery_Mode is not a date payload"),
        ('date = "Booking_Date"\nethnicity = "Parity"', "births.ethnicity: Parity is not a str"),
        ('ethnicity = "Delivery_Mode"', "births: must be a table with date"),
        ('date = "Booking_Date"\nward = "x"', "births: must be a table with date"),
    ],
)
def test_a_bad_births_table_is_refused_naming_the_key(tmp_path, births_table, problem):
    text = Path("linkage_jobs/sources/maternity.toml").read_text(encoding="utf-8")
    text = text.replace('date = "Booking_Date"\nethnicity = "Ethnic_Category"', births_table)
    path = tmp_path / "maternity.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecProblem, match=re.escape(problem)):
        load_spec(path)


# End to end, through the runner, on SQLite and PostgreSQL.


@pytest.fixture
def linkage(db_url, tmp_path) -> Iterator[LinkageWorld]:
    yield from world_fixture(db_url, tmp_path)


def counted(world: LinkageWorld) -> int:
    with Session(world.instance.engine) as s:
        return s.exec(select(func.coalesce(func.sum(BirthCount.births), 0))).one()


def run(world: LinkageWorld, spec=MATERNITY) -> LinkageRun:
    (done,) = runner.run_source(world.instance, spec)
    return done


def test_every_valid_row_is_counted_members_or_not(linkage):
    linkage.deliver("maternity", rows=150, member_share=0.5)
    done = run(linkage)
    assert done.outcome == "succeeded" and done.rows_rejected == 0
    assert done.rows_written < 150  # only members' rows are linked; all are counted
    assert counted(linkage) == 150


def test_the_same_file_delivered_twice_is_counted_once(linkage, tmp_path):
    path, _ = linkage.deliver("maternity")
    copy = shutil.copy(path, tmp_path / "copy.csv")
    run(linkage)
    shutil.move(copy, path.with_name("maternity_again.csv"))
    assert run(linkage).outcome == "skipped_duplicate"
    assert counted(linkage) == 150


def test_a_failed_run_drops_its_counts_and_the_retry_counts_the_file_once(linkage, monkeypatch):
    linkage.deliver("maternity")
    real = store.write_run

    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_run", disk_full)
    assert run(linkage).outcome == "failed"
    assert counted(linkage) == 0
    monkeypatch.setattr(store, "write_run", real)
    assert run(linkage).outcome == "succeeded"
    assert counted(linkage) == 150


def test_counting_a_file_again_replaces_its_counts(linkage):
    """As a run retried after being killed between its two writes would."""
    path, _ = linkage.deliver("maternity")
    run(linkage)
    sha = runner.sha256_of(linkage.places("maternity").processed / path.name)
    again = births.count(pd.DataFrame(mothers([27] * 4, "2026-03-10", "A")), MATERNITY)
    with Session(linkage.instance.engine) as s:
        births.replace(s, MATERNITY, sha, again)
        s.commit()
    assert counted(linkage) == 4


def test_a_source_naming_its_site_counts_births_for_that_site(linkage):
    spec = dataclasses.replace(MATERNITY, births=dataclasses.replace(MATERNITY.births, site="brd"))
    linkage.deliver("maternity")
    assert run(linkage, spec).outcome == "succeeded"
    with Session(linkage.instance.engine) as s:
        assert {c.site_id for c in s.exec(select(BirthCount)).all()} == {linkage.midwife.site_id}


def test_a_source_naming_no_such_site_fails_with_a_plain_message(linkage):
    spec = dataclasses.replace(MATERNITY, births=BirthsSpec(date="Booking_Date", site="NOPE"))
    path, _ = linkage.deliver("maternity")
    done = run(linkage, spec)
    assert done.outcome == "failed" and "births.site 'NOPE' is no site" in done.error
    assert path.exists() and counted(linkage) == 0


def test_the_counts_hold_no_identifier_and_no_record_id(linkage):
    path, truth = linkage.deliver("maternity")
    partner = pd.read_csv(path, dtype=str, keep_default_na=False)
    run(linkage)
    engine = linkage.instance.engine
    columns = {c["name"] for c in inspect(engine).get_columns("birthcount")}
    assert columns == {
        "id", "source", "file_sha256", "site_id", "month", "age_band", "ethnicity",
        "imd_decile", "births"
    }  # fmt: skip
    with Session(engine) as s:
        rows = s.exec(select(BirthCount)).all()
    assert rows
    assert all(re.fullmatch(r"\d{4}-\d{2}", r.month) for r in rows)
    assert {r.age_band for r in rows} <= {*BANDS, ""}
    assert {r.ethnicity for r in rows} <= ONS_CODES | {""}
    assert {r.imd_decile for r in rows} <= {str(d) for d in range(1, 11)} | {""}
    stored = {str(getattr(r, c)) for r in rows for c in columns}
    from_file = {v for col in MATERNITY.columns[:7] for v in partner[col] if v}
    assert not stored & (from_file | set(truth["record_id"]))


def test_a_loaded_lookup_counts_the_files_births_by_decile(linkage, tmp_path):
    path, _ = linkage.deliver("maternity")
    partner = pd.read_csv(path, dtype=str, keep_default_na=False)
    listed = sorted(set(partner["Postcode"]))[:5]
    lookup = tmp_path / "imd.csv"
    lookup.write_text("pcds,imd_decile\n" + "".join(f"{p},2\n" for p in listed))
    with Session(linkage.instance.engine) as s:
        imd.load(s, lookup, actor="test")
        s.commit()
    run(linkage)
    with Session(linkage.instance.engine) as s:
        found = s.exec(
            select(BirthCount.imd_decile, func.sum(BirthCount.births)).group_by(
                BirthCount.imd_decile
            )
        ).all()
    dated = partner[partner["Booking_Date"] != ""]
    in_decile_2 = int(dated["Postcode"].isin(listed).sum())
    assert dict(found) == {"2": in_decile_2, "": counted(linkage) - in_decile_2}
    assert in_decile_2 > 0
