"""Synthetic partner files: canonical records written as a partner would send them.

Their column names, the first of their date formats, their sex coding, CSV or Parquet, and
payload values invented from the spec's ``[synthetic]`` table (or plain defaults per type),
all from one numpy generator, so a seed gives the same file and a million rows take
seconds. ``synthetic_payload`` is public so tests can tell what a file should read back as.
"""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from linkage_jobs.spec import SEX_CODINGS, SourceSpec, SyntheticColumn

DEFAULT_RANGES = {
    "integer": (0, 100),
    "number": (0.0, 100.0),
    "date": (date(2020, 1, 1), date(2025, 12, 31)),
}
DEFAULT_CODES = ("A", "B", "C", "D")
TRUE_SHARE = 0.3
CSV_BOOLEANS = {True: "Y", False: "N"}  # how partners' extracts write yes/no
PAYLOAD_DTYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[s]",
}


def write_partner_file(spec: SourceSpec, records: pd.DataFrame, path: Path, seed: int) -> Path:
    """Write ``records`` (``record_id`` and canonical identifier fields, ISO dates) to
    ``path`` as ``spec``'s partner sends them, with synthetic payload; return ``path``."""
    n = len(records)
    columns = {spec.record_id: _text(records["record_id"])}
    for column, canonical in spec.identifiers.items():
        values = records[canonical] if canonical in records else pd.Series([None] * n)
        columns[column] = _text(values)
        if canonical == "sex":
            columns[column] = columns[column].map(SEX_CODINGS[spec.sex_coding])
    columns |= synthetic_payload(spec, n, seed).to_dict("series")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written hidden, then renamed: a scheduled run never picks up half a file.
    partial = path.with_name(f".{path.name}.partial")
    writer = _write_parquet if spec.format == "parquet" else _write_csv
    writer(spec, pd.DataFrame(columns), partial)
    partial.replace(path)
    return path


def synthetic_payload(spec: SourceSpec, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of payload, typed as ``validate_file`` returns it."""
    rng = np.random.default_rng(seed)
    payload = {}
    for column, kind in spec.payload.items():
        rules = spec.synthetic.get(column, SyntheticColumn())
        values = pd.Series(GENERATORS[kind](rng, n, rules)).astype(PAYLOAD_DTYPES[kind])
        payload[column] = values.mask(rng.random(n) < rules.missing)
    return pd.DataFrame(payload, index=range(n))


def _text(values: pd.Series) -> pd.Series:
    return pd.Series(values.to_numpy(dtype=object))


def _write_csv(spec: SourceSpec, frame: pd.DataFrame, path: Path) -> None:
    fmt = spec.date_formats[0]
    cells = {}
    for column, values in frame.items():
        if column in spec.date_columns:
            values = _per_value(values, lambda days: _formatted(days, fmt))
        elif spec.payload.get(column) == "boolean":
            values = values.map(CSV_BOOLEANS)
        cells[column] = pa.array(values, from_pandas=True).cast(pa.string())
    pa_csv.write_csv(pa.table(cells), path)


def _write_parquet(spec: SourceSpec, frame: pd.DataFrame, path: Path) -> None:
    """Typed as a data warehouse exports it: dates as dates, flags as booleans."""
    arrays = {}
    for column, values in frame.items():
        if column in spec.date_columns:
            values = _per_value(values, lambda days: _iso_days(days).date)
            arrays[column] = pa.array(values, type=pa.date32(), from_pandas=True)
        else:
            arrays[column] = pa.array(values, from_pandas=True)
    pq.write_table(pa.table(arrays), path)


def _per_value(values: pd.Series, convert: Callable[[pd.Index], np.ndarray]) -> np.ndarray:
    """``convert`` once per distinct value; missing values stay None."""
    codes, uniques = pd.factorize(values)
    return np.append(np.asarray(convert(pd.Index(uniques)), dtype=object), None)[codes]


def _iso_days(values: pd.Index) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(values.astype(str), format="ISO8601", errors="coerce"))


def _formatted(values: pd.Index, fmt: str) -> np.ndarray:
    """ISO dates in the partner's format; text that is no ISO date is written as it is,
    as a partner's corrupt cell would be."""
    days = _iso_days(values)
    return np.where(days.isna(), values.astype(str), days.strftime(fmt))


def _bounds(rules: SyntheticColumn, kind: str) -> tuple:
    low, high = DEFAULT_RANGES[kind]
    return (low if rules.min is None else rules.min), (high if rules.max is None else rules.max)


def _numbers(rng: np.random.Generator, n: int, rules: SyntheticColumn, kind: str) -> np.ndarray:
    low, high = _bounds(rules, kind)
    if kind == "integer":
        return rng.integers(int(low), int(high) + 1, n)
    return rng.uniform(float(low), float(high), n).round(1)


def _dates(rng: np.random.Generator, n: int, rules: SyntheticColumn) -> np.ndarray:
    low, high = _bounds(rules, "date")
    first = np.datetime64(low, "D")
    span = (np.datetime64(high, "D") - first).astype(int)
    return (first + rng.integers(0, span + 1, n)).astype("datetime64[s]")


def _strings(rng: np.random.Generator, n: int, rules: SyntheticColumn) -> np.ndarray:
    weights = np.array(rules.weights, dtype=float) if rules.weights else None
    shares = weights / weights.sum() if weights is not None else None
    return rng.choice(np.array(rules.choices or DEFAULT_CODES, dtype=object), n, p=shares)


GENERATORS = {
    "string": _strings,
    "integer": lambda rng, n, rules: _numbers(rng, n, rules, "integer"),
    "number": lambda rng, n, rules: _numbers(rng, n, rules, "number"),
    "date": _dates,
    "boolean": lambda rng, n, rules: rng.random(n) < TRUE_SHARE,
}
