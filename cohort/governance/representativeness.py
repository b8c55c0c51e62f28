"""Who joins, against who was approached and against all births: each group's share of
the consented, of all approached women and, once a maternity file has been counted, of
all births in the same months (``cohort.governance.births``), with the gaps in
percentage points, so under-reached groups stand out.

A group with births but nobody approached is a row of its own: it is the group most
under-reached. Before any maternity file is counted the tables carry no births columns.

Area deprivation is reported in IMD 2019 quintiles (1 most deprived), the usual unit, from
the deciles kept on consents and birth counts (``cohort.imd``): decile 1 and 2 are
quintile 1, and so on. Without a loaded lookup there is no such table to show."""

from collections.abc import Callable
from dataclasses import replace

from sqlmodel import Session

from cohort import imd
from cohort.governance.approaches import Approaches, approaches_by
from cohort.governance.births import births_by
from cohort.governance.consent_rates import COLUMNS, TOTAL, in_form_order, rate_table
from cohort.governance.filters import Filters
from cohort.governance.labels import choice_labels
from cohort.governance.reach import Reach
from cohort.governance.tables import Derived, Table
from cohort.research.disclosure import rate
from forms.i18n import N_

__all__ = ["births_by", "by_age_band", "by_deprivation", "by_ethnicity", "mix"]

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


QUINTILES = {
    "1": N_("1 (most deprived)"),
    "2": "2",
    "3": "3",
    "4": "4",
    "5": N_("5 (least deprived)"),
}


def quintile_of(decile: object) -> str | None:
    """The IMD quintile (``1`` to ``5``) of a decile (1 to 10, as int or text)."""
    return None if decile is None else str((int(decile) + 1) // 2)


def _regrouped(counts: dict, group: Callable[[object], object]) -> dict:
    """``counts`` summed into the groups ``group`` maps their keys to."""
    out: dict = {}
    for value, n in counts.items():
        key = group(value)
        out[key] = out[key] + n if key in out else n
    return out


def _same(value: object) -> object:
    return value


def mix(
    dimension: str,
    key: str,
    titles: tuple[str, str],
    heading: str,
    group: Callable[[object], object] = _same,
    labels_of: Callable[[Session, str], dict[str, str]] = choice_labels,
) -> Callable:
    """The table of one dimension; ``titles``: without births, and with them; ``group``:
    the reported group of a recorded value, ``labels_of`` its label by code."""

    def build(session: Session, filters: Filters, reach: Reach) -> Table:
        found = _regrouped(approaches_by(session, filters, dimension), group)
        labels = labels_of(session, dimension)
        births = births_by(session, filters, dimension)
        births = None if births is None else _regrouped(births, group)
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


def _quintile_labels(session: Session, dimension: str) -> dict[str, str]:
    return QUINTILES


_deprivation = mix(
    "imd_decile",
    "mix-by-deprivation",
    (
        N_("Consented and approached, by area deprivation (IMD quintile)"),
        N_("Consented, approached and all births, by area deprivation (IMD quintile)"),
    ),
    N_("IMD quintile"),
    group=quintile_of,
    labels_of=_quintile_labels,
)


def by_deprivation(session: Session, filters: Filters, reach: Reach) -> Table:
    """By IMD quintile; no rows while no postcode-to-IMD lookup is loaded."""
    table = _deprivation(session, filters, reach)
    return table if imd.current(session) else replace(table, rows=())
