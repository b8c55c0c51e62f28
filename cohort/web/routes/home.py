"""The home page: who you are, and the pages your role can use."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cohort.models import ROLES
from cohort.sites import get_site_by_id
from cohort.web.deps import CurrentUser, DbSession
from cohort.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: CurrentUser, db: DbSession) -> Response:
    tasks = request.app.state.tasks
    return render(
        request,
        "home.html",
        site=get_site_by_id(db, user.site_id) if user.site_id else None,
        role_tasks=[(role, [t.title for t in tasks if role in t.roles]) for role in ROLES],
    )
