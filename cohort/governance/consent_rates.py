"""Consent rate = consented / approached (enrolments + declines), as tables: by site,
midwife, month, week, discussion language, ethnicity and age band, each with its total."""

from collections.abc import Callable, Iterable

from sqlmodel import Session

from cohort.governance.approaches import Approaches, approaches_by
from cohort.governance.filters import Filters
from cohort.governance.labels import (
    choice_labels,
    label,
    midwife_labels,
    site_labels,
)
from cohort.governance.periods import months, weeks
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.research.disclosure import rate
from forms.i18n import N_

COLUMNS = (N_("Consented"), N_("Declined"), N_("Approached"))
TOTAL = N_("Total")
NO_APPROACHES = N_("No approaches")
RATE = Derived(N_("Consent rate"), lambda row, total: rate(row[0], row[2]), NO_APPROACHES)


def rate_table(
    key: str,
    title: str,
    heading: str,
    rows: Iterable[tuple[str, Approaches]],
    derived: tuple[Derived, ...] = (RATE,),
) -> Table:
    """Rows of approaches with a total row: the layout every consent-rate table shares."""
    listed = list(rows)
    total = Approaches(sum(a.consented for _, a in listed), sum(a.declined for _, a in listed))
    return Table(
        key=key,
        title=title,
        columns=(heading, *COLUMNS),
        rows=tuple(
            (name, (a.consented, a.declined, a.approached)) for name, a in [*listed, (TOTAL, total)]
        ),
        derived=derived,
        row_totals=True,
        total_row=True,
    )


def in_form_order(found: dict, labels: dict[str, str]) -> list[tuple[str, Approaches]]:
    """The form's order of choices, then codes it no longer lists, then 'not recorded'."""
    known = [code for code in labels if code in found]
    others = sorted(k for k in found if k is not None and k not in labels)
    tail = [None] if None in found else []
    return [(label(labels, k), found[k]) for k in [*known, *others, *tail]]


def by_choice(dimension: str, key: str, title: str, heading: str) -> Callable:
    def build(session: Session, filters: Filters, reach: Reach) -> Table:
        found = approaches_by(session, filters, dimension)
        return rate_table(
            key, title, heading, in_form_order(found, choice_labels(session, dimension))
        )

    return build


def by_site(session: Session, filters: Filters, reach: Reach) -> Table:
    found = approaches_by(session, filters, "site")
    labels = site_labels(session)
    rows = sorted((label(labels, k), a) for k, a in found.items())
    return rate_table("consent-by-site", N_("Consent rate by site"), N_("Site"), rows)


def by_midwife(session: Session, filters: Filters, reach: Reach) -> Table:
    found = approaches_by(session, filters, "midwife")
    labels = midwife_labels(session, found, names=reach.midwife_names)
    rows = sorted((label(labels, k), a) for k, a in found.items())
    return rate_table("consent-by-midwife", N_("Consent rate by midwife"), N_("Midwife"), rows)


def by_month(session: Session, filters: Filters, reach: Reach) -> Table:
    found = approaches_by(session, filters, "month")
    rows = [(m, found.get(m, Approaches())) for m in months(filters.start, filters.end)]
    return rate_table("consent-by-month", N_("Consent rate by month"), N_("Month"), rows)


def by_week(session: Session, filters: Filters, reach: Reach) -> Table:
    found = approaches_by(session, filters, "week")
    rows = [(w, found.get(w, Approaches())) for w in weeks(filters.start, filters.end)]
    return rate_table("consent-by-week", N_("Consent rate by week"), N_("Week beginning"), rows)


by_language = by_choice(
    "language",
    "consent-by-language",
    N_("Consent rate by language of the discussion"),
    N_("Language"),
)
by_ethnicity = by_choice(
    "ethnicity", "consent-by-ethnicity", N_("Consent rate by ethnicity"), N_("Ethnicity")
)
by_age_band = by_choice(
    "age_band", "consent-by-age-band", N_("Consent rate by age band"), N_("Age band")
)
