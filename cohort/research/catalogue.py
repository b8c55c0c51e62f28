"""What a project can be approved to see: every dataset and its variables, typed.

The linked sources come from their specs (``linkage_jobs/sources/*.toml``: payload
columns only, never an identifier). ``consent`` is the cohort's own consent data: when and
where she enrolled, her age band, ethnicity and language, and which consent items she
holds now. Study IDs are not variables: an extract carries a project pseudonym instead.
"""

from dataclasses import dataclass
from functools import cache

from cohort.consent_items import CONSENT_ITEMS, ITEM_LABELS
from linkage_jobs.spec import SourceSpec, load_specs

CONSENT = "consent"
CONSENT_TITLE = "Cohort consent records"
# consent variable -> (type, description, the babi_consent field that codes it, if any)
CONSENT_VARIABLES: dict[str, tuple[str, str, str | None]] = {
    "enrolment_month": ("date", "When she joined the cohort (never finer than the month)", None),
    "site": ("string", "The site code where she was recruited", None),
    "age_band": ("string", "Her age band at enrolment", "age_band"),
    "ethnicity": ("string", "Her ethnic group, if she gave it", "ethnicity"),
    "language": (
        "string",
        "The language the consent discussion was held in",
        "discussion_language",
    ),
    **{item: ("boolean", str(ITEM_LABELS[item]), None) for item in CONSENT_ITEMS},
}


@dataclass(frozen=True)
class Variable:
    dataset: str
    name: str
    type: str  # string, integer, number, date or boolean
    description: str
    form_field: str | None = None  # the instrument field whose choices code it


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    subject: str  # mother or child
    variables: dict[str, Variable]


def _humane(column: str) -> str:
    return column.replace("_", " ").strip()


def _source(spec: SourceSpec) -> Dataset:
    variables = {
        column: Variable(spec.name, column, kind, f"{_humane(column)} ({spec.title})")
        for column, kind in spec.payload.items()
    }
    return Dataset(spec.name, spec.title, spec.subject, variables)


def _consent() -> Dataset:
    variables = {
        name: Variable(CONSENT, name, kind, description, field)
        for name, (kind, description, field) in CONSENT_VARIABLES.items()
    }
    return Dataset(CONSENT, CONSENT_TITLE, "mother", variables)


@cache
def datasets() -> dict[str, Dataset]:
    """Every dataset by name: ``consent`` first, then the sources in name order."""
    return {CONSENT: _consent(), **{name: _source(s) for name, s in load_specs().items()}}


def variable(dataset: str, name: str) -> Variable | None:
    found = datasets().get(dataset)
    return found.variables.get(name) if found else None
