"""Who joins, against who was approached: each group's share of the consented and of all
approached women, and the gap in percentage points, so under-reached groups stand out.

``births_by`` is the hook for the third comparison, all births in the period from the
linked maternity dataset: it returns None until the research store holds one, and the
tables then carry no births column."""

from collections.abc import Callable

from sqlmodel import Session

from cohort.governance.approaches import approaches_by
from cohort.governance.consent_rates import in_form_order, rate_table
from cohort.governance.filters import Filters
from cohort.governance.labels import choice_labels
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.research.disclosure import rate
from forms.i18n import N_

NONE_APPROACHED = N_("No approaches")


def _difference(row, total) -> float | None:
    consented, approached = rate(row[0], total[0]), rate(row[2], total[2])
    return None if consented is None or approached is None else consented - approached


SHARES = (
    Derived(N_("Share of consented"), lambda row, total: rate(row[0], total[0]), NONE_APPROACHED),
    Derived(N_("Share of approached"), lambda row, total: rate(row[2], total[2]), NONE_APPROACHED),
    Derived(N_("Difference (points)"), _difference, NONE_APPROACHED, signed=True),
)


def births_by(session: Session, filters: Filters, dimension: str) -> dict[str, int] | None:
    """Hook: births in the period by ``dimension`` from the linked maternity dataset.

    None while the research store has no maternity table (linkage_jobs writes it)."""
    return None


def mix(dimension: str, key: str, title: str, heading: str) -> Callable:
    def build(session: Session, filters: Filters, reach: Reach) -> Table:
        found = approaches_by(session, filters, dimension)
        rows = in_form_order(found, choice_labels(session, dimension))
        return rate_table(key, title, heading, rows, derived=SHARES)

    return build


by_ethnicity = mix(
    "ethnicity", "mix-by-ethnicity", N_("Consented and approached, by ethnicity"), N_("Ethnicity")
)
by_age_band = mix(
    "age_band", "mix-by-age-band", N_("Consented and approached, by age band"), N_("Age band")
)
