"""The governance dashboard: consent rates, representativeness, withdrawals and access,
for governance leads (their site, or the network) and administrators. Thin: it reads the
filters, asks ``cohort.governance`` for the figures and renders them; every table also
downloads as CSV, plain or publishable (disclosure control applied)."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from cohort import audit, i18n, imd
from cohort.db import session_scope
from cohort.errors import CohortError
from cohort.governance import access, births, linkage, rollup, withdrawals
from cohort.governance.charts import bar_chart, line_chart, rates_of
from cohort.governance.csv_export import table_csv
from cohort.governance.dashboard import PAGES, Page, build, page_tables
from cohort.governance.filters import DATE_LENGTH, Filters, parse_filters
from cohort.governance.reach import reach_of
from cohort.governance.tables import cells
from cohort.instance import Instance
from cohort.models import User
from cohort.sites import list_sites
from cohort.web import ui_language
from cohort.web.deps import (
    AuditReader,
    DbSession,
    InstanceDep,
    ReadOnlyAuditReader,
    ReadSession,
    Source,
)
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)

TITLE = N_("Governance dashboard")
NO_APPROACHES = N_("no approaches")
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]
PAGE_BY_KEY = {page.key: page for page in PAGES}
# Route names where a page's key is taken by a module this file imports.
ROUTE_NAMES = {"withdrawals": "withdrawals_page", "access": "access_page"}
SUMMARIES = {"overview": TITLE}  # the others: their route name, as FastAPI writes it
# Which tables get a chart, and which kind: rates over time as a line, the rest as bars.
CHARTS = {
    "consent-by-month": line_chart,
    "consent-by-week": line_chart,
    "consent-by-site": bar_chart,
    "consent-by-midwife": bar_chart,
    "consent-by-language": bar_chart,
    "consent-by-ethnicity": bar_chart,
    "consent-by-age-band": bar_chart,
}


def _filters(
    instance: Instance, db: Session, user: User, start: str, end: str, site: str
) -> Filters:
    """The filters, then any day closed since the last request rolled up, in a short write
    transaction of its own (the page itself only reads)."""
    today = datetime.now(UTC).date()
    filters = parse_filters(db, reach_of(user), start=start, end=end, site=site, today=today)
    with session_scope(instance.engine) as writing:
        rollup.roll_up(writing)
    return filters


def _extras(db: Session, page: Page, filters: Filters) -> dict:
    """What a page shows besides its tables."""
    if page.key == "withdrawals":
        return {"time_to_withdrawal": withdrawals.time_to_withdrawal(db, filters)}
    if page.key == "representativeness":
        return {
            "births_counted": births.any_counted(db),
            "births_network_wide": births.network_wide(db, filters),
            "imd_lookup": imd.current(db),
        }
    if page.key == "access":
        return {"chain": access.latest_check(db), "linkage_ran": linkage.any_runs(db)}
    return {}


def _charts(request: Request, tables: dict) -> dict:
    gettext = i18n.gettext(ui_language.current(request))
    return {
        key: CHARTS[key](gettext(table.title), rates_of(table.rows), gettext(NO_APPROACHES))
        for key, table in tables.items()
        if key in CHARTS
    }


def _page_handler(page: Page) -> Callable[..., Response]:
    """The handler of one dashboard page: every page takes the same filters."""

    def show(
        request: Request,
        instance: InstanceDep,
        user: ReadOnlyAuditReader,
        db: ReadSession,
        start: From = "",
        end: To = "",
        site: str = "",
    ) -> Response:
        reach = reach_of(user)
        context = {
            "page": page,
            "pages": PAGES,
            "sites": [] if reach.site_id else list_sites(db),
            "site_lead": reach.site_id is not None,
            "form": {"from": start[:DATE_LENGTH], "to": end[:DATE_LENGTH], "site": site[:16]},
            "table_cells": cells,
        }
        try:
            filters = _filters(instance, db, user, start, end, site)
        except CohortError as exc:
            status = exc.status_code
            return render(request, "governance.html", status_code=status, error=exc, **context)
        tables = page_tables(db, page, filters, reach, instance.settings.research_store_path)
        return render(
            request,
            "governance.html",
            filters=filters,
            query=filters.query(),
            tables=tables,
            charts=_charts(request, tables),
            **context,
            **_extras(db, page, filters),
        )

    return show


for _key, _page in PAGE_BY_KEY.items():
    router.add_api_route(
        _page.path,
        _page_handler(_page),
        methods=["GET"],
        name=ROUTE_NAMES.get(_key, _key),
        summary=SUMMARIES.get(_key),
    )


@router.post("/governance/access/verify")
def verify_chain(user: AuditReader, db: DbSession) -> Response:
    """Check the audit chain now; the verdict is kept in the chain and shown on the page."""
    access.check_chain(db, actor=user.username)
    return RedirectResponse("/governance/access#audit-chain", status_code=303)


@router.get("/governance/download")
def download(
    user: ReadOnlyAuditReader,
    db: ReadSession,
    instance: InstanceDep,
    origin: Source,
    table: str = "",
    publishable: bool = False,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    """One table as CSV; the download is recorded in the audit trail."""
    filters = _filters(instance, db, user, start, end, site)
    settings = instance.settings
    built = build(db, table, filters, reach_of(user), settings.research_store_path)
    text = table_csv(
        built,
        publishable=publishable,
        threshold=settings.sdc_threshold,
        rounding=settings.sdc_rounding,
    )
    chosen = filters.query()
    with session_scope(instance.engine) as writing:  # on disk before the file is sent
        audit.record(
            writing,
            actor=user.username,
            action="governance.download",
            source=origin,
            detail={"table": built.key, "publishable": publishable, **chosen},
        )
    name = "_".join([built.key, *chosen.values(), *(["publishable"] if publishable else [])])
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
