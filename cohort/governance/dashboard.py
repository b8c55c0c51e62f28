"""The dashboard's pages and the tables on each: one registry, read by the pages and by
the CSV download, so a table downloads exactly as it is shown. A table that also reads
the research store (linkage coverage) is handed its path."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from cohort.errors import NotFound
from cohort.governance import access, consent_rates, linkage, representativeness, withdrawals
from cohort.governance.filters import Filters
from cohort.governance.reach import Reach
from cohort.governance.tables import Table
from forms.i18n import N_

Builder = Callable[[Session, Filters, Reach], Table]
StoreBuilder = Callable[[Session, Filters, Reach, Path], Table]

TABLES: dict[str, Builder] = {
    "consent-by-site": consent_rates.by_site,
    "consent-by-month": consent_rates.by_month,
    "consent-by-week": consent_rates.by_week,
    "consent-by-midwife": consent_rates.by_midwife,
    "consent-by-language": consent_rates.by_language,
    "consent-by-ethnicity": consent_rates.by_ethnicity,
    "consent-by-age-band": consent_rates.by_age_band,
    "mix-by-ethnicity": representativeness.by_ethnicity,
    "mix-by-age-band": representativeness.by_age_band,
    "mix-by-deprivation": representativeness.by_deprivation,
    "withdrawals-by-level": withdrawals.by_level,
    "withdrawals-by-month": withdrawals.by_month,
    "withdrawals-by-time": withdrawals.by_time_to_withdrawal,
    "logins": access.logins,
    "identity-views": access.identity_views,
    "research-access": access.research,
}
# Tables that also read the research store (``settings.research_store_path``).
STORE_TABLES: dict[str, StoreBuilder] = {
    "linkage-coverage": linkage.coverage,
}


@dataclass(frozen=True)
class Page:
    key: str
    path: str
    title: str
    tables: tuple[str, ...]


PAGES = (
    Page(
        "overview",
        "/governance",
        N_("Consent rates"),
        ("consent-by-site", "consent-by-month", "consent-by-week"),
    ),
    Page(
        "breakdowns",
        "/governance/breakdowns",
        N_("Consent rates in detail"),
        (
            "consent-by-midwife",
            "consent-by-language",
            "consent-by-ethnicity",
            "consent-by-age-band",
        ),
    ),
    Page(
        "representativeness",
        "/governance/representativeness",
        N_("Representativeness"),
        ("mix-by-ethnicity", "mix-by-age-band", "mix-by-deprivation"),
    ),
    Page(
        "withdrawals",
        "/governance/withdrawals",
        N_("Withdrawals"),
        ("withdrawals-by-level", "withdrawals-by-month", "withdrawals-by-time"),
    ),
    Page(
        "access",
        "/governance/access",
        N_("Access and audit"),
        ("logins", "identity-views", "research-access", "linkage-coverage"),
    ),
)


def build(session: Session, key: str, filters: Filters, reach: Reach, store: Path) -> Table:
    if key in STORE_TABLES:
        return STORE_TABLES[key](session, filters, reach, store)
    builder = TABLES.get(key)
    if builder is None:
        raise NotFound("there is no such table on the dashboard", field="table")
    return builder(session, filters, reach)


def page_tables(
    session: Session, page: Page, filters: Filters, reach: Reach, store: Path
) -> dict[str, Table]:
    return {key: build(session, key, filters, reach, store) for key in page.tables}
