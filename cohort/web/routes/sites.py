"""Sites of the network: the admin pages and ``/api/v1/sites``."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cohort.errors import CohortError
from cohort.sites import add_site, list_sites
from cohort.web.deps import AdminUser, CurrentUser, DbSession
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["sites"])

TITLE = N_("Manage sites")


class SiteIn(BaseModel):
    code: str
    name: str


class SiteOut(BaseModel):
    code: str
    name: str


@router.get("/admin/sites", summary=TITLE)
def sites_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    return render(request, "sites.html", sites=list_sites(db), form={})


@router.post("/admin/sites")
def add_site_form(
    request: Request,
    user: AdminUser,
    db: DbSession,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    try:
        site = add_site(db, code, name, actor=user.username)
    except CohortError as exc:
        form = {"code": code, "name": name}
        return render(
            request,
            "sites.html",
            status_code=exc.status_code,
            sites=list_sites(db),
            form=form,
            error=exc,
        )
    return render(request, "sites.html", sites=list_sites(db), form={}, added=site)


@api.get("/sites")
def sites(user: CurrentUser, db: DbSession) -> list[SiteOut]:
    """Every site of the network, by code."""
    return [SiteOut.model_validate(s, from_attributes=True) for s in list_sites(db)]


@api.post("/sites", status_code=201)
def create_site(body: SiteIn, user: AdminUser, db: DbSession) -> SiteOut:
    """Add a site (administrators); the code is upper-cased and must be new."""
    site = add_site(db, body.code, body.name, actor=user.username)
    return SiteOut.model_validate(site, from_attributes=True)
