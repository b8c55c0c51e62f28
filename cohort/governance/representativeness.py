"""Who joins, against who was approached and against all births: each group's share of
the consented, of all approached women and, once a maternity file has been counted, of
all births in the same months (``cohort.governance.births``), with the gaps in
percentage points, so under-reached groups stand out.

A group with births but nobody approached is a row of its own: it is the group most
under-reached. Before any maternity file is counted the tables carry no births columns."""

from collections.abc import Callable

from sqlmodel import Session

from cohort.governance.approaches import Approaches, approaches_by
from cohort.governance.births import births_by
from cohort.governance.consent_rates import COLUMNS, TOTAL, in_form_order, rate_table
from cohort.governance.filters import Filters
from cohort.governance.labels import choice_labels
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.research.disclosure import rate
from forms.i18n import N_

__all__ = ["births_by", "by_age_band", "by_ethnicity", "mix"]

NONE_APPROACHED = N_("No approaches")
NO_BIRTHS = N_("No births")
BIRTHS = N_("Births")
CONSENTED, APPROACHED, BORN = 0, 2, 3  # positions of the counts in a row


def _share(position: int) -> Callable:
    return lambda row, total: rate(row[position], total[position])


def _gap(against: int) -> Callable:
    def compute(row, total) -> float | None:
        consented, other = _share(CONSENTED)(row, total), _share(against)(row, total)
        return None if consented is None or other is None else consented - other

    return compute


SHARES = (
    Derived(N_("Share of consented"), _share(CONSENTED), NONE_APPROACHED),
    Derived(N_("Share of approached"), _share(APPROACHED), NONE_APPROACHED),
    Derived(N_("Difference (points)"), _gap(APPROACHED), NONE_APPROACHED, signed=True),
)
WITH_BIRTHS = (
    *SHARES[:2],
    Derived(N_("Share of births"), _share(BORN), NO_BIRTHS),
    SHARES[2],
    Derived(N_("Consented against births (points)"), _gap(BORN), NO_BIRTHS, signed=True),
)


def births_table(
    key: str, title: str, heading: str, rows: list[tuple[str, tuple[Approaches, int]]]
) -> Table:
    """Approaches and births per group, with a total row; births sit beside the
    approached total, outside it (``Table.beside``)."""
    listed = [(name, (a.consented, a.declined, a.approached, n)) for name, (a, n) in rows]
    total = tuple(sum(counts[i] for _, counts in listed) for i in range(4))
    return Table(
        key=key,
        title=title,
        columns=(heading, *COLUMNS, BIRTHS),
        rows=(*listed, (TOTAL, total)),
        derived=WITH_BIRTHS,
        row_totals=True,
        total_row=True,
        beside=1,
    )


def mix(dimension: str, key: str, titles: tuple[str, str], heading: str) -> Callable:
    """The table of one dimension; ``titles``: without births, and with them."""

    def build(session: Session, filters: Filters, reach: Reach) -> Table:
        found = approaches_by(session, filters, dimension)
        labels = choice_labels(session, dimension)
        births = births_by(session, filters, dimension)
        if births is None:
            return rate_table(key, titles[0], heading, in_form_order(found, labels), SHARES)
        both = {k: (found.get(k, Approaches()), births.get(k, 0)) for k in found.keys() | births}
        return births_table(key, titles[1], heading, in_form_order(both, labels))

    return build


by_ethnicity = mix(
    "ethnicity",
    "mix-by-ethnicity",
    (
        N_("Consented and approached, by ethnicity"),
        N_("Consented, approached and all births, by ethnicity"),
    ),
    N_("Ethnicity"),
)
by_age_band = mix(
    "age_band",
    "mix-by-age-band",
    (
        N_("Consented and approached, by age band"),
        N_("Consented, approached and all births, by age band"),
    ),
    N_("Age band"),
)
