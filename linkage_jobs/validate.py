"""Validation of a partner file against its spec: refuse the file, or reject rows, never
guess.

A file is refused as a whole (``FileRefused``, then ``quarantine``) when nothing in it can
be trusted: empty, not the declared format, not UTF-8, missing columns, or a date column
that no row's value parses in (the partner changed their date format). Otherwise each bad
row is rejected with a reason, and the rest go on. Reasons name columns, never values, so
they can be shown and stored outside the identity zone. Undeclared columns are never read.
"""

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from cohort.errors import CohortError
from linkage_jobs.spec import SourceSpec

MAX_CELL_BYTES = 64 * 1024  # no partner field is near this; a bigger cell is a broken export
BLOCK_BYTES = 64 << 20  # the CSV reader's block: a row (with its cells) must fit in one
SNIFF_BYTES = 4096
# Leading bytes that say what a file really is, whatever its name.
MAGIC = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "a zip archive or an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}
# Byte-order marks of text encodings other than UTF-8, longest first.
BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32",
    b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16",
    b"\xfe\xff": "UTF-16",
}
BOOLEANS = {"TRUE": True, "T": True, "YES": True, "Y": True, "1": True}
BOOLEANS |= {"FALSE": False, "F": False, "NO": False, "N": False, "0": False}
TYPE_PROBLEMS = {
    "integer": "not a whole number",
    "number": "not a number",
    "boolean": "not yes/no (true/false, Y/N, 1/0)",
}


@dataclass(frozen=True)
class Rejection:
    row: int  # 1-based data row: the n-th line after the header
    record_id: str | None
    reason: str


@dataclass
class ValidatedFile:
    records: pd.DataFrame
    rejected: list[Rejection]
    rows_read: int


class FileRefused(CohortError):
    """The whole file is unusable; ``reason`` says why in plain language."""

    status_code = 422

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name} was refused: {reason}")
        self.reason = reason


@dataclass
class _Cells:
    """The spec's columns as text, before typing: what both file formats read into."""

    text: dict[str, pa.Array]  # partner column -> string array, "" for an empty cell
    iso_dates: frozenset[str]  # columns the file typed as dates (Parquet): ISO text
    ragged: list[Rejection]  # CSV rows whose field count differs from the header's


def validate_file(path: Path, spec: SourceSpec) -> ValidatedFile:
    data = path.read_bytes()
    if not data or data.isspace():
        raise FileRefused(path, "the file is empty")
    reader = _read_parquet if spec.format == "parquet" else _read_csv
    cells = reader(path, data, spec)
    parsed = len(cells.text[spec.record_id])
    rows_read = parsed + len(cells.ragged)
    if rows_read == 0:
        raise FileRefused(path, "the file has a header but no data rows")

    problems = _Problems(parsed)
    for column, values in cells.text.items():
        problems.add(_mask(pc.match_substring(values, "\x00")), f"{column}: has a NUL byte")
        too_long = _mask(pc.greater(pc.binary_length(values), MAX_CELL_BYTES))
        problems.add(too_long, f"{column}: a cell over {MAX_CELL_BYTES // 1024} KB")
    record_id = _record_ids(_stripped(cells.text[spec.record_id]), spec, problems)
    dates = {column: _dates(path, spec, cells, column, problems) for column in spec.date_columns}
    records = pd.DataFrame(
        {
            "record_id": record_id,
            **_identifiers(spec, cells, dates),
            **_payload(spec, cells, dates, problems),
        }
    )

    rows = _row_numbers(rows_read, cells.ragged)
    rejected = cells.ragged + [
        Rejection(int(rows[i]), record_id.iloc[i], problems.reasons[i])
        for i in np.flatnonzero(~problems.clean)
    ]
    rejected.sort(key=lambda r: r.row)
    return ValidatedFile(records[problems.clean].reset_index(drop=True), rejected, rows_read)


def quarantine(path: Path, reason: str, quarantine_dir: Path) -> Path:
    """Move a refused file aside, next to ``<name>.reason.txt``; never overwrite one."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    target = quarantine_dir / path.name
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        if not target.exists() and not _reason_path(target).exists():
            break
        target = quarantine_dir / f"{path.stem}.{stamp}-{n}{path.suffix}"
    moved = Path(shutil.move(path, target))
    _reason_path(moved).write_text(f"{reason}\n", encoding="utf-8")
    return moved


def _reason_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.reason.txt")


class _Problems:
    """The first reason each row breaks, in the order the checks are added."""

    def __init__(self, rows: int) -> None:
        self.reasons = np.full(rows, None, dtype=object)
        self.clean = np.ones(rows, dtype=bool)

    def add(self, mask: np.ndarray, reason: str) -> None:
        new = mask & self.clean
        self.reasons[new] = reason
        self.clean &= ~new


def _record_ids(record_id: pd.Series, spec: SourceSpec, problems: _Problems) -> pd.Series:
    missing = record_id.isna().to_numpy()
    problems.add(missing, f"the record id ({spec.record_id}) is empty")
    duplicated = record_id.duplicated(keep=False).to_numpy() & ~missing
    problems.add(duplicated, "the record id is on more than one row of this file: none is used")
    return record_id.astype(object).where(~missing, None)


def _dates(
    path: Path, spec: SourceSpec, cells: _Cells, column: str, problems: _Problems
) -> pd.Series:
    """The column's dates; every value failing refuses the file, some failing rejects rows."""
    formats = ("%Y-%m-%d",) if column in cells.iso_dates else spec.date_formats
    text = _stripped(cells.text[column])
    dates = _by_value(text, lambda uniques: _parse_dates(uniques, formats))
    unparsed = text.notna().to_numpy() & dates.isna().to_numpy()
    if unparsed.any() and unparsed.sum() == text.notna().sum():
        raise FileRefused(
            path,
            f"no value in the date column {column} is a date in the format(s) "
            f"{', '.join(formats)} that the {spec.name} spec expects; check the spec "
            "or ask the partner which format they now send",
        )
    problems.add(unparsed, f"{column}: not a date in the format(s) {', '.join(formats)}")
    return dates


def _identifiers(spec: SourceSpec, cells: _Cells, dates: dict) -> dict[str, pd.Series]:
    """Canonical fields as the partner wrote them (None when blank), dates as ISO text."""
    columns = {}
    for column, canonical in spec.identifiers.items():
        if column in dates:
            codes, days = pd.factorize(dates[column])
            text = np.append(days.strftime("%Y-%m-%d").astype(object), None)[codes]
        else:
            raw = cells.text[column]
            blank = pc.equal(pc.utf8_trim_whitespace(raw), "")
            text = pc.if_else(blank, None, raw).to_numpy(zero_copy_only=False)
        columns[canonical] = pd.Series(text, dtype=object)
    return columns


def _payload(
    spec: SourceSpec, cells: _Cells, dates: dict, problems: _Problems
) -> dict[str, pd.Series]:
    columns = {}
    for column, kind in spec.payload.items():
        if kind == "date":
            columns[column] = dates[column]
            continue
        text = _stripped(cells.text[column])
        columns[column] = _by_value(text, TYPERS[kind])
        if kind in TYPE_PROBLEMS:  # any text is a string
            wrong = text.notna().to_numpy() & columns[column].isna().to_numpy()
            problems.add(wrong, f"{column}: {TYPE_PROBLEMS[kind]}")
    return columns


def _read_csv(path: Path, data: bytes, spec: SourceSpec) -> _Cells:
    what = _sniff(data)
    if what:
        raise FileRefused(path, f"the file is {what}, but {spec.name} files are CSV text")
    encoding = _other_encoding(data)
    if encoding:
        raise _not_utf8(path, encoding)
    header = _csv_header(data)
    _require_columns(path, spec, header)

    try:
        table, ragged = _parse_csv(data, spec, threads=True)
        if any(number is None for number, _ in ragged):  # threads lose line numbers
            table, ragged = _parse_csv(data, spec, threads=False)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise _not_utf8(path, _guess_8bit(data)) from exc
        # Arrow's message can quote a row: it stays out of the reason.
        raise FileRefused(path, "the file cannot be read as CSV (broken quoting?)") from exc
    text = {c: table.column(c).combine_chunks() for c in spec.columns}
    rejections = [Rejection(number - 1, None, reason) for number, reason in ragged]
    return _Cells(text, frozenset(), rejections)


def _parse_csv(
    data: bytes, spec: SourceSpec, *, threads: bool
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    """The spec's columns as text, and the skipped rows (line number, reason)."""
    ragged = []

    def skip_ragged(row: pa_csv.InvalidRow) -> str:
        reason = f"the row has {row.actual_columns} fields, the header {row.expected_columns}"
        ragged.append((row.number, reason))
        return "skip"

    table = pa_csv.read_csv(
        pa.BufferReader(data),
        read_options=pa_csv.ReadOptions(use_threads=threads, block_size=BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip_ragged),
        convert_options=pa_csv.ConvertOptions(
            include_columns=list(spec.columns),
            column_types=dict.fromkeys(spec.columns, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    return table, ragged


def _read_parquet(path: Path, data: bytes, spec: SourceSpec) -> _Cells:
    if not data.startswith(b"PAR1"):
        what = _sniff(data) or "text or another format"
        raise FileRefused(path, f"{spec.name} files are Parquet, but this file is {what}")
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        _require_columns(path, spec, parquet.schema_arrow.names)
        table = parquet.read(columns=list(spec.columns))
    except (pa.ArrowException, OSError) as exc:
        raise FileRefused(path, "the file is damaged and cannot be read as Parquet") from exc
    text, iso = {}, set()
    for column in spec.columns:
        values = table.column(column).combine_chunks()
        if pa.types.is_temporal(values.type):
            values, _ = values.cast(pa.date32()), iso.add(column)
        try:
            text[column] = pc.fill_null(values.cast(pa.string()), "")
        except pa.ArrowNotImplementedError as exc:
            raise FileRefused(path, f"the column {column} does not hold plain values") from exc
    return _Cells(text, frozenset(iso), [])


def _sniff(data: bytes) -> str | None:
    return next((what for magic, what in MAGIC.items() if data.startswith(magic)), None)


def _other_encoding(data: bytes) -> str | None:
    """A text encoding other than UTF-8 that can be told from the first bytes alone."""
    bom = next((name for bom, name in BOMS.items() if data.startswith(bom)), None)
    head = data[:SNIFF_BYTES]
    # UTF-16 without a mark: Latin text has a NUL in every other byte, on one side only.
    lopsided = abs(head[0::2].count(0) - head[1::2].count(0)) > len(head) // 4
    return bom or ("UTF-16" if lopsided else None)


def _guess_8bit(data: bytes) -> str:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "an 8-bit encoding such as ISO-8859-1"
    return "Windows-1252 (what Excel saves as plain 'CSV')"


def _not_utf8(path: Path, encoding: str) -> FileRefused:
    return FileRefused(
        path,
        f"the file is not UTF-8 text, it looks like {encoding}; ask the partner to export "
        "it as 'CSV UTF-8'",
    )


def _csv_header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    first_line = data[: end if end >= 0 else len(data)].decode("utf-8-sig", errors="replace")
    return next(csv.reader([first_line]), [])


def _require_columns(path: Path, spec: SourceSpec, present: list[str]) -> None:
    """Every spec column exactly once: a second copy could hold anything."""
    missing = [c for c in spec.columns if c not in present]
    if missing:
        raise FileRefused(
            path,
            f"the file lacks the column(s) {', '.join(missing)} that the {spec.name} spec "
            f"requires (it has: {', '.join(present) or 'none'})",
        )
    twice = [c for c in spec.columns if present.count(c) > 1]
    if twice:
        raise FileRefused(path, f"the column(s) {', '.join(twice)} appear more than once")


def _row_numbers(rows_read: int, ragged: list[Rejection]) -> np.ndarray:
    """Data-row numbers of the parsed rows: every row number but the skipped ones."""
    parsed = np.ones(rows_read + 1, dtype=bool)
    parsed[[r.row for r in ragged]] = False
    return np.flatnonzero(parsed[1:]) + 1


def _mask(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _stripped(values: pa.Array) -> pd.Series:
    """Text with surrounding spaces removed; empty cells missing (NaN, as pandas ``str``)."""
    text = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(text, ""), None, text).to_pandas()


def _by_value(text: pd.Series, convert: Callable[[pd.Index], pd.Series]) -> pd.Series:
    """``convert`` applied once per distinct value: partner columns repeat a lot."""
    codes, uniques = pd.factorize(text)
    return pd.Series(convert(uniques).array.take(codes, allow_fill=True))


def _parse_dates(text: pd.Index, formats: tuple[str, ...]) -> pd.Series:
    """Each value tried in each format in turn; with a two-digit year (%y), a date that
    would fall in the future is read as the century before (05-Mar-48 is 1948)."""
    parsed = pd.Series(pd.NaT, index=range(len(text)), dtype="datetime64[s]")
    today = pd.Timestamp.now().normalize()
    for fmt in formats:
        todo = parsed.isna().to_numpy()
        attempt = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        attempt = pd.Series(attempt, index=parsed.index[todo]).astype("datetime64[s]")
        if "%y" in fmt:
            attempt = attempt.where(attempt <= today, attempt - pd.DateOffset(years=100))
        parsed[todo] = attempt
    return parsed


def _integers(text: pd.Index) -> pd.Series:
    numbers = pd.Series(pd.to_numeric(text, errors="coerce"))
    return numbers.where((numbers % 1 == 0) & (numbers.abs() < 2**53)).astype("Int64")


def _numbers(text: pd.Index) -> pd.Series:
    numbers = pd.Series(pd.to_numeric(text, errors="coerce"), dtype="Float64")
    return numbers.where(np.isfinite(numbers.fillna(0)))


def _booleans(text: pd.Index) -> pd.Series:
    return pd.Series(text.str.upper().map(BOOLEANS), dtype="boolean")


def _strings(text: pd.Index) -> pd.Series:
    return pd.Series(text, dtype="string")


TYPERS = {"string": _strings, "integer": _integers, "number": _numbers, "boolean": _booleans}
