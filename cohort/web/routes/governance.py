"""The governance dashboard: consent rates, representativeness, withdrawals and access,
for governance leads (their site, or the network) and administrators. Thin: it reads the
filters, asks ``cohort.governance`` for the figures and renders them; every table also
downloads as CSV, plain or publishable (disclosure control applied)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from cohort import audit, i18n
from cohort.errors import CohortError
from cohort.governance import access, linkage, rollup, withdrawals
from cohort.governance.charts import bar_chart, line_chart, rates_of
from cohort.governance.csv_export import table_csv
from cohort.governance.dashboard import PAGES, Page, build, page_tables
from cohort.governance.filters import DATE_LENGTH, Filters, parse_filters
from cohort.governance.reach import reach_of
from cohort.governance.tables import cells
from cohort.models import User
from cohort.sites import list_sites
from cohort.web import ui_language
from cohort.web.deps import AuditReader, DbSession, InstanceDep, Source
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)

TITLE = N_("Governance dashboard")
NO_APPROACHES = N_("no approaches")
From = Annotated[str, Query(alias="from")]
To = Annotated[str, Query(alias="to")]
PAGE_BY_KEY = {page.key: page for page in PAGES}
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


def _filters(db: DbSession, user: User, start: str, end: str, site: str) -> Filters:
    """The filters, once any day closed since the last request is rolled up."""
    rollup.roll_up(db)
    today = datetime.now(UTC).date()
    return parse_filters(db, reach_of(user), start=start, end=end, site=site, today=today)


def _extras(db: DbSession, page: Page, filters: Filters) -> dict:
    """What a page shows besides its tables."""
    if page.key == "withdrawals":
        return {"time_to_withdrawal": withdrawals.time_to_withdrawal(db, filters)}
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


def _page(request, user, db, page: Page, start: str, end: str, site: str) -> Response:
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
        filters = _filters(db, user, start, end, site)
    except CohortError as exc:
        return render(request, "governance.html", status_code=exc.status_code, error=exc, **context)
    tables = page_tables(db, page, filters, reach)
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


@router.get("/governance", summary=TITLE)
def overview(
    request: Request,
    user: AuditReader,
    db: DbSession,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    return _page(request, user, db, PAGE_BY_KEY["overview"], start, end, site)


@router.get("/governance/breakdowns")
def breakdowns(
    request: Request,
    user: AuditReader,
    db: DbSession,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    return _page(request, user, db, PAGE_BY_KEY["breakdowns"], start, end, site)


@router.get("/governance/representativeness")
def representativeness(
    request: Request,
    user: AuditReader,
    db: DbSession,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    return _page(request, user, db, PAGE_BY_KEY["representativeness"], start, end, site)


@router.get("/governance/withdrawals")
def withdrawals_page(
    request: Request,
    user: AuditReader,
    db: DbSession,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    return _page(request, user, db, PAGE_BY_KEY["withdrawals"], start, end, site)


@router.get("/governance/access")
def access_page(
    request: Request,
    user: AuditReader,
    db: DbSession,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    return _page(request, user, db, PAGE_BY_KEY["access"], start, end, site)


@router.post("/governance/access/verify")
def verify_chain(user: AuditReader, db: DbSession) -> Response:
    """Check the audit chain now; the verdict is kept in the chain and shown on the page."""
    access.check_chain(db, actor=user.username)
    return RedirectResponse("/governance/access#audit-chain", status_code=303)


@router.get("/governance/download")
def download(
    user: AuditReader,
    db: DbSession,
    instance: InstanceDep,
    origin: Source,
    table: str = "",
    publishable: bool = False,
    start: From = "",
    end: To = "",
    site: str = "",
) -> Response:
    """One table as CSV; the download is recorded in the audit trail."""
    filters = _filters(db, user, start, end, site)
    built = build(db, table, filters, reach_of(user))
    settings = instance.settings
    text = table_csv(
        built,
        publishable=publishable,
        threshold=settings.sdc_threshold,
        rounding=settings.sdc_rounding,
    )
    chosen = filters.query()
    audit.record(
        db,
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
