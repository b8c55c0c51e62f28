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
    weights: tuple[float, ...] = ()  # how often each choice comes up (default: equally)
    min: float | date | None = None
    max: float | date | None = None
    missing: float = 0.0  # share of empty cells


@dataclass(frozen=True)
class BirthsSpec:
    """``[births]``: every row of the file counted for the representativeness page, by
    month of ``date``, the mother's age band on that day and, when the partner sends it,
    her ethnicity (an NHS ethnic category code); ``site`` is the site code whose births the
    file holds, or None for the whole network."""

    date: str
    ethnicity: str | None = None
    site: str | None = None


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
    births: BirthsSpec | None = None

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
        return _build(path.stem, tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecProblem(path, "file", f"cannot be read ({exc.__class__.__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecProblem(path, "file", f"is not valid TOML ({exc})") from exc
    except _Bad as bad:
        raise SpecProblem(path, bad.key, bad.problem) from None


class _Bad(Exception):
    """One problem with one key; ``load_spec`` adds the file."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, problem)
        self.key, self.problem = key, problem


REQUIRED = ("title", "kind", "subject", "format", "inbox", "schedule", "record_id")
REQUIRED += ("identifiers", "payload")
TEXT_KEYS = ("title", "inbox", "schedule", "record_id", "sex_coding")
CHOICES = {"kind": get_args(Kind), "subject": get_args(Subject), "format": get_args(FileFormat)}
CHOICES |= {"sex_coding": tuple(SEX_CODINGS)}


def _build(name: str, raw: dict[str, Any]) -> SourceSpec:
    known = sorted(set(SourceSpec.__dataclass_fields__) - {"name"})
    if unknown := sorted(raw.keys() - set(known)):
        raise _Bad(unknown[0], f"unknown key (the keys are: {', '.join(known)})")
    if missing := [key for key in REQUIRED if key not in raw]:
        raise _Bad(missing[0], "is missing")
    if not NAME_PATTERN.fullmatch(name):
        raise _Bad("file", "the name must be lower-case letters, digits and underscores")
    for key in TEXT_KEYS:
        if key in raw and not (isinstance(raw[key], str) and raw[key].strip()):
            raise _Bad(key, "must be a non-empty text value")
    for key, allowed in CHOICES.items():
        _check_choice(key, raw.get(key, SourceSpec.sex_coding), allowed)
    _check_inbox(raw["inbox"])
    _check_schedule(raw["schedule"])

    identifiers = _table("identifiers", raw["identifiers"])
    payload = _table("payload", raw["payload"])
    _check_identifiers(identifiers, raw["subject"])
    for column, kind in payload.items():
        _check_choice(f"payload.{column}", kind, PAYLOAD_TYPES)
    _check_columns(raw["record_id"], identifiers, payload)
    date_formats = _date_formats(raw.get("date_formats", list(SourceSpec.date_formats)))
    synthetic = _synthetic(raw.get("synthetic", {}), payload)
    births = (
        _births(raw["births"], raw["subject"], identifiers, payload) if "births" in raw else None
    )

    return SourceSpec(
        name=name,
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
        sex_coding=raw.get("sex_coding", SourceSpec.sex_coding),
        synthetic=synthetic,
        births=births,
    )


def _check_choice(key: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise _Bad(key, f"{value!r} is not one of: {', '.join(allowed)}")


def _check_inbox(inbox: str) -> None:
    parts = PurePosixPath(inbox).parts
    if inbox.startswith(("/", "\\")) or ".." in parts or ":" in inbox:
        raise _Bad("inbox", "must be a folder inside the instance data dir, e.g. inbox/name")


def _check_schedule(schedule: str) -> None:
    try:
        CronTrigger.from_crontab(schedule)
    except ValueError as exc:
        raise _Bad("schedule", f"{schedule!r} is not a 5-field cron expression ({exc})") from exc


def _table(key: str, value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Bad(key, "must be a table of partner column = value")
    for column, item in value.items():
        if not isinstance(item, str):
            raise _Bad(f"{key}.{column}", "must be a text value")
    return dict(value)


def _check_identifiers(identifiers: dict[str, str], subject: str) -> None:
    for column, canonical in identifiers.items():
        _check_choice(f"identifiers.{column}", canonical, IDENTIFIER_FIELDS)
    seen: dict[str, str] = {}
    for column, canonical in identifiers.items():
        if canonical in seen:
            raise _Bad(f"identifiers.{column}", f"{canonical} is already {seen[canonical]}")
        seen[canonical] = column
    if subject == "mother" and "mother_nhs_number" in seen:
        raise _Bad(f"identifiers.{seen['mother_nhs_number']}", "only child sources have one")
    if subject == "child" and not seen.keys() & set(CHILD_LINK_FIELDS):
        raise _Bad(
            "identifiers",
            "a child source must map mother_nhs_number or nhs_number: "
            "child records link to the cohort through an NHS number",
        )


def _check_columns(record_id: str, identifiers: dict, payload: dict) -> None:
    if both := sorted(identifiers.keys() & payload.keys()):
        raise _Bad(f"payload.{both[0]}", "is already an identifier column")
    if record_id in identifiers.keys() | payload.keys():
        raise _Bad("record_id", f"{record_id} is also listed as an identifier or payload column")
    if reserved := sorted(payload.keys() & {"record_id", *IDENTIFIER_FIELDS}):
        raise _Bad(f"payload.{reserved[0]}", "clashes with a canonical column name; rename it")


def _date_formats(formats: object) -> tuple[str, ...]:
    if not (isinstance(formats, list) and formats):
        raise _Bad("date_formats", "must be a non-empty list of strptime formats")
    for fmt in formats:
        try:
            ok = datetime.strptime(PROBE_DATE.strftime(fmt), fmt).date() == PROBE_DATE
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise _Bad("date_formats", f"{fmt!r} is not a strptime format for a full date")
    return tuple(formats)


def _synthetic(raw: object, payload: dict[str, str]) -> dict[str, SyntheticColumn]:
    if not isinstance(raw, dict):
        raise _Bad("synthetic", "must be a table of payload column = {choices|min|max}")
    allowed = set(SyntheticColumn.__dataclass_fields__)
    columns = {}
    for column, rules in raw.items():
        key = f"synthetic.{column}"
        if column not in payload:
            raise _Bad(key, "is not a payload column")
        if not isinstance(rules, dict) or rules.keys() - allowed:
            raise _Bad(key, f"must be a table with keys from: {', '.join(sorted(allowed))}")
        if not 0 <= rules.get("missing", 0) <= 1:
            raise _Bad(f"{key}.missing", "must be a share between 0 and 1")
        choices, weights = tuple(rules.get("choices", ())), tuple(rules.get("weights", ()))
        if weights and (
            len(weights) != len(choices)
            or not all(isinstance(w, int | float) and w >= 0 for w in weights)
            or not sum(weights)
        ):
            raise _Bad(f"{key}.weights", "must be one share (0 or more) per choice, not all 0")
        columns[column] = SyntheticColumn(**{**rules, "choices": choices, "weights": weights})
    return columns


def _births(
    raw: object, subject: str, identifiers: dict[str, str], payload: dict[str, str]
) -> BirthsSpec:
    """The ``[births]`` table: payload columns of the right type, and a date of birth to
    give each mother's age band."""
    allowed = set(BirthsSpec.__dataclass_fields__)
    if not isinstance(raw, dict) or raw.keys() - allowed or "date" not in raw:
        raise _Bad("births", "must be a table with date and, if wanted, ethnicity and site")
    for key, value in raw.items():
        if not (isinstance(value, str) and value.strip()):
            raise _Bad(f"births.{key}", "must be a non-empty text value")
    if subject != "mother":
        raise _Bad("births", "only a mother source counts births (a row per pregnancy)")
    if "date_of_birth" not in identifiers.values():
        raise _Bad("births", "the mother's age band needs a date_of_birth identifier column")
    if payload.get(raw["date"]) != "date":
        raise _Bad("births.date", f"{raw['date']} is not a date payload column")
    if "ethnicity" in raw and payload.get(raw["ethnicity"]) != "string":
        raise _Bad("births.ethnicity", f"{raw['ethnicity']} is not a string payload column")
    return BirthsSpec(**raw)
