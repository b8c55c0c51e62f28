"""Validation: a file nothing in which can be trusted is refused whole, with a plain
reason; otherwise each bad row is rejected with its own, and the rest go on."""

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from linkage_jobs.spec import SourceSpec
from linkage_jobs.validate import FileRefused, Rejection, quarantine, validate_file

SPEC = SourceSpec(
    name="clinic",
    title="Clinic records",
    kind="health",
    subject="mother",
    format="csv",
    inbox="inbox/clinic",
    schedule="0 2 * * *",
    record_id="ID",
    identifiers={"NHS_No": "nhs_number", "Forename": "given_name", "DOB": "date_of_birth"},
    payload={"Weight": "integer", "BMI": "number", "Smoker": "boolean", "Seen": "date"}
    | {"Note": "string"},
    date_formats=("%d/%m/%Y", "%Y-%m-%d"),
)
PARQUET_SPEC = SourceSpec(**{**SPEC.__dict__, "format": "parquet"})
GOOD = {
    "ID": "R1",
    "NHS_No": "943 476 5919",
    "Forename": "Aisha",
    "DOB": "28/02/1990",
    "Weight": "3400",
    "BMI": "24.5",
    "Smoker": "Y",
    "Seen": "01/03/2025",
    "Note": "seen by midwife",
    "Extra": "not in the spec",
}
HEADER = ",".join(GOOD)


def row(**changes: str) -> str:
    return ",".join({**GOOD, **changes}.values())


def csv_file(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "clinic.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def bytes_file(tmp_path: Path, data: bytes, name: str = "clinic.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def parquet_bytes(table: pa.Table, tmp_path: Path) -> bytes:
    pq.write_table(table, tmp_path / "made.parquet")
    return (tmp_path / "made.parquet").read_bytes()


def good_csv_text(header: str = HEADER) -> str:
    return f"{header}\n{row()}\n"


def test_a_good_file_gives_canonical_identifiers_and_typed_payload(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(), row(ID="R2", Smoker="no", Weight="")), SPEC)
    assert checked.rows_read == 2
    assert checked.rejected == []
    records = checked.records
    identifiers = ["record_id", "nhs_number", "given_name", "date_of_birth"]
    payload = ["Weight", "BMI", "Smoker", "Seen", "Note"]
    assert list(records.columns) == identifiers + payload  # undeclared columns never read
    first = records.iloc[0]
    assert (first.record_id, first.nhs_number, first.given_name) == ("R1", "943 476 5919", "Aisha")
    assert first.date_of_birth == "1990-02-28"
    assert (first.Weight, first.BMI, first.Smoker) == (3400, 24.5, True)
    assert first.Seen == pd.Timestamp("2025-03-01")
    assert records["Weight"].dtype == "Int64" and records["Weight"].isna().tolist() == [False, True]
    assert records["Smoker"].tolist() == [True, False]
    assert records["nhs_number"].dtype == object


def test_each_partner_date_format_is_tried_in_turn(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(), row(ID="R2", DOB="1990-02-27")), SPEC)
    assert checked.records["date_of_birth"].tolist() == ["1990-02-28", "1990-02-27"]


def test_a_two_digit_year_in_the_future_is_the_century_before(tmp_path: Path) -> None:
    spec = SourceSpec(**{**SPEC.__dict__, "date_formats": ("%d-%b-%y",)})
    checked = validate_file(
        csv_file(
            tmp_path,
            row(DOB="05-MAR-48", Seen="01-Mar-25"),
            row(ID="R2", DOB="5-mar-07", Seen="1-Jan-26"),
        ),
        spec,
    )
    assert checked.records["date_of_birth"].tolist() == ["1948-03-05", "2007-03-05"]
    assert checked.records["Seen"].iloc[0] == pd.Timestamp("2025-03-01")


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = bytes_file(tmp_path, good_csv_text().replace("Aisha", "Zoë").encode("utf-8-sig"))
    assert validate_file(path, SPEC).records["given_name"].tolist() == ["Zoë"]


def test_a_formula_cell_is_kept_as_plain_text(tmp_path: Path) -> None:
    formula = "=cmd|' /C calc'!A0"
    checked = validate_file(csv_file(tmp_path, row(Note=formula)), SPEC)
    assert checked.records["Note"].tolist() == [formula]


def test_a_quoted_cell_may_span_lines(tmp_path: Path) -> None:
    checked = validate_file(
        csv_file(tmp_path, row(Note='"line one\nline two"'), row(ID="R2")), SPEC
    )
    assert checked.records["Note"].tolist() == ["line one\nline two", "seen by midwife"]


def test_a_run_of_nul_bytes_rejects_its_row_not_the_file_as_utf16(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(Note="\x00" * 3000), row(ID="R2")), SPEC)
    assert [(r.row, r.reason) for r in checked.rejected] == [(1, "Note: has a NUL byte")]


REFUSED_FILES = [
    ("empty", lambda tmp: b"", "the file is empty"),
    ("blank lines", lambda tmp: b"\n \n", "the file is empty"),
    ("header only", lambda tmp: f"{HEADER}\n".encode(), "has a header but no data rows"),
    ("Parquet", lambda tmp: parquet_bytes(pa.table({"a": [1]}), tmp), "is a Parquet file"),
    ("xlsx", lambda tmp: b"PK\x03\x04rest of a workbook", "an Excel workbook (.xlsx)"),
    (
        "UTF-16",
        lambda tmp: good_csv_text().encode("utf-16"),
        "not UTF-8 text, it looks like UTF-16",
    ),
    ("UTF-16 without BOM", lambda tmp: good_csv_text().encode("utf-16-le"), "looks like UTF-16"),
    (
        "Windows-1252",
        lambda tmp: good_csv_text().replace("Aisha", "Zoë").encode("cp1252"),
        "not UTF-8 text, it looks like Windows-1252",
    ),
    (
        "missing columns",
        lambda tmp: good_csv_text(HEADER.replace("DOB", "Birth").replace("BMI", "Bmi")).encode(),
        "lacks the column(s) DOB, BMI that the clinic spec requires",
    ),
    (
        "a column twice",
        lambda tmp: f"{HEADER},DOB\n{row()},01/01/2000\n".encode(),
        "the column(s) DOB appear more than once",
    ),
    (
        "no date parses",
        lambda tmp: f"{HEADER}\n{row(DOB='02/28/1990')}\n{row(ID='R2', DOB='')}\n".encode(),
        "no value in the date column DOB is a date in the format(s) %d/%m/%Y, %Y-%m-%d",
    ),
    (
        "no payload date parses",
        lambda tmp: f"{HEADER}\n{row(Seen='March 2025')}\n".encode(),
        "no value in the date column Seen",
    ),
]


@pytest.mark.parametrize(
    ("data", "reason"), [case[1:] for case in REFUSED_FILES], ids=[c[0] for c in REFUSED_FILES]
)
def test_a_malformed_file_is_refused_with_a_plain_reason(tmp_path: Path, data, reason) -> None:
    path = bytes_file(tmp_path, data(tmp_path))
    with pytest.raises(FileRefused) as refused:
        validate_file(path, SPEC)
    assert reason in refused.value.reason
    assert refused.value.message.startswith("clinic.csv was refused: ")


def test_a_parquet_spec_refuses_text_and_damaged_files(tmp_path: Path) -> None:
    text = bytes_file(tmp_path, good_csv_text().encode(), "clinic.parquet")
    with pytest.raises(FileRefused, match="clinic files are Parquet, but this file is text"):
        validate_file(text, PARQUET_SPEC)
    damaged = bytes_file(tmp_path, b"PAR1" + b"\x00" * 40, "clinic.parquet")
    with pytest.raises(FileRefused, match="damaged and cannot be read as Parquet"):
        validate_file(damaged, PARQUET_SPEC)
    table = pa.table({c: [v] for c, v in GOOD.items() if c != "Weight"})
    missing = bytes_file(tmp_path, parquet_bytes(table, tmp_path), "clinic.parquet")
    with pytest.raises(FileRefused, match=r"lacks the column\(s\) Weight"):
        validate_file(missing, PARQUET_SPEC)


def test_a_typed_parquet_file_reads_like_its_csv(tmp_path: Path) -> None:
    cells = {**GOOD, "DOB": date(1990, 2, 28), "Weight": 3400, "BMI": 24.5, "Smoker": True}
    table = pa.table({c: [v] for c, v in cells.items()})
    path = bytes_file(tmp_path, parquet_bytes(table, tmp_path), "clinic.parquet")
    from_parquet = validate_file(path, PARQUET_SPEC).records
    from_csv = validate_file(csv_file(tmp_path, row()), SPEC).records
    pd.testing.assert_frame_equal(from_parquet, from_csv)


TEN_MB = "x" * (10 * 1024 * 1024)
BAD_ROWS = [
    ({"ID": ""}, "the record id (ID) is empty"),
    ({"ID": "  "}, "the record id (ID) is empty"),
    ({"DOB": "31/02/1990"}, "DOB: not a date in the format(s) %d/%m/%Y, %Y-%m-%d"),
    ({"Seen": "yesterday"}, "Seen: not a date"),
    ({"Weight": "heavy"}, "Weight: not a whole number"),
    ({"Weight": "3400.5"}, "Weight: not a whole number"),
    ({"BMI": "twenty"}, "BMI: not a number"),
    ({"BMI": "inf"}, "BMI: not a number"),
    ({"Smoker": "maybe"}, "Smoker: not yes/no"),
    ({"Note": TEN_MB}, "Note: a cell over 64 KB"),
    ({"Forename": "Ai\x00sha"}, "Forename: has a NUL byte"),
]


@pytest.mark.parametrize(("changes", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_a_bad_row_is_rejected_with_its_reason_and_the_rest_go_on(
    tmp_path: Path, changes: dict[str, str], reason: str
) -> None:
    bad = row(**{"ID": "R2", **changes})
    checked = validate_file(csv_file(tmp_path, row(), bad, row(ID="R3")), SPEC)
    assert checked.rows_read == 3
    assert checked.records["record_id"].tolist() == ["R1", "R3"]
    [rejection] = checked.rejected
    assert rejection.row == 2
    assert rejection.record_id == ("R2" if changes.get("ID", "R2").strip() else None)
    assert rejection.reason.startswith(reason)


def test_every_row_sharing_a_record_id_is_rejected(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(), row(ID="R2"), row(Forename="Ayesha")), SPEC)
    assert checked.records["record_id"].tolist() == ["R2"]
    reason = "the record id is on more than one row of this file: none is used"
    assert checked.rejected == [Rejection(1, "R1", reason), Rejection(3, "R1", reason)]


def test_a_row_with_the_wrong_number_of_fields_is_rejected_by_its_row_number(
    tmp_path: Path,
) -> None:
    rows = [row(), row(ID="R2") + ",surplus", row(ID="R3"), "R4,short", row(ID="R5", BMI="x")]
    checked = validate_file(csv_file(tmp_path, *rows), SPEC)
    assert checked.rows_read == 5
    assert checked.records["record_id"].tolist() == ["R1", "R3"]
    assert [(r.row, r.reason) for r in checked.rejected] == [
        (2, "the row has 11 fields, the header 10"),
        (4, "the row has 2 fields, the header 10"),
        (5, "BMI: not a number"),
    ]


def test_a_row_gets_the_first_reason_it_breaks(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(ID="", DOB="x", Weight="y"), row()), SPEC)
    assert [r.reason for r in checked.rejected] == ["the record id (ID) is empty"]


def test_reasons_never_repeat_a_cell_value(tmp_path: Path) -> None:
    bad = row(ID="R2", NHS_No="943 476 5919", DOB="31/02/1990", Weight="Aisha Khan")
    checked = validate_file(csv_file(tmp_path, row(), bad), SPEC)
    [rejection] = checked.rejected
    for value in ("943", "31/02/1990", "Aisha"):
        assert value not in rejection.reason


def test_integral_and_signed_numbers_are_accepted(tmp_path: Path) -> None:
    checked = validate_file(csv_file(tmp_path, row(Weight="3400.0", BMI="-1e1")), SPEC)
    assert checked.records["Weight"].tolist() == [3400]
    assert math.isclose(checked.records["BMI"].iloc[0], -10.0)


def test_quarantine_moves_the_file_beside_its_reason_and_never_overwrites(
    tmp_path: Path,
) -> None:
    inbox, quarantined = tmp_path / "inbox", tmp_path / "quarantine"
    inbox.mkdir()
    first = bytes_file(inbox, b"first", "clinic.csv")
    moved = quarantine(first, "the file is empty", quarantined)
    assert moved == quarantined / "clinic.csv" and not first.exists()
    assert (quarantined / "clinic.csv.reason.txt").read_text() == "the file is empty\n"

    second = bytes_file(inbox, b"second", "clinic.csv")
    moved_again = quarantine(second, "another reason", quarantined)
    assert moved_again != moved and moved_again.read_bytes() == b"second"
    assert moved.read_bytes() == b"first"
    assert moved_again.with_name(f"{moved_again.name}.reason.txt").read_text() == (
        "another reason\n"
    )
