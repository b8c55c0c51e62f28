"""Source specs: what a partner sends, read from ``sources/<name>.toml``.

A spec is data a data manager can read and change without touching code: which consent
tick box covers the source, where its files land, when it runs, and how the partner's
columns map to the canonical identifier fields and typed payload. Every problem in a spec
is refused with the file and key named, before any partner file is touched.
"""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal, get_args

from apscheduler.triggers.cron import CronTrigger

from cohort.errors import CohortError

SOURCES_DIR = Path(__file__).parent / "sources"

IDENTIFIER_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "mother_nhs_number",
)
PAYLOAD_TYPES = ("string", "integer", "number", "date", "boolean")
Kind = Literal["health", "council"]
Subject = Literal["mother", "child"]
FileFormat = Literal["csv", "parquet"]

# How partners write a person's sex (the NHS Data Dictionary's person stated gender code
# is 1 male, 2 female); ``partner_files`` writes this coding, ``standardise`` reads them all.
SEX_CODINGS = {
    "letter": {"F": "F", "M": "M"},
    "word": {"F": "Female", "M": "Male"},
    "nhs_code": {"F": "2", "M": "1"},
}
# A child's row reaches the cohort through its mother's NHS number (or its own, once known).
CHILD_LINK_FIELDS = ("mother_nhs_number", "nhs_number")
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
PROBE_DATE = date(2001, 2, 3)  # distinct day, month and year: a format that loses one fails


@dataclass(frozen=True)
class SyntheticColumn:
    """How ``partner_files`` invents plausible values for one payload column."""

    choices: tuple[str, ...] = ()
    min: float | date | None = None
    max: float | date | None = None
    missing: float = 0.0  # share of empty cells


@dataclass(frozen=True)
class SourceSpec:
    name: str
    title: str
    kind: Kind
    subject: Subject
    format: FileFormat
    inbox: str
    schedule: str
    record_id: str
    identifiers: dict[str, str]
    payload: dict[str, str]
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    sex_coding: str = "letter"
    synthetic: dict[str, SyntheticColumn] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column a file from this partner must carry, in spec order."""
        return (self.record_id, *self.identifiers, *self.payload)

    @property
    def date_columns(self) -> tuple[str, ...]:
        dob = [c for c, f in self.identifiers.items() if f == "date_of_birth"]
        return (*dob, *(c for c, t in self.payload.items() if t == "date"))


class SpecProblem(CohortError):
    """A spec that cannot be used; the message names the file and the key."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path.name}: {key}: {problem}", field=key)
        self.path = path
        self.key = key


def load_specs(directory: Path = SOURCES_DIR) -> dict[str, SourceSpec]:
    """Every ``*.toml`` spec in ``directory``, by name; one bad spec refuses them all."""
    return {p.stem: load_spec(p) for p in sorted(directory.glob("*.toml"))}


def load_spec(path: Path) -> SourceSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecProblem(path, "file", f"cannot be read ({exc.__class__.__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecProblem(path, "file", f"is not valid TOML ({exc})") from exc
    return _build(path, raw)


def _build(path: Path, raw: dict[str, Any]) -> SourceSpec:
    def problem(key: str, text: str) -> SpecProblem:
        return SpecProblem(path, key, text)

    known = {f for f in SourceSpec.__dataclass_fields__ if f != "name"}
    required = {"title", "kind", "subject", "format", "inbox", "schedule", "record_id"}
    required |= {"identifiers", "payload"}
    for key in sorted(raw.keys() - known):
        raise problem(key, f"unknown key (the keys are: {', '.join(sorted(known))})")
    for key in sorted(required - raw.keys()):
        raise problem(key, "is missing")
    if not NAME_PATTERN.fullmatch(path.stem):
        raise problem("file", "the name must be lower-case letters, digits and underscores")

    for key in ("title", "inbox", "schedule", "record_id", "sex_coding"):
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise problem(key, "must be a non-empty text value")
    for key, allowed in (("kind", Kind), ("subject", Subject), ("format", FileFormat)):
        _check_choice(problem, key, raw[key], get_args(allowed))
    _check_choice(problem, "sex_coding", raw.get("sex_coding", "letter"), tuple(SEX_CODINGS))
    _check_inbox(problem, raw["inbox"])
    _check_schedule(problem, raw["schedule"])

    identifiers = _table(problem, "identifiers", raw["identifiers"])
    payload = _table(problem, "payload", raw["payload"])
    _check_identifiers(problem, identifiers, raw["subject"])
    for column, kind in payload.items():
        _check_choice(problem, f"payload.{column}", kind, PAYLOAD_TYPES)
    _check_columns(problem, raw["record_id"], identifiers, payload)
    date_formats = _date_formats(problem, raw.get("date_formats", ["%Y-%m-%d"]))
    synthetic = _synthetic(problem, raw.get("synthetic", {}), payload)

    return SourceSpec(
        name=path.stem,
        title=raw["title"],
        kind=raw["kind"],
        subject=raw["subject"],
        format=raw["format"],
        inbox=raw["inbox"],
        schedule=raw["schedule"],
        record_id=raw["record_id"],
        identifiers=identifiers,
        payload=payload,
        date_formats=date_formats,
        sex_coding=raw.get("sex_coding", "letter"),
        synthetic=synthetic,
    )


def _check_choice(problem, key: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise problem(key, f"{value!r} is not one of: {', '.join(allowed)}")


def _check_inbox(problem, inbox: str) -> None:
    parts = PurePosixPath(inbox).parts
    if inbox.startswith(("/", "\\")) or ".." in parts or ":" in inbox:
        raise problem("inbox", "must be a folder inside the instance data dir, e.g. inbox/name")


def _check_schedule(problem, schedule: str) -> None:
    try:
        CronTrigger.from_crontab(schedule)
    except ValueError as exc:
        raise problem("schedule", f"{schedule!r} is not a 5-field cron expression ({exc})") from exc


def _table(problem, key: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise problem(key, "must be a table of partner column = value")
    for column, item in value.items():
        if not isinstance(item, str):
            raise problem(f"{key}.{column}", "must be a text value")
    return dict(value)


def _check_identifiers(problem, identifiers: dict[str, str], subject: str) -> None:
    for column, canonical in identifiers.items():
        _check_choice(problem, f"identifiers.{column}", canonical, IDENTIFIER_FIELDS)
    seen: dict[str, str] = {}
    for column, canonical in identifiers.items():
        if canonical in seen:
            raise problem(f"identifiers.{column}", f"{canonical} is already {seen[canonical]}")
        seen[canonical] = column
    if subject == "mother" and "mother_nhs_number" in seen:
        raise problem(f"identifiers.{seen['mother_nhs_number']}", "only child sources have one")
    if subject == "child" and not seen.keys() & set(CHILD_LINK_FIELDS):
        raise problem(
            "identifiers",
            "a child source must map mother_nhs_number or nhs_number: "
            "child records link to the cohort through an NHS number",
        )


def _check_columns(problem, record_id: str, identifiers: dict, payload: dict) -> None:
    reserved = {"record_id", *IDENTIFIER_FIELDS}
    for column in identifiers.keys() & payload.keys():
        raise problem(f"payload.{column}", "is already an identifier column")
    for column in sorted({record_id} & (identifiers.keys() | payload.keys())):
        raise problem("record_id", f"{column} is also listed as an identifier or payload column")
    for column in sorted(payload.keys() & reserved):
        raise problem(f"payload.{column}", "clashes with a canonical column name; rename it")


def _date_formats(problem, formats: object) -> tuple[str, ...]:
    if not (isinstance(formats, list) and formats):
        raise problem("date_formats", "must be a non-empty list of strptime formats")
    for fmt in formats:
        try:
            ok = datetime.strptime(PROBE_DATE.strftime(fmt), fmt).date() == PROBE_DATE
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise problem("date_formats", f"{fmt!r} is not a strptime format for a full date")
    return tuple(formats)


def _synthetic(problem, raw: object, payload: dict[str, str]) -> dict[str, SyntheticColumn]:
    if not isinstance(raw, dict):
        raise problem("synthetic", "must be a table of payload column = {choices|min|max}")
    allowed = set(SyntheticColumn.__dataclass_fields__)
    columns = {}
    for column, rules in raw.items():
        key = f"synthetic.{column}"
        if column not in payload:
            raise problem(key, "is not a payload column")
        if not isinstance(rules, dict) or rules.keys() - allowed:
            raise problem(key, f"must be a table with keys from: {', '.join(sorted(allowed))}")
        try:
            columns[column] = SyntheticColumn(
                **{**rules, "choices": tuple(rules.get("choices", ()))}
            )
        except TypeError as exc:
            raise problem(key, str(exc)) from exc
    return columns
