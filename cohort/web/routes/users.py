"""Staff accounts: the admin pages and ``/api/v1/users``."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from cohort.auth import users
from cohort.errors import CohortError
from cohort.i18n import Message
from cohort.sites import list_sites
from cohort.web.deps import AdminUser, DbSession
from cohort.web.pages import render
from forms.i18n import N_

router = APIRouter(include_in_schema=False)
api = APIRouter(tags=["users"])

TITLE = N_("Manage users")
ADDED = N_("User %(username)s added.")
DISABLED = N_("User %(username)s disabled.")


class UserOut(BaseModel):
    username: str
    full_name: str
    role: str
    site: str | None
    projects: list[str]
    active: bool


def _page(request: Request, db: DbSession, *, status_code: int = 200, form=None, **context):
    return render(
        request,
        "users.html",
        status_code=status_code,
        users=users.list_users(db),
        sites=list_sites(db),
        form=form or {},
        **context,
    )


@router.get("/admin/users", summary=TITLE)
def users_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    return _page(request, db)


@router.post("/admin/users")
def add_user(
    request: Request,
    user: AdminUser,
    db: DbSession,
    username: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    site: Annotated[str, Form()] = "",
    projects: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        added = users.create_user(
            db,
            username=username,
            full_name=full_name,
            role=role,
            password=password,
            site_code=site or None,
            project_codes=projects.split(","),
            actor=user.username,
        )
    except CohortError as exc:
        form = {
            "username": username,
            "full_name": full_name,
            "role": role,
            "site": site,
            "projects": projects,
        }
        return _page(request, db, status_code=exc.status_code, form=form, error=exc)
    return _page(request, db, done=Message(ADDED, {"username": added.username}))


@router.post("/admin/users/{username}/disable")
def disable_user(request: Request, user: AdminUser, db: DbSession, username: str) -> Response:
    try:
        disabled = users.disable_user(db, username, actor=user.username)
    except CohortError as exc:
        return _page(request, db, status_code=exc.status_code, error=exc)
    return _page(request, db, done=Message(DISABLED, {"username": disabled.username}))


@api.get("/users")
def list_users(user: AdminUser, db: DbSession) -> list[UserOut]:
    """Every staff account (administrators)."""
    return [UserOut.model_validate(u, from_attributes=True) for u in users.list_users(db)]
