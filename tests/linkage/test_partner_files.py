"""Synthetic partner files: written as each partner sends them, read back by validation
and standardisation as the canonical records they were made from."""

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cohort.synth import mothers
from linkage_jobs.partner_files import synthetic_payload, write_partner_file
from linkage_jobs.spec import load_specs
from linkage_jobs.standardise import standardise
from linkage_jobs.validate import validate_file

SPECS = load_specs()
TODAY = date(2026, 1, 1)


@pytest.fixture(scope="module")
def canonical() -> pd.DataFrame:
    """Clean canonical records of the synthetic population, names with diacritics first."""
    people = mothers(11, 120, today=TODAY)
    records = pd.DataFrame(
        {
            "record_id": [f"P{i:05d}" for i in range(len(people))],
            "nhs_number": [p.nhs_number for p in people],
            "given_name": [p.given_name for p in people],
            "family_name": [p.family_name for p in people],
            "date_of_birth": [p.date_of_birth.isoformat() for p in people],
            "sex": ["F", "M"] * (len(people) // 2),
            "postcode": [p.postcode for p in people],
            "address": [p.address for p in people],
            "mother_nhs_number": [p.nhs_number for p in reversed(people)],
        },
        dtype=object,
    )
    records.loc[:3, "given_name"] = ["Siobhán", "Łucja", "Ștefania", "Ľubica"]
    records.loc[:3, "family_name"] = ["O'Neill-Brown", "Wałęsa", "Al-Hassan", "Kováčová"]
    return records


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_partner_file_reads_back_as_its_canonical_records(
    tmp_path: Path, canonical: pd.DataFrame, name: str
) -> None:
    spec = SPECS[name]
    path = write_partner_file(spec, canonical, tmp_path / f"{name}.{spec.format}", seed=5)
    checked = validate_file(path, spec)
    assert checked.rejected == [] and checked.rows_read == len(canonical)

    fields = ["record_id", *spec.identifiers.values()]
    read_back = standardise(checked.records)[fields]
    pd.testing.assert_frame_equal(read_back, standardise(canonical)[fields])
    payload = checked.records[list(spec.payload)]
    pd.testing.assert_frame_equal(payload, synthetic_payload(spec, len(canonical), seed=5))


def test_csv_files_use_the_partners_names_date_format_and_sex_coding(
    tmp_path: Path, canonical: pd.DataFrame
) -> None:
    spec = SPECS["gp_registrations"]
    path = write_partner_file(spec, canonical.head(2), tmp_path / "gp.csv", seed=1)
    text = pd.read_csv(path, dtype=str)
    assert list(text.columns) == list(spec.columns)
    born = date.fromisoformat(canonical["date_of_birth"][0])
    assert text["DateOfBirth"][0] == born.strftime("%d-%b-%y")
    assert text["Gender"].tolist() == ["Female", "Male"]


def test_parquet_files_carry_typed_dates(tmp_path: Path, canonical: pd.DataFrame) -> None:
    spec = SPECS["childrens_social_care"]
    path = write_partner_file(spec, canonical.head(3), tmp_path / "csc.parquet", seed=1)
    table = pq.read_table(path)
    assert str(table.schema.field("PersonBirthDate").type) == "date32[day]"
    assert str(table.schema.field("LookedAfter").type) == "bool"
    assert table.column("GenderCurrent").to_pylist() == ["2", "1", "2"]


def test_the_same_seed_gives_the_same_file(tmp_path: Path, canonical: pd.DataFrame) -> None:
    spec = SPECS["maternity"]
    first = write_partner_file(spec, canonical, tmp_path / "a.csv", seed=3).read_bytes()
    again = write_partner_file(spec, canonical, tmp_path / "b.csv", seed=3).read_bytes()
    other = write_partner_file(spec, canonical, tmp_path / "c.csv", seed=4).read_bytes()
    assert first == again != other


def test_synthetic_payload_keeps_to_the_specs_ranges_and_choices() -> None:
    spec = SPECS["maternity"]
    payload = synthetic_payload(spec, 2000, seed=2)
    weights = payload["Birth_Weight_g"].dropna()
    assert weights.between(1500, 4800).all()
    assert 0.02 < payload["Birth_Weight_g"].isna().mean() < 0.08  # missing = 0.05
    assert set(payload["Delivery_Mode"].dropna()) == set(spec.synthetic["Delivery_Mode"].choices)
    booked = payload["Booking_Date"]
    assert booked.min() >= pd.Timestamp("2024-01-01") and booked.max() <= pd.Timestamp("2025-06-30")


def test_missing_and_corrupt_values_are_written_as_a_partner_would(
    tmp_path: Path, canonical: pd.DataFrame
) -> None:
    """A mother's record has no mother_nhs_number: the column is there, empty. A date that
    is no ISO date goes out as it came, and validation rejects its row."""
    spec = SPECS["birth_notifications"]
    records = canonical.drop(columns="mother_nhs_number").head(3).copy()
    records.loc[1, "date_of_birth"] = "2020-02-30"
    checked = validate_file(write_partner_file(spec, records, tmp_path / "bn.csv", 1), spec)
    assert checked.records["mother_nhs_number"].tolist() == [None, None]
    [rejection] = checked.rejected
    assert (rejection.row, rejection.record_id) == (2, "P00001")
    assert rejection.reason.startswith("Baby_DOB: not a date")


def test_a_file_appears_in_the_inbox_only_when_complete(
    tmp_path: Path, canonical: pd.DataFrame
) -> None:
    spec = SPECS["maternity"]
    path = write_partner_file(spec, canonical, tmp_path / "inbox" / "maternity.csv", seed=1)
    assert [p.name for p in path.parent.iterdir()] == ["maternity.csv"]
